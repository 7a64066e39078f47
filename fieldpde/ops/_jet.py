r"""Forward-Laplacian jets: value, directional derivatives and Laplacian carried together.

A `Jet` describes a batch of hidden vectors $h(x) \in \mathbb{R}^w$ at points $x$ by
$(h, \partial_{e_1} h, \dots, \partial_{e_k} h, \sum_i \partial^2_{e_i} h)$. Layers map jets
to jets with closed-form rules, so one forward pass gives value, gradient and Laplacian:

* affine map $z = hW + b$: every part is multiplied by $W$; only the value gets $b$;
* elementwise $\sigma$: $\partial z' = \sigma'(z)\,\partial z$ and
  $\Delta z' = \sigma'(z)\,\Delta z + \sigma''(z) \sum_i (\partial_{e_i} z)^2$.

This costs about $(k + 2)$ forward passes of matrix products instead of the $O(k)$
extra reverse passes a nested-autodiff Laplacian pays per point.
"""

from collections.abc import Callable
from typing import final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._types import Dims
from ._dims import resolve_dims
from ._trig import sincos

_TRANSPOSED_WEIGHT_GRAD_FROM = 32


@jax.custom_jvp
def _rows_matmul(rows: Array, W: Array) -> Array:
    return rows @ W


def _is_zero(t: object) -> bool:
    return isinstance(t, jax.custom_derivatives.SymbolicZero)


def _rows_matmul_jvp(primals, tangents):
    # The weight tangent goes through a transposed copy of `rows` that XLA may not fold
    # away: reverse mode then takes the weight gradient as a plain (w, N) @ (N, o)
    # product, which XLA's CPU backend runs about 1.3x faster than the contraction over
    # the leading axis it would otherwise emit (benchmarks/step_profile.py).
    rows, W = primals
    d_rows, d_W = tangents
    out = rows @ W
    tangent = None
    if not _is_zero(d_rows):
        tangent = d_rows @ W
    if not _is_zero(d_W):
        rows_t = jax.lax.optimization_barrier(rows.T)
        term = rows_t.T @ d_W
        tangent = term if tangent is None else tangent + term
    if tangent is None:
        tangent = jnp.zeros_like(out)
    return out, tangent


_rows_matmul.defjvp(_rows_matmul_jvp, symbolic_zeros=True)


def laplacian_rows(dims: Dims, laplacian_dims: Dims, d: int) -> tuple[int, ...] | None:
    """Positions within `dims` of the `laplacian_dims` coordinates (``None``: all of them)."""
    idx = resolve_dims(dims, d)
    if laplacian_dims is None:
        return None
    lap_idx = resolve_dims(laplacian_dims, d)
    missing = [i for i in lap_idx if i not in idx]
    if missing:
        raise ValueError(
            f"`laplacian_dims` {laplacian_dims!r} includes coordinates {missing} that "
            f"`dims` {dims!r} does not differentiate along"
        )
    rows = tuple(idx.index(i) for i in lap_idx)
    return None if rows == tuple(range(len(idx))) else rows


