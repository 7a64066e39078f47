r"""The Jacobian of a residual vector with respect to the trainable arrays.

Gauss-Newton and natural-gradient steps need $J = \partial r / \partial \theta$, one row per
residual, one column per trainable number (in the order of
`jax.flatten_util.ravel_pytree`). Two ways are offered:

- point by point (`pointwise_jacobian`): when row $i$ of a constraint's residual depends
  on row $i$ of its batch alone (`AbstractConstraint.independent_rows`), each point's rows
  are differentiated by reverse mode under `jax.vmap`. The cost is a small multiple of one
  forward pass over the batch (the jets of value, gradient and Laplacian included) and the
  memory is $J$ itself;
- by forward mode (`forward_jacobian`): one Jacobian-vector product per parameter, for any
  residual, at $P$ times the cost of a forward pass (chunked to bound the memory).
"""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float


def flat_columns(jac: Any, rows: int) -> Float[Array, "N P"]:
    """A pytree of Jacobian blocks, leaves ``(rows, *leaf_shape)``, as one ``(rows, P)``
    matrix in the order of `ravel_pytree`."""
    leaves = jax.tree.leaves(jac)
    if not leaves:
        raise ValueError("no trainable arrays to differentiate")
    return jnp.concatenate([leaf.reshape(rows, -1) for leaf in leaves], axis=1)


def pointwise_jacobian(
    row_fn: Callable[[Any, Any], Float[Array, " r"]], params: Any, batch: Any
) -> tuple[Float[Array, " N"], Float[Array, "N P"]]:
    """Rows and Jacobian of a residual computed point by point.

    Args:
        row_fn: ``row_fn(params, batch_of_one) -> (r,)``, the residual rows of a batch
            holding one point (every array of `batch` keeps a leading axis of length 1).
        params: the trainable arrays.
        batch: the batch, every array with the points on its leading axis.

    Returns:
        ``(residuals, jacobian)``: shapes ``(n r,)`` and ``(n r, P)``, point-major.
    """

    def one(row):
        single = jax.tree.map(lambda a: a[None], row)

        def rows(p):
            out = row_fn(p, single)
            return out, out

        return jax.jacrev(rows, has_aux=True)(params)

    jac, res = jax.vmap(one)(batch)  # leaves (n, r, *leaf), (n, r)
    n, r = res.shape
    return res.reshape(n * r), flat_columns(jac, n * r)


def forward_jacobian(
    fn: Callable[[Any], Float[Array, " N"]], params: Any, *, chunk: int = 64
) -> tuple[Float[Array, " N"], Float[Array, "N P"]]:
    """Rows and Jacobian of any residual vector by forward mode, `chunk` columns at a time.

    Args:
        fn: ``fn(params) -> (N,)``.
        params: the trainable arrays.
        chunk: Jacobian-vector products evaluated together.

    Returns:
        ``(residuals, jacobian)``: shapes ``(N,)`` and ``(N, P)``.
    """
    flat, unravel = ravel_pytree(params)
    res, lin = jax.linearize(lambda v: fn(unravel(v)), flat)

    def column(i):
        return lin(jnp.zeros_like(flat).at[i].set(1))

    cols = jax.lax.map(column, jnp.arange(flat.size), batch_size=min(chunk, flat.size))
    return res, cols.T  # cols is (P, N)
