r"""Fit a conditioned field $u_\theta(x; \mu)$ to solution snapshots of a parametric family.

The data are $S$ snapshots, one per parameter value $\mu_s$, each sampled on the same $N$
points $x_j$ (a reference solver's grid, flattened). Each step draws `batch_size` of the
points at random for every snapshot and takes one optimiser step on

$$L(\theta) = \frac{1}{S\,B\,M} \sum_{s=1}^{S} \sum_{j \in J_s}
  \|u_\theta(x_j; \mu_s) - u_{s j}\|^2,$$

so a conditioned field is called once per snapshot with its $\mu_s$ shared by the batch
(a `HyperSIREN` generates its weights once per snapshot, not once per point).
"""

from collections.abc import Callable
from typing import Any, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import positive_int

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
    if batch_size is not None:
        batch_size = positive_int("batch_size", batch_size)
    if optimizer is None:
        optimizer = optax.adam(learning_rate)
    params, static = eqx.partition(field, eqx.is_inexact_array)
    return _run(params, static, coords, mu, values, key, optimizer, steps, batch_size)


def _snapshot_loss(field: Callable, coords, mu, values, index) -> Array:
    def one(mu_s, values_s, index_s):
        x, y = (coords, values_s) if index_s is None else (coords[index_s], values_s[index_s])
        pred = jnp.asarray(field(x, mu_s))
        return jnp.mean((pred.reshape(y.shape) - y) ** 2)

    if index is None:
        return jnp.mean(jax.vmap(lambda m, v: one(m, v, None))(mu, values))
    return jnp.mean(jax.vmap(one)(mu, values, index))


@eqx.filter_jit
def _run(
    params, static, coords, mu, values, key, optimizer, steps, batch_size
) -> tuple[Any, Array]:
    n_snap, n_points = values.shape[:2]

    def loss_of(p, index):
        return _snapshot_loss(eqx.combine(p, static), coords, mu, values, index)

    def step(carry, k):
        p, state = carry
        index = (
            None if batch_size is None else jax.random.randint(k, (n_snap, batch_size), 0, n_points)
        )
        loss, grads = jax.value_and_grad(loss_of)(p, index)
        updates, state = optimizer.update(grads, state, p)
        return (optax.apply_updates(p, updates), state), loss

    keys = jax.random.split(key, steps)
    (params, _), losses = jax.lax.scan(step, (params, optimizer.init(params)), keys)
    return eqx.combine(params, static), losses
