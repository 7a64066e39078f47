"""Minimise a loss of an equinox module with optax, all steps in one compiled loop."""

from collections.abc import Callable
from typing import Any, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float

from .._checks import positive_int

M = TypeVar("M")


def minimize(
    loss_fn: Callable[[M], Float[Array, ""]],
    model: M,
    *,
    steps: int,
    optimizer: optax.GradientTransformation | None = None,
    learning_rate: float = 1e-3,
) -> tuple[M, Float[Array, " steps"]]:
    """Run `steps` optimiser updates on the inexact-array leaves of `model`.

    The whole loop is one `jax.lax.scan` under `eqx.filter_jit`, so it compiles once and
    runs without Python overhead per step. Non-array leaves (static config, activation
    names) are left untouched.

    Args:
        loss_fn: scalar loss of the model, e.g. ``lambda net: jnp.mean((net(x) - y)**2)``.
        model: an equinox module (or any pytree) holding the trainable arrays.
        steps: number of updates (>= 1).
        optimizer: any `optax.GradientTransformation` (default: Adam at `learning_rate`).
        learning_rate: used only when `optimizer` is None.

    Returns:
        The updated model and the loss before each update, shape ``(steps,)``.

    Example:
        >>> import jax.numpy as jnp
        >>> w, losses = minimize(lambda w: jnp.sum((w - 3.0) ** 2), jnp.zeros(2), steps=200,
        ...                      learning_rate=0.1)
        >>> bool(jnp.allclose(w, 3.0, atol=1e-2)), bool(losses[-1] < losses[0])
        (True, True)
    """
    steps = positive_int("steps", steps)
    if optimizer is None:
        optimizer = optax.adam(learning_rate)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    return _run(loss_fn, params, static, optimizer, steps)


@eqx.filter_jit
def _run(loss_fn, params, static, optimizer, steps: int) -> tuple[Any, jax.Array]:
    def loss_of(p):
        return loss_fn(eqx.combine(p, static))

    def step(carry, _):
        p, state = carry
        loss, grads = jax.value_and_grad(loss_of)(p)
        updates, state = optimizer.update(grads, state, p)
        return (optax.apply_updates(p, updates), state), loss

    (params, _), losses = jax.lax.scan(step, (params, optimizer.init(params)), length=steps)
    return eqx.combine(params, static), jnp.asarray(losses)
