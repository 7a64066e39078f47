r"""An ensemble of `fit`\ s as one vmapped program: one training state per member, stacked.

Member $e$ trains its own field on the same problem, drawing its own points with its own
key, exactly as ``fit(problem, field_e, key=key_e, ...)`` would; the members' states are
stacked on a leading axis and every block runs them all at once under `jax.vmap`. Each
member has its own status: a member whose loss turns non-finite or diverges stops with
its last good parameters, and the others train on unaffected.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, final

import equinox as eqx
import jax
import numpy as np
from jaxtyping import PRNGKeyArray

from ..problem import Problem
from ._fit import describe, prepare_fit
from ._members import report_failures
from ._phases import AbstractPhase


@final
@dataclass(frozen=True)
class EnsembleFitResult:
    """What `fit_ensemble` returns.

    Attributes:
        fields: the trained fields, stacked on a leading member axis.
        params: the members' PDE coefficients, stacked (``None`` if the problem has none).
        history: per member and step: ``"loss"``, one entry per constraint, ``(E, steps)``;
            ``"phase"`` per step; ``"failed_at"``: each member's first failed step (-1).
        status: each member's status (``"completed"``, ``"nan"``, ``"diverged"``, ...).
        message: a sentence for logs.
        steps: steps run.
        wall_time: seconds spent.

    Example:
        `fit_ensemble` builds it (see its example); ``ok`` says whether every member
        completed:

        >>> import numpy as np
        >>> out = EnsembleFitResult(fields=None, params=None,
        ...     history={"loss": np.array([[1.0, 0.5], [1.0, 0.7]])},
        ...     status=("completed", "diverged"), message="", steps=2, wall_time=0.1)
        >>> out.ok, out.final_losses.tolist()
        (False, [0.5, 0.7])
    """

    fields: Any
    params: Any
    history: dict[str, np.ndarray]
    status: tuple[str, ...]
    message: str
    steps: int
    wall_time: float

    @property
    def ok(self) -> bool:
        """Whether every member completed."""
        return all(s == "completed" for s in self.status)

    @property
    def final_losses(self) -> np.ndarray:
        """Each member's last loss."""
        return self.history["loss"][:, -1]


def fit_ensemble(
    problem: Problem,
    fields: Any,
    *,
    keys: PRNGKeyArray,
    phases: Sequence[AbstractPhase] | None = None,
    **kwargs: Any,
) -> EnsembleFitResult:
    r"""Train a stack of fields on one problem at once, each as its own `fit`.

    Args:
        problem: the `Problem`.
        fields: the initial fields stacked on a leading axis of length $E$ (e.g.
            ``eqx.filter_vmap(lambda k: SIREN.init(..., key=k))(jax.random.split(key, E))``).
        keys: $E$ sampling keys, one per member (``jax.random.split(key, E)``).
        phases: the phases, or `fit`'s simple keywords (``steps``, ``learning_rate``,
            ``lbfgs_steps``, ...) in `kwargs`; also ``dtype``, ``divergence_factor``,
            ``progress``, ``causal`` and ``params`` as in `fit` (``adaptive``,
            ``devices``, ``checkpoint`` and ``resume`` are not supported).

    Returns:
        An `EnsembleFitResult`; a `RuntimeWarning` names every member that stopped.

    Example:
        >>> import equinox as eqx, jax, jax.numpy as jnp
        >>> from fieldpde import SIREN
        >>> from fieldpde.constraints import Observations
        >>> x = jnp.linspace(-1, 1, 32)[:, None]
        >>> problem = Problem([Observations(x, jnp.sin(3 * x[:, 0]), batch_size=16)])
        >>> nets = eqx.filter_vmap(lambda k: SIREN.init(1, 16, 1, depth=3, key=k,
        ...     first_omega=3.0))(jax.random.split(jax.random.key(0), 4))
        >>> out = fit_ensemble(problem, nets, keys=jax.random.split(jax.random.key(1), 4),
        ...                    steps=300, resample_every=10, progress=False)
        >>> out.status, out.history["loss"].shape, bool((out.final_losses < 1e-2).all())
        (('completed', 'completed', 'completed', 'completed'), (4, 300), True)
    """
    t0 = time.perf_counter()
    sizes = {
        int(a.shape[0]) if a.ndim else 0 for a in jax.tree.leaves(eqx.filter(fields, eqx.is_array))
    }
    if len(sizes) != 1 or 0 in sizes:
        raise ValueError(
            "`fields` must stack the members on a leading axis of every array (build them "
            f"with eqx.filter_vmap), got leading sizes {sorted(sizes)}"
        )
    members = sizes.pop()
    if np.shape(keys)[:1] != (members,):
        raise ValueError(
            f"`keys` must hold one PRNG key per member ({members}, as `fields` stacks), got "
            f"shape {np.shape(keys)}"
        )
    run = prepare_fit(problem, fields, key=keys, phases=phases, members=members, **kwargs)
    run.advance()
    status, _ = report_failures("fit_ensemble", run.state, run.record)
    fields_out, params = run.engine.objectives[run.state.phase].model(run.state.params)
    done = sum(s == "completed" for s in status)
    return EnsembleFitResult(
        fields=fields_out,
        params=params,
        history=run.record.arrays(),
        status=status,
        message=f"{done} of {len(status)} members completed {describe(run.engine.phases)}",
        steps=run.record.steps,
        wall_time=time.perf_counter() - t0,
    )
