r"""The training state, and the guard that keeps it sane step by step.

A `TrainState` is everything a run needs to continue: the trainable arrays, the current
phase's optimiser state, the step reached in that phase, the best finite loss so far, the
last parameters whose loss was good, and a `RESULTS` status. It is an immutable pytree, so
a run can be checkpointed at any block, and an ensemble is the same state with a leading
member axis on every array, trained by `jax.vmap`.
"""

from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

from ._results import RESULTS


@final
class TrainState(eqx.Module):
    """Where a training run stands.

    Attributes:
        params: the trainable arrays (the inexact-array leaves of the field and the PDE
            coefficients); the rest of the model is static and lives with the objective.
        opt_state: the optimiser state of the current phase.
        phase: the index of the current phase in the run's phase list.
        step: steps taken in the current phase.
        best_loss: the lowest finite loss seen so far (``inf`` before the first step).
        last_good: the last parameters whose loss was finite and not diverged: what a run
            that fails hands back.
        result: a `RESULTS` item; anything but ``RESULTS.running`` freezes the state.

    Example:
        >>> import jax.numpy as jnp, optax
        >>> from fieldpde.train import Adam
        >>> state = TrainState.init(Adam(10), {"w": jnp.zeros(2)})
        >>> int(state.step), float(state.best_loss), state.ok
        (0, inf, True)
    """

    params: Any
    opt_state: Any
    phase: int = eqx.field(static=True)
    step: Int[Array, ""]
    best_loss: Float[Array, ""]
    last_good: Any
    result: RESULTS

    @classmethod
    def init(
        cls,
        phase: Any,
        params: Any,
        *,
        index: int = 0,
        best_loss: Any = None,
        result: RESULTS | None = None,
    ) -> "TrainState":
        """The state at the start of `phase` (the `index`-th of the run) from `params`.

        Args:
            phase: the `AbstractPhase` (its ``init`` gives the optimiser state, its
                ``dtype`` may cast the parameters).
            params: the trainable arrays.
            index: the phase's position in the run's phase list.
            best_loss: the best loss so far (default ``inf``), carried over from the
                previous phase.
            result: the status carried over (default ``RESULTS.running``).

        Returns:
            A `TrainState` at step 0 of the phase.
        """
        params = phase.cast(params)
        if best_loss is None:
            best_loss = jnp.inf
        return cls(
            params=params,
            opt_state=phase.init(params),
            phase=index,
            step=jnp.asarray(0, dtype=jnp.int32),
            best_loss=jnp.asarray(best_loss, dtype=jnp.result_type(float)),
            last_good=params,
            result=RESULTS.running if result is None else result,
        )

    @property
    def ok(self) -> bool:
        """Whether the (unbatched) state is still running."""
        return bool(self.result == RESULTS.running)


def all_finite(tree: Any) -> Bool[Array, ""]:
    """Whether every inexact leaf of `tree` is finite."""
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree) if eqx.is_inexact_array(x)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)


def select(flag: Bool[Array, ""], new: Any, old: Any) -> Any:
    """`new` where `flag`, else `old`, leaf by leaf."""
    return jax.tree.map(lambda a, b: jnp.where(flag, a, b), new, old)


def guard(
    state: TrainState,
    loss: Float[Array, ""],
    grads: Any,
    breakdown: RESULTS,
    divergence_factor: float | None,
) -> tuple[RESULTS, Bool[Array, ""], Bool[Array, ""]]:
    r"""Judge a step from the loss at the current parameters and the proposed update.

    The current parameters are *good* when the state is running, the loss is finite and
    it has not diverged: $L - L_\mathrm{best} > (f - 1)\,|L_\mathrm{best}|$ for the
    `divergence_factor` $f$ (for positive losses, $L > f L_\mathrm{best}$; the form also
    serves negative log-densities). The update is *applied* when the parameters are good,
    the gradient is finite and the phase reported no breakdown.

    Returns:
        ``(result, good, apply)``: the new status and the two flags.
    """
    running = state.result == RESULTS.running
    finite = jnp.isfinite(loss) & all_finite(grads)
    if divergence_factor is None:
        diverged = jnp.array(False)
    else:
        best = state.best_loss
        diverged = (
            jnp.isfinite(best)
            & (best != 0)
            & (loss - best > (divergence_factor - 1.0) * jnp.abs(best))
        )
    good = running & jnp.isfinite(loss) & ~diverged
    broke = breakdown != RESULTS.running
    apply = good & finite & ~broke
    result = RESULTS.where(
        running & ~finite,
        RESULTS.nonfinite,
        RESULTS.where(
            running & diverged,
            RESULTS.diverged,
            RESULTS.where(running & broke, breakdown, state.result),
        ),
    )
    return result, good, apply
