r"""Pointwise differential operators built from `jax.jvp` / `jax.grad`.

Each operator takes a callable ``u(x, *args)`` of one point ``x`` of shape ``(d,)`` and
returns a new callable with the same signature, like `jax.grad` does. Derivatives are
taken with respect to ``x`` only (any ``args``, e.g. a parameter $\mu$, stay fixed), and
only along the coordinates picked by ``dims`` (all by default), so that for a space-time
point ``(x, y, t)`` ``laplacian(u, dims=(0, 1))`` is the spatial Laplacian and
``grad(u, dims=-1)`` the time derivative. Batch with `jax.vmap`.

Forward mode is used where it is cheapest for the few input dimensions of a PDE
(``d`` is 1 to 4): a Laplacian is $k$ forward-over-forward second directional
derivatives, which works for vector-valued fields too.
"""

from collections.abc import Callable
from typing import Any, Literal

import jax
import jax.numpy as jnp

from .._types import Dims
from ._dims import resolve_dims


def _as_point(x: Any, op: str) -> jax.Array:
    x = jnp.asarray(x)
    if x.ndim != 1:
        raise ValueError(
            f"`x` passed to ops.{op}(u) must be one point of shape (d,), got shape {x.shape}; "
            "wrap the operator in jax.vmap to evaluate a batch of points"
        )
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x


def _seeds(x: jax.Array, dims: Dims) -> jax.Array:
    idx = resolve_dims(dims, x.shape[0])
    return jnp.eye(x.shape[0], dtype=x.dtype)[jnp.asarray(idx)]


def _directional(f: Callable[[jax.Array], jax.Array], x: jax.Array, v: jax.Array):
    return jax.jvp(f, (x,), (v,))[1]


def _second_directional(f: Callable[[jax.Array], jax.Array], x: jax.Array, v: jax.Array):
    return jax.jvp(lambda y: _directional(f, y, v), (x,), (v,))[1]


def jacobian(u: Callable[..., Any], dims: Dims = None) -> Callable[..., jax.Array]:
    """Jacobian $\\partial u_j / \\partial x_i$ over the selected coordinates.

    Args:
        u: pointwise field ``u(x, *args)`` of one point ``x`` of shape ``(d,)``.
        dims: coordinates to differentiate along: None (all), an int, a sequence of ints
            or a slice (see `resolve_dims`).

    Returns:
        A function of ``(x, *args)`` giving an array of shape ``u(x).shape + (k,)``.

    Example:
        >>> import jax.numpy as jnp
        >>> J = jacobian(lambda x: jnp.array([x[0] * x[1], x[1] ** 2]))
        >>> J(jnp.array([2.0, 3.0])).tolist()
        [[3.0, 2.0], [0.0, 6.0]]
    """

    def jac(x, *args, **kwargs):
        x = _as_point(x, "jacobian")
        f = lambda y: jnp.asarray(u(y, *args, **kwargs))  # noqa: E731
        return jax.vmap(lambda v: _directional(f, x, v), out_axes=-1)(_seeds(x, dims))

    return jac


def _scalar_output(value: jax.Array, op: str) -> None:
    if value.size != 1:
        raise ValueError(
            f"ops.{op} needs a scalar field (output shape () or (1,)), but `u` returned shape "
            f"{value.shape}; use ops.jacobian for vector fields or select a component"
        )


def grad(u: Callable[..., Any], dims: Dims = None) -> Callable[..., jax.Array]:
    """Gradient $\\nabla u$ of a scalar field over the selected coordinates, shape ``(k,)``.

    `u` may return shape ``()`` or ``(1,)``; reverse mode gives all ``d`` partial
    derivatives in one pass, of which the selected ones are returned.

    Args:
        u: pointwise scalar field ``u(x, *args)`` of one point ``x`` of shape ``(d,)``.
        dims: coordinates to differentiate along: None (all), an int, a sequence of ints
            or a slice (see `resolve_dims`).

    Returns:
        A function of ``(x, *args)`` giving the gradient, shape ``(k,)``.

    Example:
        >>> import jax.numpy as jnp
        >>> g = grad(lambda x: x[0] ** 2 * x[1])
        >>> g(jnp.array([1.0, 2.0])).tolist()
        [4.0, 1.0]
        >>> grad(lambda x: x[0] ** 2 * x[1], dims=-1)(jnp.array([1.0, 2.0])).tolist()
        [1.0]
    """

    def gradient(x, *args, **kwargs):
        x = _as_point(x, "grad")
        idx = jnp.asarray(resolve_dims(dims, x.shape[0]))

        def scalar(y):
            value = jnp.asarray(u(y, *args, **kwargs))
            _scalar_output(value, "grad")
            return value.reshape(())

        return jax.grad(scalar)(x)[idx]

    return gradient


