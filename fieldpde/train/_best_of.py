r"""Several initialisations, one run: probe each briefly, then train the best one to the end.

Stiff PINN losses (Burgers with a shock, say) have basins that a run cannot leave: from
one initialisation L-BFGS reaches a loss of 1e-5, from another it stalls at 0.5 with a
smooth, shock-free field. Which basin a run falls into shows within a few hundred steps.
`fit_best_of` runs each of several initial fields for those steps and lets the one with
the lowest loss run on: its state (optimiser, schedule, L-BFGS memory, points) simply
continues, so the chosen start ends exactly where a single `fit` from it would.
"""

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from jaxtyping import PRNGKeyArray

from .._atomic import check_target
from .._checks import positive_int
from ..problem import Problem
from ._fit import FitResult, prepare_fit


def fit_best_of(
    problem: Problem,
    fields: Sequence[Any],
    *,
    key: PRNGKeyArray,
    probe_steps: int,
    **kwargs: Any,
) -> FitResult:
    r"""Run each of `fields` for `probe_steps` steps, then continue the lowest-loss one.

    The probe is the first `probe_steps` steps of the full run (of its phases in order);
    the chosen start's training state then runs on. A start whose probe ends in NaN or
    divergence is never chosen while another is still running.

    Args:
        problem: the `Problem`.
        fields: the initial fields (e.g. the same architecture under different keys).
        key: PRNG key for collocation sampling, shared by every start.
        probe_steps: steps each start gets before the choice.
        **kwargs: anything else `fit` takes (``phases`` or ``steps``, ``lbfgs_steps``,
            ``learning_rate``, ``progress``, ...); ``checkpoint`` is written by the chosen
            start only, ``resume`` is refused (resume the checkpoint with `fit`).

    Returns:
        The `FitResult` of the chosen start: the same as `fit` from that start, with
        ``wall_time`` including every probe and a ``message`` listing each start's probe
        loss.

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
    probe_steps = positive_int("probe_steps", probe_steps)
    checkpoint = kwargs.pop("checkpoint", None)
    t0 = time.perf_counter()
    runs = [prepare_fit(problem, f, key=key, **kwargs) for f in fields]
    whys = [run.advance(until=probe_steps) for run in runs]
    losses = [
        run.record.latest()[0] if why in ("paused", "completed") else np.inf
        for run, why in zip(runs, whys, strict=True)
    ]
    best = int(np.argmin(losses)) if np.isfinite(min(losses)) else 0
    chosen, why = runs[best], whys[best]
    summary = ", ".join(f"{v:.3g}" for v in losses)
    message = f"best of {len(fields)} starts (probe losses {summary}): start {best}; "
    # the probes write no checkpoint; the chosen start does from here on
    chosen.checkpoint = (
        None
        if checkpoint is None
        else str(check_target(checkpoint, "checkpoint", example="run.ckpt"))
    )
    if why == "paused":
        why = chosen.advance()
    result = chosen.result(why)
    return FitResult(
        field=result.field,
        params=result.params,
        history=result.history,
        status=result.status,
        message=message + result.message,
        steps=result.steps,
        wall_time=time.perf_counter() - t0,
        state=result.state,
    )
