r"""Fit a conditioned field $u_\theta(x; \mu)$ to solution snapshots of a parametric family.

The data are $S$ snapshots, one per parameter value $\mu_s$, each sampled on the same $N$
points $x_j$ (a reference solver's grid, flattened). Each step draws `batch_size` of the
points at random for every snapshot and takes one optimiser step on

$$L(\theta) = \frac{1}{S\,B\,M} \sum_{s=1}^{S} \sum_{j \in J_s}
  \|u_\theta(x_j; \mu_s) - u_{s j}\|^2,$$

so a conditioned field is called once per snapshot with its $\mu_s$ shared by the batch
(a `HyperSIREN` generates its weights once per snapshot, not once per point).
"""

import warnings
from collections.abc import Callable
from typing import Any, TypeVar, final

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import as_key, positive_float, positive_int
from ._engine import Engine, Record
from ._objective import AbstractObjective, trainable_split
from ._phases import Optax

M = TypeVar("M")


def _as_snapshots(coords, mu, values) -> tuple[Array, Array, Array]:
    coords, mu, values = jnp.asarray(coords), jnp.asarray(mu), jnp.asarray(values)
    if coords.ndim != 2:
        raise ValueError(f"`coords` must have shape (N, d), one row per point, got {coords.shape}")
    if mu.ndim != 2:
        raise ValueError(
            f"`mu` must have shape (S, P), one parameter vector per snapshot, got {mu.shape}; "
            "for a scalar parameter pass mu[:, None]"
        )
    if values.ndim == 2:
        values = values[..., None]
    if values.ndim != 3 or values.shape[:2] != (mu.shape[0], coords.shape[0]):
        raise ValueError(
            f"`values` must have shape (S, N) or (S, N, M) with S = {mu.shape[0]} snapshots "
            f"(rows of `mu`) and N = {coords.shape[0]} points (rows of `coords`), "
            f"got {values.shape}"
        )
    return coords, mu, values


def fit_snapshots(
    field: M,
    coords: Float[Array, "n d"],
    mu: Float[Array, "s p"],
    values: Float[Array, "s n *m"],
    *,
    steps: int,
    key: PRNGKeyArray,
    batch_size: int | None = None,
    optimizer: optax.GradientTransformation | None = None,
    learning_rate: float = 1e-3,
) -> tuple[M, Float[Array, " steps"]]:
    """Train `field` on snapshots by mini-batch least squares, all steps in one compiled loop.

    Args:
        field: a conditioned field called as ``field(x, mu)`` with ``x`` of shape ``(B, d)``
            and ``mu`` of shape ``(P,)``, returning ``(B, M)`` (a `HyperSIREN`, a
            `ConditionedINR`, or any equinox module with that signature).
        coords: the points shared by every snapshot, shape ``(N, d)``.
        mu: one parameter vector per snapshot, shape ``(S, P)``.
        values: the solution at every point of every snapshot, shape ``(S, N, M)``, or
            ``(S, N)`` for a scalar field.
        steps: number of optimiser updates (>= 1).
        key: PRNG key for the point batches (keyword-only).
        batch_size: points drawn (with replacement) per snapshot and step; None uses every
            point of every snapshot each step (full batch).
        optimizer: any `optax.GradientTransformation` (default: Adam at `learning_rate`).
        learning_rate: used only when `optimizer` is None.

    Returns:
        The trained field and the mini-batch loss before each update, shape ``(steps,)``.

    Raises:
        ValueError: `coords`, `mu` and `values` whose shapes do not agree, or a non-positive
            `steps` or `batch_size`.

    Example:
        >>> import equinox as eqx, jax, jax.numpy as jnp
        >>> class Linear(eqx.Module):  # the model u = a mu x + b
        ...     a: jax.Array
        ...     b: jax.Array
        ...     def __call__(self, x, mu):
        ...         return self.a * mu * x + self.b
        >>> x = jnp.linspace(-1.0, 1.0, 50)[:, None]
        >>> mu = jnp.array([[0.5], [1.0], [2.0]])
        >>> values = mu[:, None, :] * x  # the family u(x; mu) = mu x, shape (3, 50, 1)
        >>> fitted, losses = fit_snapshots(Linear(jnp.array(0.0), jnp.array(0.0)), x, mu,
        ...                                values, steps=300, batch_size=16,
        ...                                learning_rate=0.05, key=jax.random.key(0))
        >>> round(float(fitted.a), 2), round(float(fitted.b), 2), bool(losses[-1] < 1e-6)
        (1.0, 0.0, True)
    """
    steps = positive_int("steps", steps)
    coords, mu, values = _as_snapshots(coords, mu, values)
    key = as_key(key, "key")
    if batch_size is not None:
        batch_size = positive_int("batch_size", batch_size)
    if optimizer is None:
        optimizer = optax.adam(positive_float("learning_rate", learning_rate))
    params, static = trainable_split(field)
    objective = SnapshotObjective(static=static, batch_size=batch_size)
    keys = jax.random.split(key, steps)
    engine = Engine(
        objectives=(objective,),
        phases=(Optax(steps, optimizer, resample_every=steps),),
        sample=lambda index, phase, k, p: (coords, mu, values),
        step_inputs=lambda index, phase, start, length: keys[start : start + length],
        key=key,
    )
    record = Record(())
    state, why = engine.run(engine.start(params), record)
    if why == "failed":
        warnings.warn(
            f"fit_snapshots stopped at step {record.steps}: the loss or its gradient became "
            "non-finite (or diverged); returned the last field with a finite loss",
            RuntimeWarning,
            stacklevel=2,
        )
    return objective.model(state.params), jnp.asarray(record.arrays()["loss"])


def _snapshot_loss(field: Callable, coords, mu, values, index) -> Array:
    def one(mu_s, values_s, index_s):
        x, y = (coords, values_s) if index_s is None else (coords[index_s], values_s[index_s])
        pred = jnp.asarray(field(x, mu_s))
        return jnp.mean((pred.reshape(y.shape) - y) ** 2)

    if index is None:
        return jnp.mean(jax.vmap(lambda m, v: one(m, v, None))(mu, values))
    return jnp.mean(jax.vmap(one)(mu, values, index))


@final
class SnapshotObjective(AbstractObjective):
    """Mean squared error over snapshots, on a random batch of points per step.

    The batch is ``(coords, mu, values)``; a step's input is its key, from which it draws
    `batch_size` point indices per snapshot (all points when ``None``).
    """

    static: Any
    batch_size: int | None = eqx.field(static=True)
    names: tuple[str, ...] = eqx.field(static=True, default=())

    def model(self, params: Any) -> Any:
        return eqx.combine(params, self.static)

    def __call__(self, params, batch, k):
        coords, mu, values = batch
        n_snap, n_points = values.shape[:2]
        index = None
        if self.batch_size is not None:
            index = jax.random.randint(k, (n_snap, self.batch_size), 0, n_points)
        field = eqx.combine(params, self.static)
        return _snapshot_loss(field, coords, mu, values, index), {}
