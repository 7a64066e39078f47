r"""A sum over the rows of a batch, taken tile by tile with its gradient in the same pass.

A residual loss on a large batch is a sum of one term per point. Evaluated at once, every
layer's jets for all the points (value, derivative rows and Laplacian) are live together,
and from a few thousand points on they no longer fit in the core's cache: each
elementwise pass of the forward and backward sweep then streams them through memory.
`tiled_sum` instead runs a `jax.lax.scan` over tiles of `tile` rows; each iteration
evaluates its tile's terms and their gradient (one forward and one backward sweep on a
working set that stays in cache) and adds both to the carry. The gradient is handed to
reverse-mode autodiff as a custom VJP, so nothing of a tile outlives its iteration, and

$$\sum_{i=1}^{n} f_i(\theta) = \sum_{t} \sum_{i \in \text{tile } t} f_i(\theta)$$

holds exactly up to the order of the floating-point additions. A point count that is not
a multiple of `tile` is padded with copies of the first row whose terms are masked out.

Reverse mode only: forward-mode derivatives (`jax.jvp`, `jax.hessian`) of a tiled sum
are not defined; take them of the untiled loss (``tile=None``).
"""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


def _rows(batch: Any) -> int:
    leaves = [x for x in jax.tree.leaves(batch) if eqx.is_array(x)]
    if not leaves:
        raise ValueError("`batch` must hold at least one array of rows to tile")
    n = leaves[0].shape[0]
    for leaf in leaves:
        if leaf.ndim == 0 or leaf.shape[0] != n:
            raise ValueError(
                f"every array of a tiled batch must have the rows on its first axis ({n}), "
                f"got one of shape {leaf.shape}"
            )
    return n


def _tiles(batch: Any, n: int, tile: int) -> tuple[Any, Array]:
    """`batch` padded to whole tiles and reshaped to ``(tiles, tile, ...)``, and the mask."""
    count = -(-n // tile)
    pad = count * tile - n

    def split(x):
        if not eqx.is_array(x):
            return x
        if pad:
            x = jnp.concatenate([x, jnp.broadcast_to(x[:1], (pad,) + x.shape[1:])])
        return x.reshape((count, tile) + x.shape[1:])

    mask = (jnp.arange(count * tile) < n).reshape(count, tile)
    return jax.tree.map(split, batch), mask


def _tile_sum(fn, args, tile_batch, mask):
    values = fn(args, tile_batch)
    return jnp.sum(jnp.where(mask, values, jnp.zeros_like(values)))


@eqx.filter_custom_vjp
def _tiled(vjp_arg, fn, tile):
    args, batch = vjp_arg
    n = _rows(batch)
    tiles, mask = _tiles(batch, n, tile)

    def body(total, xs):
        tile_batch, m = xs
        return total + _tile_sum(fn, args, tile_batch, m), None

    first = jax.tree.map(lambda t: t[0], tiles)
    out = jax.eval_shape(lambda: _tile_sum(fn, args, first, mask[0]))
    total, _ = jax.lax.scan(body, jnp.zeros(out.shape, out.dtype), (tiles, mask))
    return total


def _fwd(perturbed, vjp_arg, fn, tile):
    args, batch = vjp_arg
    p_args, p_batch = perturbed
    n = _rows(batch)
    tiles, mask = _tiles(batch, n, tile)
    diff_args, rest_args = eqx.partition(args, p_args)
    diff_batch_any = any(jax.tree.leaves(p_batch))

    def term(diff, tile_batch, m):
        return _tile_sum(fn, eqx.combine(diff, rest_args), tile_batch, m)

    def body(carry, xs):
        total, grads = carry
        tile_batch, m = xs
        if diff_batch_any:
            d_batch, r_batch = eqx.partition(tile_batch, p_batch)
            value, (g_args, g_batch) = jax.value_and_grad(
                lambda d, b: term(d, eqx.combine(b, r_batch), m), argnums=(0, 1)
            )(diff_args, d_batch)
        else:
            value, g_args = jax.value_and_grad(term)(diff_args, tile_batch, m)
            g_batch = None
        grads = jax.tree.map(jnp.add, grads, g_args)
        return (total + value, grads), g_batch

    first = jax.tree.map(lambda t: t[0], tiles)
    out = jax.eval_shape(lambda: term(diff_args, first, mask[0]))
    zeros = jax.tree.map(jnp.zeros_like, diff_args)
    (total, g_args), g_tiles = jax.lax.scan(
        body, (jnp.zeros(out.shape, out.dtype), zeros), (tiles, mask)
    )
    g_batch = None
    if diff_batch_any:
        g_batch = jax.tree.map(lambda g: g.reshape((-1,) + g.shape[2:])[:n], g_tiles)
    return total, (g_args, g_batch)


def _bwd(residuals, g_total, perturbed, vjp_arg, fn, tile):
    g_args, g_batch = residuals
    if g_batch is None:
        g_batch = eqx.filter(vjp_arg[1], lambda _: False)  # every leaf None
    return jax.tree.map(lambda g: g_total * g, (g_args, g_batch))


_tiled.def_fwd(_fwd)
_tiled.def_bwd(_bwd)


def tiled_sum(
    fn: Callable[[Any, Any], Float[Array, " n"]], args: Any, batch: Any, tile: int | None
) -> Float[Array, ""]:
    r"""$\sum_i$ ``fn(args, batch)[i]``, tile by tile (see the module docstring).

    Args:
        fn: ``fn(args, rows) -> (r,)``: one value per row of `rows`, a batch of `r` rows
            of `batch`; row $i$ of the output may depend on row $i$ of `rows` only.
        args: any pytree (a field and its parameters); reverse-mode gradients flow to its
            floating-point arrays, and to those of `batch`.
        batch: a pytree of arrays whose first axis is the $n$ rows.
        tile: rows per tile; ``None`` or a `tile` of at least $n$ sums in one piece.

    Returns:
        The sum, a scalar.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> x = jnp.linspace(0.0, 1.0, 10)
        >>> f = lambda w, rows: (w * rows) ** 2
        >>> a = jax.value_and_grad(lambda w: tiled_sum(f, w, x, 4))(2.0)
        >>> b = jax.value_and_grad(lambda w: jnp.sum(f(w, x)))(2.0)
        >>> bool(jnp.allclose(a[0], b[0])), bool(jnp.allclose(a[1], b[1]))
        (True, True)
    """
    n = _rows(batch)
    if tile is None or tile >= n:
        return jnp.sum(fn(args, batch))
    if not isinstance(tile, int) or tile < 1:
        raise ValueError(f"`tile` must be a positive int or None, got {tile!r}")
    return _tiled((args, batch), fn, tile)