def divergence(u: Callable[..., Any], dims: Dims = None) -> Callable[..., jax.Array]:
    """Divergence $\\sum_i \\partial u_i / \\partial x_{\\mathrm{dims}[i]}$ of a vector field.

    The output of `u` must have shape ``(k,)``, one component per selected coordinate.

    Args:
        u: pointwise vector field ``u(x, *args)`` of one point ``x`` of shape ``(d,)``.
        dims: coordinates to differentiate along: None (all), an int, a sequence of ints
            or a slice (see `resolve_dims`).

    Returns:
        A function of ``(x, *args)`` giving the divergence, a scalar.

    Example:
        >>> import jax.numpy as jnp
        >>> div = divergence(lambda x: jnp.array([x[0] ** 2, x[0] * x[1]]))
        >>> float(div(jnp.array([1.0, 2.0])))
        3.0
    """

    def div(x, *args, **kwargs):
        x = _as_point(x, "divergence")
        seeds = _seeds(x, dims)
        k = seeds.shape[0]

        def f(y):
            value = jnp.asarray(u(y, *args, **kwargs))
            if value.shape != (k,):
                raise ValueError(
                    f"ops.divergence needs `u` to return shape ({k},), one component per "
                    f"selected coordinate, got {value.shape}"
                )
            return value

        parts = jax.vmap(lambda i, v: _directional(f, x, v)[i])(jnp.arange(k), seeds)
        return jnp.sum(parts)

    return div


def hessian(u: Callable[..., Any], dims: Dims = None) -> Callable[..., jax.Array]:
    """Hessian over the selected coordinates, shape ``u(x).shape + (k, k)``.

    Args:
        u: pointwise field ``u(x, *args)`` of one point ``x`` of shape ``(d,)``.
        dims: coordinates to differentiate along: None (all), an int, a sequence of ints
            or a slice (see `resolve_dims`).

    Returns:
        A function of ``(x, *args)`` giving an array of shape ``u(x).shape + (k, k)``.

    Example:
        >>> import jax.numpy as jnp
        >>> H = hessian(lambda x: x[0] ** 2 * x[1])
        >>> H(jnp.array([1.0, 2.0])).tolist()
        [[4.0, 2.0], [2.0, 0.0]]
    """

    def hess(x, *args, **kwargs):
        x = _as_point(x, "hessian")
        f = lambda y: jnp.asarray(u(y, *args, **kwargs))  # noqa: E731
        seeds = _seeds(x, dims)

        def column(v):
            return jax.vmap(lambda w: _directional(lambda y: _directional(f, y, v), x, w))(seeds)

        H = jax.vmap(column)(seeds)  # (k, k, *out)
        return jnp.moveaxis(H, (0, 1), (-2, -1))

    return hess


LaplacianMethod = Literal["forward", "jvp_grad", "hessian"]


def laplacian(
    u: Callable[..., Any], dims: Dims = None, *, method: LaplacianMethod = "forward"
) -> Callable[..., jax.Array]:
    """Laplacian $\\sum_i \\partial^2 u / \\partial x_i^2$ over the selected coordinates.

    Vector fields get the Laplacian of each component, shape ``u(x).shape``.

    Args:
        u: pointwise field ``u(x, *args)``.
        dims: coordinates to sum over (default: all).
        method: ``"forward"`` (forward-over-forward second directional derivatives, the
            default), ``"jvp_grad"`` (forward-over-reverse, scalar fields) or
            ``"hessian"`` (trace of the full `jax.hessian`, the textbook way; slowest).

    Returns:
        A function of ``(x, *args)`` giving the Laplacian, shape ``u(x).shape``.

    Example:
        >>> import jax.numpy as jnp
        >>> lap = laplacian(lambda x: x[0] ** 2 + 3 * x[1] ** 2)
        >>> float(lap(jnp.array([0.3, -0.7])))
        8.0
    """
    if method not in ("forward", "jvp_grad", "hessian"):
        raise ValueError(f"`method` must be 'forward', 'jvp_grad' or 'hessian', got {method!r}")

    def lap(x, *args, **kwargs):
        x = _as_point(x, "laplacian")
        f = lambda y: jnp.asarray(u(y, *args, **kwargs))  # noqa: E731
        seeds = _seeds(x, dims)
        if method == "forward":
            return jnp.sum(jax.vmap(lambda v: _second_directional(f, x, v))(seeds), axis=0)
        idx = jnp.asarray(resolve_dims(dims, x.shape[0]))

        def scalar(y):
            value = f(y)
            _scalar_output(value, f"laplacian(method={method!r})")
            return value.reshape(())

        out_shape = jax.eval_shape(f, x).shape
        if method == "jvp_grad":
            g = jax.grad(scalar)
            diag = jax.vmap(lambda i, v: _directional(g, x, v)[i])(idx, seeds)
            return jnp.sum(diag).reshape(out_shape)
        H = jax.hessian(scalar)(x)
        return jnp.trace(H[idx][:, idx]).reshape(out_shape)

    return lap