@final
class Jet(eqx.Module):
    """Value, first derivatives along ``k`` coordinates, and Laplacian over them.

    Attributes:
        value: $h(x)$, shape ``(*batch, w)``.
        jac: $\\partial h / \\partial x_{i}$ for the ``k`` selected coordinates, shape
            ``(*batch, k, w)``.
        lap: $\\sum_i \\partial^2 h / \\partial x_i^2$ over the Laplacian coordinates,
            shape ``(*batch, w)``.
        lap_rows: which of the ``k`` derivative rows the Laplacian sums over (``None``: all),
            so a space-time jet can carry $\\partial_t$ and the spatial Laplacian together.
        seed_dims: set on the input jet only: ``jac`` is rows ``seed_dims`` of the identity
            and ``lap`` is zero, so the first layer takes rows of $W$ instead of products.

    Example:
        >>> import jax.numpy as jnp
        >>> jet = Jet.from_input(jnp.array([[0.5, 2.0]]))
        >>> out = jet.elementwise(jnp.square)   # h = (x1^2, x2^2)
        >>> out.jac[0].tolist(), out.lap[0].tolist()
        ([[1.0, 0.0], [0.0, 4.0]], [2.0, 2.0])
    """

    value: Float[Array, "*batch w"]
    jac: Float[Array, "*batch k w"]
    lap: Float[Array, "*batch w"]
    lap_rows: tuple[int, ...] | None = eqx.field(static=True, default=None)
    seed_dims: tuple[int, ...] | None = eqx.field(static=True, default=None)
    lap_zero: bool = eqx.field(static=True, default=False)

    @classmethod
    def from_input(
        cls, x: Float[Array, "*batch d"], dims: Dims = None, laplacian_dims: Dims = None
    ) -> "Jet":
        """The jet of the identity map at points `x`.

        Args:
            x: points, shape ``(*batch, d)``.
            dims: coordinates to take first derivatives along (default all).
            laplacian_dims: coordinates the Laplacian sums over (default: `dims`); each
                must also be in `dims`.
        """
        x = jnp.asarray(x)
        if x.ndim == 0:
            raise ValueError("`x` must have a last axis of coordinates, got a scalar")
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(jnp.result_type(float))
        idx = resolve_dims(dims, x.shape[-1])
        seeds = jnp.eye(x.shape[-1], dtype=x.dtype)[jnp.asarray(idx)]
        jac = jnp.broadcast_to(seeds, x.shape[:-1] + seeds.shape)
        rows = laplacian_rows(dims, laplacian_dims, x.shape[-1])
        return cls(
            value=x, jac=jac, lap=jnp.zeros_like(x), lap_rows=rows, seed_dims=idx, lap_zero=True
        )

    @property
    def num_dims(self) -> int:
        """Number ``k`` of coordinates differentiated along."""
        return self.jac.shape[-2]

    def linear(self, W: Float[Array, "i o"], b: Float[Array, " o"] | None = None) -> "Jet":
        """Apply $z = hW + b$ (the bias only shifts the value)."""
        value = self.value @ W
        if b is not None:
            value = value + b
        if self.seed_dims is None:
            return self._stacked_linear(W, b)
        # input jet: d(xW)/dx_i is row i of W, and the Laplacian of an affine map is zero
        rows = W[np.asarray(self.seed_dims)]
        jac = jnp.broadcast_to(rows, value.shape[:-1] + rows.shape)
        return self._replace(value, jac, jnp.zeros_like(value), lap_zero=True)

    def _stacked_linear(self, W: Array, b: Array | None) -> "Jet":
        # All k + 2 rows of every point through one matrix product: the backward pass then
        # takes the weight gradient as one contraction over rows and points, where one
        # product per part made XLA's CPU backend copy each part's cotangent transposed
        # (half the step at 4096 points, measured in benchmarks/step_roofline.py).
        width = self.value.shape[-1]
        batch = self.value.shape[:-1]
        k = self.jac.shape[-2]
        m = int(np.prod(batch, dtype=np.int64))
        rows = jnp.concatenate(
            [
                self.value.reshape(m, width),
                self.jac.reshape(m * k, width),
                self.lap.reshape(m, width),
            ]
        )
        o = W.shape[-1]
        # a narrow product (the readout) is a matrix-vector product either way, and a
        # transposed copy of its input costs more than it saves
        out = _rows_matmul(rows, W) if o >= _TRANSPOSED_WEIGHT_GRAD_FROM else rows @ W
        value = out[:m].reshape(batch + (o,))
        if b is not None:
            value = value + b
        jac = out[m : m + m * k].reshape(batch + (k, o))
        lap = out[m + m * k :].reshape(batch + (o,))
        return self._replace(value, jac, lap)

    def _replace(self, value: Array, jac: Array, lap: Array, *, lap_zero: bool = False) -> "Jet":
        return Jet(value=value, jac=jac, lap=lap, lap_rows=self.lap_rows, lap_zero=lap_zero)

    def _lap_sum(self, pairwise: Array) -> Array:
        """Sum a ``(*batch, k, w)`` array over the Laplacian rows."""
        if self.lap_rows is not None:
            pairwise = jnp.take(pairwise, np.asarray(self.lap_rows), axis=-2)
        return jnp.sum(pairwise, axis=-2)

    def _chain(self, f: Array, df: Array, d2f: Array) -> "Jet":
        jac = df[..., None, :] * self.jac
        lap = d2f * self._lap_sum(jnp.square(self.jac))
        if not self.lap_zero:
            lap = df * self.lap + lap
        return self._replace(f, jac, lap)

    def sine(self, omega: float = 1.0) -> "Jet":
        """Apply $\\sin(\\omega z)$, sharing one sine and one cosine evaluation."""
        s, c = sincos(omega * self.value)
        return self._chain(s, omega * c, -(omega**2) * s)

    def elementwise(self, fn: Callable[[Array], Array]) -> "Jet":
        """Apply an elementwise function; its first two derivatives come from `jax.jvp`."""

        def first(v):
            return jax.jvp(fn, (v,), (jnp.ones_like(v),))

        (f, df), (_, d2f) = jax.jvp(first, (self.value,), (jnp.ones_like(self.value),))
        return self._chain(f, df, d2f)

    def pointwise(self, fn: Callable[[Array], Array]) -> "Jet":
        r"""Apply a function of one vector, ``fn: (w,) -> (o,)`` or scalar, by the chain rule.

        With $g = \nabla f$ and $H = \nabla^2 f$ from autodiff at each point:
        $\partial_i f(h) = g\,\partial_i h$ and
        $\Delta f(h) = g\,\Delta h + \sum_i \partial_i h^\top H\, \partial_i h$.
        Meant for small maps (boundary data, distance functions of the coordinates).
        """
        v = self.value
        batch = v.shape[:-1]

        def f(h):
            return jnp.atleast_1d(jnp.asarray(fn(h), dtype=h.dtype))

        flat = v.reshape((-1, v.shape[-1]))
        value = jax.vmap(f)(flat)
        g = jax.vmap(jax.jacfwd(f))(flat)  # (N, o, w)
        H = jax.vmap(jax.hessian(f))(flat)  # (N, o, w, w)
        o = value.shape[-1]
        g = g.reshape(batch + (o, v.shape[-1]))
        H = H.reshape(batch + (o, v.shape[-1], v.shape[-1]))
        jac = jnp.einsum("...kw,...ow->...ko", self.jac, g)
        quad = jnp.einsum("...kw,...owv,...kv->...ko", self.jac, H, self.jac)
        lap = jnp.einsum("...w,...ow->...o", self.lap, g) + self._lap_sum(quad)
        return self._replace(value.reshape(batch + (o,)), jac, lap)

    def scale(self, a: float | Array) -> "Jet":
        """Multiply by a constant (or a constant per channel)."""
        return self._replace(a * self.value, a * self.jac, a * self.lap)

    def __add__(self, other: "Jet") -> "Jet":
        return self._replace(self.value + other.value, self.jac + other.jac, self.lap + other.lap)

    def __mul__(self, other: "Jet") -> "Jet":
        """Product rule: $\\Delta(fg) = f\\Delta g + g \\Delta f + 2 \\nabla f\\cdot\\nabla g$."""
        value = self.value * other.value
        jac = self.value[..., None, :] * other.jac + other.value[..., None, :] * self.jac
        cross = self._lap_sum(self.jac * other.jac)
        lap = self.value * other.lap + other.value * self.lap + 2.0 * cross
        return self._replace(value, jac, lap)
