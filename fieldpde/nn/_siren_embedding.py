r"""`SIRENPositionalEmbeddingND`: the first SIREN layer over a grid of relative offsets.

For an input of lengths $L_1, \dots, L_D$ the grid holds the offsets $k_i / (L_{\text{cache},
i} - 1)$, $|k_i| < L_i$, so the grid for an input of length $L_\text{cache}$ spans exactly
$[-1, 1]$ on that axis and a shorter input sees its central part. The embedding is

$$\phi(x) = \sin(\omega_0 (x W + b)), \qquad W \sim \mathcal{U}(\pm 1/D),
  \quad b \sim \mathcal{U}(\pm 1/\sqrt{D}),$$

the SIREN ``"first"`` regime (`siren_weight_limit`).
"""

import math
from collections.abc import Sequence
from typing import final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import as_key, positive_float, positive_int
from ..ops import sin
from ._siren import siren_weight_limit


def per_axis(name: str, value, data_dim: int) -> tuple[int, ...]:
    """An int (same on every axis) or `data_dim` ints, as a tuple of positive ints."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        values = tuple(value)
        if len(values) != data_dim:
            raise ValueError(
                f"`{name}` must be an int or a sequence of data_dim={data_dim} ints, got {value!r}"
            )
    else:
        values = (value,) * data_dim
    return tuple(positive_int(name, v) for v in values)


def uniform_linear(
    key: PRNGKeyArray, n_in: int, n_out: int, w_limit: float, b_limit: float | None, dtype
) -> eqx.nn.Linear:
    """An `eqx.nn.Linear` with weight $\\mathcal{U}(\\pm$ `w_limit`$)$ and bias
    $\\mathcal{U}(\\pm$ `b_limit`$)$ (no bias for None)."""
    wkey, bkey = jax.random.split(key)
    lin = eqx.nn.Linear(n_in, n_out, use_bias=b_limit is not None, key=wkey, dtype=dtype)
    W = jax.random.uniform(wkey, (n_out, n_in), dtype, -w_limit, w_limit)
    if b_limit is None:
        return eqx.tree_at(lambda m: m.weight, lin, W)
    b = jax.random.uniform(bkey, (n_out,), dtype, -b_limit, b_limit)
    return eqx.tree_at(lambda m: (m.weight, m.bias), lin, (W, b))


def apply_linear(lin: eqx.nn.Linear, h: Array) -> Array:
    """`lin` on the last axis of `h` (any leading shape)."""
    out = h @ lin.weight.T
    return out if lin.bias is None else out + lin.bias


@final
class SIRENPositionalEmbeddingND(eqx.Module):
    """Sine features of relative grid positions: ``embedding(seq_lens) -> (phi, grid)``.

    ``phi`` has shape ``[1, *(2 L_i - 1), embedding_dim]`` and ``grid`` (the offsets it was
    evaluated at) ``[1, *(2 L_i - 1), data_dim]``.

    Attributes:
        linear: the `eqx.nn.Linear` ``data_dim -> embedding_dim`` inside the sine.
        data_dim: number of spatial axes $D$.
        embedding_dim: number of features.
        L_cache: reference length per axis (sets the offset normalisation).
        omega_0: the frequency $\\omega_0$.

    Example:
        >>> import jax.random as jr
        >>> emb = SIRENPositionalEmbeddingND(2, 16, 8, 10.0, key=jr.key(0))
        >>> phi, grid = emb((8, 5))
        >>> phi.shape, grid.shape, float(grid[0, 0, 4, 0]), float(grid[0, -1, 4, 0])
        ((1, 15, 9, 16), (1, 15, 9, 2), -1.0, 1.0)
    """

    linear: eqx.nn.Linear
    data_dim: int = eqx.field(static=True)
    embedding_dim: int = eqx.field(static=True)
    L_cache: tuple[int, ...] = eqx.field(static=True)
    omega_0: float = eqx.field(static=True)

    def __init__(
        self,
        data_dim: int,
        embedding_dim: int,
        L_cache: int | Sequence[int],
        omega_0: float,
        use_bias: bool = True,
        *,
        key: PRNGKeyArray | None = None,
        dtype=None,
    ):
        """Draw the first-layer SIREN weights.

        Args:
            data_dim: number of spatial axes $D$.
            embedding_dim: number of features.
            L_cache: reference length per axis: an int for all axes or ``data_dim`` ints,
                each >= 2.
            omega_0: the frequency $\\omega_0$.
            use_bias: whether the linear map has a bias.
            key: PRNG key of the weights (default ``jax.random.key(0)``, so the positional
                form of the reference API works; pass one to draw another embedding).
            dtype: parameter dtype (default: JAX's default float).

        Raises:
            ValueError: a non-positive size or `omega_0`, or `L_cache` of the wrong length
                or < 2.
        """
        self.data_dim = positive_int("data_dim", data_dim)
        self.embedding_dim = positive_int("embedding_dim", embedding_dim)
        self.L_cache = per_axis("L_cache", L_cache, self.data_dim)
        if min(self.L_cache) < 2:
            raise ValueError(f"`L_cache` must be >= 2 on every axis, got {L_cache!r}")
        self.omega_0 = positive_float("omega_0", omega_0)
        key = jax.random.key(0) if key is None else as_key(key)
        dtype = jnp.result_type(float) if dtype is None else dtype
        d = self.data_dim
        self.linear = uniform_linear(
            key,
            d,
            self.embedding_dim,
            siren_weight_limit("first", d, self.omega_0, 6.0),
            1.0 / math.sqrt(d) if use_bias else None,
            dtype,
        )

    @property
    def use_bias(self) -> bool:
        return self.linear.bias is not None

    def grid(self, seq_lens: Sequence[int]) -> Float[Array, "1 *spatial d"]:
        """Relative offsets $k/(L_{\\text{cache},i} - 1)$, $|k| < L_i$, on each axis."""
        seq_lens = per_axis("seq_lens", seq_lens, self.data_dim)
        axes = [
            jnp.arange(-(n - 1), n, dtype=self.linear.weight.dtype) / (lc - 1)
            for n, lc in zip(seq_lens, self.L_cache, strict=True)
        ]
        return jnp.stack(jnp.meshgrid(*axes, indexing="ij"), axis=-1)[None]

    def __call__(
        self, seq_lens: Sequence[int]
    ) -> tuple[Float[Array, "1 *spatial e"], Float[Array, "1 *spatial d"]]:
        grid = self.grid(seq_lens)
        return sin(self.omega_0 * apply_linear(self.linear, grid)), grid

    forward = __call__
