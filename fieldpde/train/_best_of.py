r"""Several initialisations, one run: probe each briefly, then train the best one to the end.

Stiff PINN losses (Burgers with a shock, say) have basins that a run cannot leave: from
one initialisation L-BFGS reaches a loss of 1e-5, from another it stalls at 0.5 with a
smooth, shock-free field. Which basin a run falls into shows within a few hundred steps.
`fit_best_of` spends those steps on each of several initial fields and gives the rest of
the budget to the one with the lowest loss.
"""

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from jaxtyping import PRNGKeyArray

from .._checks import positive_int
from ..problem import Problem
from ._fit import FitResult, fit


def fit_best_of(
    problem: Problem,
    fields: Sequence[Any],
    *,
    key: PRNGKeyArray,
    probe_steps: int,
    steps: int = 5000,
    lbfgs_steps: int = 0,
    **kwargs: Any,
) -> FitResult:
    r"""`fit` each of `fields` for `probe_steps`, then continue the lowest-loss one.

    The probe is the first `probe_steps` optimiser steps of the full run (Adam first, then
    L-BFGS, as in `fit`); the chosen start then runs the remaining steps of each phase from
    where its probe stopped (a new Adam schedule or L-BFGS memory, the same collocation
    key). A start whose probe ends in NaN or divergence is never chosen while another
    completed.

    Args:
        problem: the `Problem`.
        fields: the initial fields (e.g. the same architecture under different keys).
        key: PRNG key for collocation sampling, shared by every start.
        probe_steps: optimiser steps each start gets before the choice.
        steps: first-order optimiser steps of the whole run.
        lbfgs_steps: L-BFGS steps of the whole run.
        **kwargs: anything else `fit` takes (learning rate, points, ``progress``, ...);
            ``checkpoint`` applies to the continued run only, ``resume`` is refused.

    Returns:
        The `FitResult` of the chosen start: its probe's history followed by the rest of
        the run, ``steps`` counting both, ``wall_time`` including every probe, and a
        ``message`` listing each start's probe loss.

    Raises:
        ValueError: `fields` is empty, `probe_steps` is not a positive integer, or
            ``resume`` is given.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde import SIREN, Problem
        >>> from fieldpde.constraints import Dirichlet
        >>> from fieldpde.domains import Interval
        >>> problem = Problem([Dirichlet(lambda x: jnp.sin(3 * x[0]), Interval(-1.0, 1.0))])
        >>> fields = [SIREN.init(1, 8, 1, depth=2, key=jax.random.key(i)) for i in range(3)]
        >>> result = fit_best_of(problem, fields, key=jax.random.key(9), probe_steps=5,
        ...                      steps=20, learning_rate=1e-3, progress=False)
        >>> result.steps, len(result.history["loss"]), result.message.startswith("best of 3")
        (20, 20, True)
    """
    fields = list(fields)
    if not fields:
        raise ValueError("`fields` must hold at least one initial field")
    if kwargs.get("resume") is not None:
        raise ValueError("`resume` is not supported by fit_best_of: resume the run with `fit`")
    # the probes write no checkpoints; the continued run writes them (if asked)
    later = {k: kwargs.pop(k) for k in ("checkpoint", "checkpoint_every") if k in kwargs}
    probe_steps = positive_int("probe_steps", probe_steps)
    steps, lbfgs_steps = int(steps), int(lbfgs_steps)
    adam_probe = min(steps, probe_steps)
    lbfgs_probe = min(lbfgs_steps, probe_steps - adam_probe)
    t0 = time.perf_counter()
    probes = [
        fit(problem, f, key=key, steps=adam_probe, lbfgs_steps=lbfgs_probe, **kwargs)
        for f in fields
    ]
    losses = [r.final_loss if r.ok else np.inf for r in probes]
    best = int(np.argmin(losses)) if np.isfinite(min(losses)) else 0
    chosen = probes[best]
    rest_adam, rest_lbfgs = steps - adam_probe, lbfgs_steps - lbfgs_probe
    summary = ", ".join(f"{v:.3g}" for v in losses)
    message = f"best of {len(fields)} starts (probe losses {summary}): start {best}; "
    if not chosen.ok or rest_adam + rest_lbfgs == 0:
        return _joined(chosen, None, message + chosen.message, time.perf_counter() - t0)
    kwargs = {**kwargs, **later, "params": chosen.params}
    rest = fit(
        problem,
        chosen.field,
        key=key,
        steps=rest_adam,
        lbfgs_steps=rest_lbfgs,
        **kwargs,
    )
    return _joined(chosen, rest, message + rest.message, time.perf_counter() - t0)


def _joined(first: FitResult, rest: FitResult | None, message: str, wall: float) -> FitResult:
    """`first` followed by `rest`: histories concatenated, the later field and status."""
    if rest is None:
        last, history, steps = first, first.history, first.steps
    else:
        last, steps = rest, first.steps + rest.steps
        history = {
            k: np.concatenate([first.history[k], rest.history[k]])
            for k in first.history
            if k in rest.history
        }
    return FitResult(
        field=last.field,
        params=last.params,
        history=history,
        status=last.status,
        message=message,
        steps=steps,
        wall_time=wall,
    )
