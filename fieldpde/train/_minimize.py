"""Minimise a loss of an equinox module with optax, all steps in one compiled, guarded loop."""

import warnings
from collections.abc import Callable
from typing import TypeVar

import jax.numpy as jnp
import optax
from jaxtyping import Array, Float

from .._checks import positive_float, positive_int
from ._engine import Engine, Record
from ._objective import LossObjective, count_trainable, trainable_split
from ._phases import Optax

M = TypeVar("M")


def minimize(
    loss_fn: Callable[[M], Float[Array, ""]],
    model: M,
    *,
    steps: int,
    optimizer: optax.GradientTransformation | None = None,
    learning_rate: float = 1e-3,
    divergence_factor: float | None = None,
) -> tuple[M, Float[Array, " steps"]]:
    """Run `steps` optimiser updates on the inexact-array leaves of `model`.

    The whole loop is one guarded block of the training engine (one `jax.lax.scan` under
    `eqx.filter_jit`), so it compiles once and runs without Python overhead per step.
    Non-array leaves (static config, activation names) are left untouched. A non-finite
    loss or gradient stops the run with a `RuntimeWarning` and returns the last model
    whose loss was finite.

    Args:
        loss_fn: scalar loss of the model, e.g. ``lambda net: jnp.mean((net(x) - y)**2)``.
        model: an equinox module (or any pytree) holding the trainable arrays.
        steps: number of updates (>= 1).
        optimizer: any `optax.GradientTransformation` (default: Adam at `learning_rate`).
        learning_rate: used only when `optimizer` is None.
        divergence_factor: also stop when the loss exceeds this multiple of the best one
            (default ``None``: losses may legitimately rise).

    Returns:
        The updated model and the loss before each update taken, shape ``(steps,)``
        (shorter if the run stopped).

    Example:
        >>> import jax.numpy as jnp
        >>> w, losses = minimize(lambda w: jnp.sum((w - 3.0) ** 2), jnp.zeros(2), steps=200,
        ...                      learning_rate=0.1)
        >>> bool(jnp.allclose(w, 3.0, atol=1e-2)), bool(losses[-1] < losses[0])
        (True, True)
    """
    steps = positive_int("steps", steps)
    if optimizer is None:
        optimizer = optax.adam(positive_float("learning_rate", learning_rate))
    params, static = trainable_split(model)
    if not count_trainable(params):
        raise ValueError("`model` has no trainable (floating-point array) leaves to minimise")
    objective = LossObjective(loss_fn=loss_fn, static=static)
    engine = Engine(
        objectives=(objective,),
        phases=(Optax(steps, optimizer, resample_every=steps),),
        divergence_factor=divergence_factor,
    )
    record = Record(())
    state, why = engine.run(engine.start(params), record)
    if why == "failed":
        warnings.warn(
            f"minimize stopped at step {record.steps}: the loss or its gradient became "
            "non-finite (or diverged); returned the last model with a finite loss",
            RuntimeWarning,
            stacklevel=2,
        )
    return objective.model(state.params), jnp.asarray(record.arrays()["loss"])
