r"""Value, gradient and Laplacian of a field at a batch of points in one call.

Fields that know how to push a `Jet` through themselves (`SIREN`, `MLP`, and later
wrappers built from them) expose ``forward_laplacian(jet) -> Jet``; for those the three
quantities come out of a single forward pass of batched matrix products. Any other
callable falls back to pointwise autodiff batched with `jax.vmap`. Both paths give the same
numbers up to rounding.
"""

from collections.abc import Callable
from typing import Any, Literal, NamedTuple, final

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._types import Dims
from ._autodiff import jacobian, laplacian
from ._jet import Jet, laplacian_rows


@final
class FieldDerivatives(NamedTuple):
    """Value, gradient and Laplacian of a field at a batch of points.

    Attributes:
        value: ``(*batch, m)``, the field's output.
        grad: ``(*batch, m, k)``, derivatives along the ``k`` selected coordinates.
        laplacian: ``(*batch, m)``, the Laplacian over the selected coordinates.

    Example:
        >>> import jax.numpy as jnp
        >>> d = value_grad_laplacian(lambda x: x[..., :1] ** 3, jnp.array([[2.0]]))
        >>> isinstance(d, FieldDerivatives), d.value.tolist(), d.grad.tolist(), d.laplacian.tolist()
        (True, [[8.0]], [[[12.0]]], [[12.0]])
    """

    value: Float[Array, "*batch m"]
    grad: Float[Array, "*batch m k"]
    laplacian: Float[Array, "*batch m"]


def supports_forward_laplacian(field: Any) -> bool:
    """Whether `field` propagates jets itself (and so gets the one-pass fast path).

    Args:
        field: any callable field.

    Returns:
        True when `field` has a ``forward_laplacian`` method (`fieldpde.nn.SIREN`,
        `fieldpde.nn.MLP`, ...), so that `value_grad_laplacian` runs in one forward pass.

    Example:
        >>> import jax
        >>> from fieldpde.nn import SIREN
        >>> net = SIREN.init(2, 8, 1, depth=2, key=jax.random.key(0))
        >>> supports_forward_laplacian(net), supports_forward_laplacian(lambda x: x**2)
        (True, False)
    """
    return callable(getattr(field, "forward_laplacian", None))


def value_grad_laplacian(
    field: Callable[..., Any],
    x: Float[Array, "*batch d"],
    *,
    dims: Dims = None,
    laplacian_dims: Dims = None,
    method: Literal["auto", "forward", "autodiff"] = "auto",
) -> FieldDerivatives:
    r"""Value, gradient and Laplacian of `field` at the points `x`.

    Args:
        field: a field acting on the last axis, ``(..., d) -> (..., m)``, or any pointwise
            callable ``(d,) -> (m,)``.
        x: points, shape ``(*batch, d)``.
        dims: coordinates to differentiate along (default all; e.g. ``slice(0, -1)`` for
            the space part of space-time points).
        laplacian_dims: coordinates the Laplacian sums over (default: `dims`), e.g.
            ``dims=None, laplacian_dims=slice(0, -1)`` gives the full space-time gradient
            and the spatial Laplacian of ``(x, y, t)`` points in one pass.
        method: ``"auto"`` uses the forward-Laplacian pass when `field` supports it and
            autodiff otherwise; ``"forward"`` requires the fast pass; ``"autodiff"``
            forces the fallback (useful to cross-check).

    Returns:
        A `FieldDerivatives` with shapes ``(*batch, m)``, ``(*batch, m, k)``,
        ``(*batch, m)``.

    Example:
        >>> import jax.numpy as jnp
        >>> u = lambda p: jnp.array([p[0] ** 2 * p[1]])
        >>> d = value_grad_laplacian(u, jnp.array([[1.0, 2.0], [3.0, 1.0]]))
        >>> d.grad.tolist(), d.laplacian.tolist()
        ([[[4.0, 1.0]], [[6.0, 9.0]]], [[4.0], [2.0]])
    """
    if method not in ("auto", "forward", "autodiff"):
        raise ValueError(f"`method` must be 'auto', 'forward' or 'autodiff', got {method!r}")
    x = jnp.asarray(x)
    if x.ndim == 0:
        raise ValueError("`x` must have a last axis of coordinates, got a scalar")
    fast = supports_forward_laplacian(field)
    if method == "forward" and not fast:
        raise TypeError(
            f"`field` of type {type(field).__name__} has no `forward_laplacian` method; "
            "use method='auto' to fall back to autodiff"
        )
    if fast and method != "autodiff":
        out = field.forward_laplacian(Jet.from_input(x, dims, laplacian_dims))
        return FieldDerivatives(out.value, jnp.swapaxes(out.jac, -1, -2), out.lap)
    laplacian_rows(dims, laplacian_dims, x.shape[-1])  # same argument checks as the jet
    return _autodiff_path(field, x, dims, dims if laplacian_dims is None else laplacian_dims)


def _autodiff_path(field, x, dims, laplacian_dims) -> FieldDerivatives:
    def pointwise(p):
        return jnp.atleast_1d(jnp.asarray(field(p)))

    def one(p):
        return (
            pointwise(p),
            jacobian(pointwise, dims)(p),
            laplacian(pointwise, laplacian_dims)(p),
        )

    batch = x.shape[:-1]
    flat = x.reshape((-1, x.shape[-1]))
    value, grad, lap = jax.vmap(one)(flat)
    return FieldDerivatives(
        value.reshape(batch + value.shape[1:]),
        grad.reshape(batch + grad.shape[1:]),
        lap.reshape(batch + lap.shape[1:]),
    )
