r"""The guarded block: $K$ steps of one phase in one compiled `jax.lax.scan`.

Every step evaluates the objective at the current parameters and asks the phase for an
update; `guard` then decides whether the parameters were good (finite loss, not diverged)
and whether the update may be applied. A step that is not good freezes the state with its
`RESULTS` status, and at the end of the block a failed state hands back the last good
parameters. With a member axis the same block runs over a whole ensemble under
`jax.vmap`: each member has its own status, and a member that fails stops alone.
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from ._results import RESULTS
from ._state import TrainState, guard, select


def _block(objective, phase, state: TrainState, batch, xs, length: int, divergence_factor):
    # The scan carries the state's arrays as a flat tuple in the order (parameters,
    # optimiser state, best loss, status, last good parameters, step): with the TrainState
    # itself as the carry, XLA's buffer assignment made every step about 6% slower.
    def step(carry, x):
        params, opt_state, best, result, last_good, count = carry
        current = TrainState(
            params=params,
            opt_state=opt_state,
            phase=state.phase,
            step=count,
            best_loss=best,
            last_good=last_good,
            result=result,
        )
        loss, parts, grads, new_params, new_opt, breakdown = phase.update(
            objective, params, opt_state, batch, x
        )
        result, good, apply = guard(current, loss, grads, breakdown, divergence_factor)
        last_good = select(good, params, last_good)
        params = select(apply, new_params, params)
        opt_state = select(apply, new_opt, opt_state)
        best = jnp.where(good, jnp.minimum(best, loss), best).astype(best.dtype)
        return (params, opt_state, best, result, last_good, count + 1), (loss, parts, result)

    carry = (
        state.params,
        state.opt_state,
        state.best_loss,
        state.result,
        state.last_good,
        state.step,
    )
    carry, (loss, parts, results) = jax.lax.scan(step, carry, xs, length=length)
    params, opt_state, best, result, last_good, count = carry
    # a failed state hands back the last parameters whose loss was good
    params = select(result == RESULTS.running, params, last_good)
    state = TrainState(
        params=params,
        opt_state=opt_state,
        phase=state.phase,
        step=count,
        best_loss=best,
        last_good=last_good,
        result=result,
    )
    return state, loss, parts, results


@eqx.filter_jit
def run_block(
    objective: Any,
    phase: Any,
    state: TrainState,
    batch: Any,
    xs: Any,
    length: int,
    divergence_factor: float | None,
    member_axes: Any = None,
):
    """Run `length` guarded steps of `phase` from `state` (one compiled program).

    Args:
        objective: the `AbstractObjective`.
        phase: the `AbstractPhase`.
        state: the `TrainState` (with a leading member axis when `member_axes` is given).
        batch: the block's batch, fixed over its steps.
        xs: per-step inputs stacked on a leading axis of length `length`, or ``None``.
        length: steps in the block.
        divergence_factor: see `guard`.
        member_axes: ``None`` for one run, else ``(batch_axes, xs_axes)``: the
            `jax.vmap` axes of `batch` and `xs` (``None`` for what the members share).

    Returns:
        ``(state, losses, parts, results)``: the new state and, per step, the loss, its
        parts and the status (each with the member axis first under `member_axes`).
    """

    def body(state, batch, xs):
        return _block(objective, phase, state, batch, xs, length, divergence_factor)

    if member_axes is not None:
        batch_axes, xs_axes = member_axes
        body = jax.vmap(body, in_axes=(0, batch_axes, xs_axes))
    return body(state, batch, xs)
