r"""`SIRENKernelND`: a convolution kernel parametrised by a SIREN over relative positions.

On a grid of relative offsets $x$ (``2 L_i - 1`` points per axis for an input of length
$L_i$), the kernel is

$$h_0 = \sin(\omega_0 (x W_0 + b_0)), \quad h_i = \sin(\omega_h (h_{i-1} W_i + b_i)),
  \quad k(x) = h_{N-1} W_\text{out} + b_\text{out},$$

with SIREN init in every layer. The readout is additionally scaled by
$\sqrt{1/\prod_i L_{\text{cache}, i}}$ (the "Wang init" of CKConv, Romero et al. 2021), so
the kernel's initial energy does not grow with the grid. Offsets are normalised by
$L_{\text{cache}, i} - 1$, so the kernel for an input of length $L_\text{cache}$ spans
exactly $[-1, 1]$ and shorter inputs see the central part of the same kernel.

Optional FiLM conditioning: a `KernelFiLMGenerator` maps a conditioning batch ``[B, C]``
to one $(\gamma, \beta)$ pair per hidden layer (plus one for the positional embedding with
``film_after_pos_embed=True``), $h_i \leftarrow \gamma_i \odot h_i + \beta_i$, making the
kernel ``[B, *spatial, out_dim]`` instead of ``[1, *spatial, out_dim]``. Its readout starts
at zero, so with $\gamma = 1 + \text{raw}$ the conditioned kernel equals the unconditioned
one at init. A kernel without a FiLM generator ignores a conditioning it is given. The
layers are held as the reference API names them: `SIRENPositionalEmbeddingND` (the first
layer), ``hidden_linears`` (`eqx.nn.Linear`), the ``sine`` activation and ``out_linear``.
`SIRENConvND` applies the kernel to a signal with FFTs.
"""

import math
from collections.abc import Mapping, Sequence
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import as_key, positive_float, positive_int
from ..ops import sin
from ._mlp import Dense
from ._siren import siren_weight_limit
from ._siren_embedding import SIRENPositionalEmbeddingND, apply_linear, per_axis, uniform_linear


@final
class KernelFiLMGenerator(eqx.Module):
    r"""An MLP from a conditioning vector to per-layer FiLM pairs $(\gamma_l, \beta_l)$.

    ``[B, cond_dim] -> (gamma, beta)``, each ``[num_film_layers, B, film_dim]``, with
    $\gamma = 1 + \text{raw}$. The last layer starts at zero (identity FiLM at init).

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> gen = KernelFiLMGenerator.init(3, 2, 16, key=jr.key(0))
        >>> gamma, beta = gen(jnp.ones((4, 3)))
        >>> gamma.shape, float(jnp.abs(gamma - 1).max()), float(jnp.abs(beta).max())
        ((2, 4, 16), 0.0, 0.0)
    """

    layers: tuple[Dense, ...]
    cond_dim: int = eqx.field(static=True)
    num_film_layers: int = eqx.field(static=True)
    film_dim: int = eqx.field(static=True)

    @classmethod
    def init(
        cls,
        cond_dim: int,
        num_film_layers: int,
        film_dim: int,
        *,
        key: PRNGKeyArray,
        hidden_dim: int = 64,
        depth: int = 2,
        dtype=None,
    ) -> "KernelFiLMGenerator":
        """A `depth`-layer SiLU MLP, ``cond_dim -> hidden_dim -> ... -> 2 L film_dim``.

        Args:
            cond_dim: the width of the conditioning vector.
            num_film_layers: $L$, the number of layers to modulate.
            film_dim: the width of each modulated layer.
            key: PRNG key, split once per layer.
            hidden_dim: the width of the MLP's hidden layers.
            depth: the number of layers of the MLP.
            dtype: parameter dtype (default: JAX's default float).
        """
        key = as_key(key)
        cond_dim = positive_int("cond_dim", cond_dim)
        num_film_layers = positive_int("num_film_layers", num_film_layers)
        film_dim = positive_int("film_dim", film_dim)
        hidden_dim = positive_int("hidden_dim", hidden_dim)
        depth = positive_int("depth", depth, minimum=1)
        sizes = [cond_dim] + [hidden_dim] * (depth - 1) + [2 * num_film_layers * film_dim]
        keys = jax.random.split(key, depth)
        layers = []
        for i in range(depth):
            last = i == depth - 1
            layer = Dense.init(
                sizes[i],
                sizes[i + 1],
                key=keys[i],
                activation=None if last else "silu",
                dtype=dtype,
            )
            if last:
                layer = eqx.tree_at(
                    lambda d: (d.W, d.b), layer, (jnp.zeros_like(layer.W), jnp.zeros_like(layer.b))
                )
            layers.append(layer)
        return cls(
            layers=tuple(layers),
            cond_dim=cond_dim,
            num_film_layers=num_film_layers,
            film_dim=film_dim,
        )

    def __call__(self, conditioning: Float[Array, "b c"]) -> tuple[Array, Array]:
        c = jnp.asarray(conditioning)
        if c.ndim != 2 or c.shape[-1] != self.cond_dim:
            raise ValueError(
                f"`conditioning` must have shape [B, {self.cond_dim}], got shape {c.shape}"
            )
        for layer in self.layers:
            c = layer(c)
        out = c.reshape(c.shape[0], self.num_film_layers, 2, self.film_dim)
        out = jnp.moveaxis(out, 0, 1)  # [L, B, 2, H]
        return 1.0 + out[:, :, 0], out[:, :, 1]

    def flop_count(self) -> int:
        """FLOPs for one conditioning vector: $2 d_\\text{in} d_\\text{out}$ per linear map
        plus one per hidden activation."""
        total = 0
        for layer in self.layers:
            n_in, n_out = layer.W.shape
            total += 2 * n_in * n_out + (n_out if layer.activation is not None else 0)
        return total


@final
class Sine(eqx.Module):
    """The activation $h \\mapsto \\sin(\\omega h)$ of a SIREN layer.

    Attributes:
        omega: the frequency $\\omega$.

    Example:
        >>> import jax.numpy as jnp
        >>> Sine(2.0)(jnp.array([0.0, jnp.pi / 4])).round(6).tolist()
        [0.0, 1.0]
    """

    omega: float = eqx.field(static=True, default=1.0)

    def __call__(self, h: Array) -> Array:
        return sin(self.omega * h)


@final
class SIRENKernelND(eqx.Module):
    """A SIREN-parametrised convolution kernel over a ``data_dim``-dimensional grid.

    Call ``kernel_net(seq_lens, conditioning=None)`` (alias `forward`) to get
    ``(kernel, grid)``: ``kernel`` of shape ``[1|B, *(2 L_i - 1), out_dim]`` and ``grid`` of
    shape ``[1, *(2 L_i - 1), data_dim]``. The forward pass is
    ``h = positional_embedding(seq_lens)``, then ``h = sine(linear(h))`` for each of
    `hidden_linears` (FiLM-modulated when a generator exists and `conditioning` is given),
    then ``out_linear(h)``.

    Attributes:
        positional_embedding: the first SIREN layer, a `SIRENPositionalEmbeddingND`.
        hidden_linears: the ``num_layers - 1`` hidden `eqx.nn.Linear` layers.
        sine: the hidden activation, $\\sin(\\omega_h \\cdot)$ with $\\omega_h$ =
            ``hidden_omega_0``.
        out_linear: the linear readout to ``out_dim`` channels (Wang-scaled at init).
        film_generator: the `KernelFiLMGenerator`, or None without `film_cfg`.
        num_film_layers: the number of FiLM-modulated layers.

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> net = SIRENKernelND(4, 2, 32, 3, 16, 10.0, 8, True)  # key defaults to key(0)
        >>> kernel, grid = net((8, 5))
        >>> kernel.shape, grid.shape, len(net.hidden_linears)
        ((1, 15, 9, 4), (1, 15, 9, 2), 2)
        >>> net((8, 5), jnp.ones((6, 3)))[0].shape  # no FiLM generator: conditioning ignored
        (1, 15, 9, 4)
        >>> film = SIRENKernelND(4, 2, 32, 3, 32, 10.0, 8, True, film_cfg={"cond_dim": 3},
        ...                      film_after_pos_embed=True, key=jr.key(0))
        >>> film((8, 5), jnp.ones((6, 3)))[0].shape
        (6, 15, 9, 4)
    """

    positional_embedding: SIRENPositionalEmbeddingND
    hidden_linears: tuple[eqx.nn.Linear, ...]
    sine: Sine
    out_linear: eqx.nn.Linear
    film_generator: KernelFiLMGenerator | None
    out_dim: int = eqx.field(static=True)
    data_dim: int = eqx.field(static=True)
    mlp_hidden_dim: int = eqx.field(static=True)
    num_layers: int = eqx.field(static=True)
    embedding_dim: int = eqx.field(static=True)
    omega_0: float = eqx.field(static=True)
    hidden_omega_0: float = eqx.field(static=True)
    L_cache: tuple[int, ...] = eqx.field(static=True)
    use_bias: bool = eqx.field(static=True)
    film_after_pos_embed: bool = eqx.field(static=True)

    def __init__(
        self,
        out_dim: int,
        data_dim: int,
        mlp_hidden_dim: int,
        num_layers: int,
        embedding_dim: int,
        omega_0: float,
        L_cache: int | Sequence[int],
        use_bias: bool,
        hidden_omega_0: float = 1.0,
        film_cfg: Mapping[str, Any] | None = None,
        film_after_pos_embed: bool = False,
        *,
        key: PRNGKeyArray | None = None,
        c: float = 6.0,
        dtype=None,
    ):
        """Build the SIREN and, when `film_cfg` is given, its FiLM generator.

        Args:
            out_dim: kernel channels.
            data_dim: number of spatial axes.
            mlp_hidden_dim: width of the hidden SIREN layers.
            num_layers: positional embedding plus hidden layers (>= 2); there are
                ``num_layers - 1`` hidden layers, then the linear readout.
            embedding_dim: width of the positional embedding.
            omega_0: frequency of the positional embedding.
            L_cache: reference length per axis (an int for all axes, or ``data_dim`` ints,
                each >= 2); sets the offset normalisation and the Wang scale.
            use_bias: whether the linear maps have biases.
            hidden_omega_0: frequency of the hidden layers.
            film_cfg: keyword arguments of `KernelFiLMGenerator.init` other than the layer
                count and width, e.g. ``{"cond_dim": 8, "hidden_dim": 64, "depth": 2}``.
            film_after_pos_embed: also modulate the positional embedding (needs
                ``embedding_dim == mlp_hidden_dim``).
            key: PRNG key of every weight. Optional so that the reference API's positional
                constructor works; the default is ``jax.random.key(0)``, so two kernels
                built without a key are identical: pass distinct keys for distinct kernels.
            c: the SIREN Theorem-1 constant.
            dtype: parameter dtype (default: JAX's default float).

        Raises:
            ValueError: bad sizes or frequencies, ``L_cache`` of the wrong length or < 2,
                ``film_after_pos_embed`` without FiLM or with mismatched widths.
        """
        self.out_dim = positive_int("out_dim", out_dim)
        self.data_dim = positive_int("data_dim", data_dim)
        self.mlp_hidden_dim = positive_int("mlp_hidden_dim", mlp_hidden_dim)
        self.num_layers = positive_int("num_layers", num_layers, minimum=2)
        self.embedding_dim = positive_int("embedding_dim", embedding_dim)
        self.omega_0 = positive_float("omega_0", omega_0)
        self.hidden_omega_0 = positive_float("hidden_omega_0", hidden_omega_0)
        self.L_cache = per_axis("L_cache", L_cache, self.data_dim)
        if min(self.L_cache) < 2:
            raise ValueError(f"`L_cache` must be >= 2 on every axis, got {L_cache!r}")
        self.use_bias = bool(use_bias)
        self.film_after_pos_embed = bool(film_after_pos_embed)
        if self.film_after_pos_embed:
            if film_cfg is None:
                raise ValueError("`film_after_pos_embed=True` needs a `film_cfg`")
            if self.embedding_dim != self.mlp_hidden_dim:
                raise ValueError(
                    "`film_after_pos_embed=True` needs embedding_dim == mlp_hidden_dim, got "
                    f"{self.embedding_dim} and {self.mlp_hidden_dim}"
                )
        key = jax.random.key(0) if key is None else as_key(key)
        dtype = jnp.result_type(float) if dtype is None else dtype
        k_pos, k_hidden, k_out, k_film = jax.random.split(key, 4)
        e, h = self.embedding_dim, self.mlp_hidden_dim
        self.positional_embedding = SIRENPositionalEmbeddingND(
            self.data_dim, e, self.L_cache, self.omega_0, self.use_bias, key=k_pos, dtype=dtype
        )
        sizes = [e] + [h] * (self.num_layers - 1)
        hidden = []
        for k, n_in, n_out in zip(
            jax.random.split(k_hidden, self.num_layers - 1), sizes[:-1], sizes[1:], strict=True
        ):
            w_lim = siren_weight_limit("hidden", n_in, self.hidden_omega_0, c)
            b_lim = 1 / math.sqrt(n_in) if self.use_bias else None
            hidden.append(uniform_linear(k, n_in, n_out, w_lim, b_lim, dtype))
        self.hidden_linears = tuple(hidden)
        self.sine = Sine(self.hidden_omega_0)
        wang = math.sqrt(1.0 / math.prod(self.L_cache))
        limit = siren_weight_limit("hidden", h, self.hidden_omega_0, c)
        # the readout: hidden-layer rule scaled by the Wang factor, zero bias
        out = uniform_linear(
            k_out, h, self.out_dim, wang * limit, 0.0 if self.use_bias else None, dtype
        )
        self.out_linear = out
        if film_cfg is None:
            self.film_generator = None
        else:
            cfg = dict(film_cfg)
            if "cond_dim" not in cfg:
                raise ValueError("`film_cfg` must give `cond_dim`, e.g. {'cond_dim': 8}")
            self.film_generator = KernelFiLMGenerator.init(
                num_film_layers=self.num_film_layers,
                film_dim=h,
                key=k_film,
                dtype=dtype,
                **cfg,
            )

    @property
    def num_film_layers(self) -> int:
        """Modulated layers: every hidden layer, plus the embedding if requested."""
        return self.num_layers - 1 + int(self.film_after_pos_embed)

    def grid(self, seq_lens: Sequence[int]) -> Float[Array, "1 *spatial d"]:
        """Relative offsets $k/(L_{\\text{cache},i} - 1)$, $|k| < L_i$, on each axis."""
        return self.positional_embedding.grid(seq_lens)

    def __call__(
        self, seq_lens: Sequence[int], conditioning: Float[Array, "b c"] | None = None
    ) -> tuple[Float[Array, "b *spatial o"], Float[Array, "1 *spatial d"]]:
        """The kernel on the grid for inputs of lengths `seq_lens`, and that grid.

        Args:
            seq_lens: the input's length on each axis.
            conditioning: ``[B, cond_dim]`` for FiLM modulation, which makes the kernel
                ``[B, ...]``. A kernel without a FiLM generator ignores it (its kernel does
                not depend on the input) and returns ``[1, ...]``.
        """
        h, grid = self.positional_embedding(seq_lens)  # [1, *spatial, e]
        spatial = grid.shape[1:-1]
        h = h.reshape(1, -1, self.embedding_dim)
        gammas = betas = None
        if conditioning is not None and self.film_generator is not None:
            gammas, betas = self.film_generator(conditioning)
        film = 0

        def modulate(h, i):
            if gammas is None:
                return h
            return gammas[i][:, None, :] * h + betas[i][:, None, :]

        if self.film_after_pos_embed:
            h = modulate(h, film)
            film += 1
        for linear in self.hidden_linears:
            h = modulate(self.sine(apply_linear(linear, h)), film)
            film += 1
        k = apply_linear(self.out_linear, h)
        return k.reshape((k.shape[0],) + spatial + (self.out_dim,)), grid

    forward = __call__

    def flop_count(self, grid_lens: Sequence[int], inference: bool = False) -> int:
        """FLOPs of one kernel generation on the grid for inputs of lengths `grid_lens`.

        Zero at inference without FiLM (the kernel is input independent and cached).
        With $G = \\prod_i (2L_i - 1)$: embedding $2 G d e + G e$; first hidden layer
        $2 G e h + G h$, each further one $2 G h^2 + G h$; readout $2 G h o$; FiLM adds the
        generator's `flop_count` and $2 G h$ per modulated layer.
        """
        if inference and self.film_generator is None:
            return 0
        grid_lens = per_axis("grid_lens", grid_lens, self.data_dim)
        G = math.prod(2 * n - 1 for n in grid_lens)
        d, e, h, o = self.data_dim, self.embedding_dim, self.mlp_hidden_dim, self.out_dim
        total = 2 * G * d * e + G * e
        for i in range(len(self.hidden_linears)):
            n_in = e if i == 0 else h
            total += 2 * G * n_in * h + G * h
        total += 2 * G * h * o
        if self.film_generator is not None:
            total += self.film_generator.flop_count() + 2 * G * h * self.num_film_layers
        return total


def fft_conv_nd(
    u: Float[Array, "b *spatial c"], kernel: Float[Array, "kb *kspatial c"]
) -> Float[Array, "b *spatial c"]:
    r"""Depthwise 'same' convolution $y[n] = \sum_{|m| < L} k[m]\,u[n - m]$ via FFTs.

    ``u`` is ``[B, L_1, ..., L_D, C]`` (zero outside), ``kernel`` is
    ``[1|B, 2L_1 - 1, ..., 2L_D - 1, C]`` centred on offset zero. Padding to
    $3L_i - 2$ points per axis makes the circular convolution linear.

    Args:
        u: the input ``[B, L_1, ..., L_D, C]``.
        kernel: the kernel ``[1|B, 2L_1 - 1, ..., 2L_D - 1, C]``.

    Returns:
        The convolution, of the shape of `u`.

    Example:
        >>> import jax.numpy as jnp
        >>> u = jnp.zeros((1, 5, 1)).at[0, 2, 0].set(1.0)  # a unit impulse
        >>> k = jnp.arange(9.0).reshape(1, 9, 1)
        >>> fft_conv_nd(u, k)[0, :, 0].round(6).tolist()  # the kernel's centre, around 0
        [2.0, 3.0, 4.0, 5.0, 6.0]
    """
    u = jnp.asarray(u)
    kernel = jnp.asarray(kernel)
    D = u.ndim - 2
    lens = u.shape[1:-1]
    expected = tuple(2 * n - 1 for n in lens)
    if D < 1 or kernel.ndim != u.ndim or kernel.shape[1:-1] != expected:
        raise ValueError(
            f"`kernel` must have shape [1|B, *{expected}, C] for `u` of shape {u.shape}, got "
            f"{kernel.shape}"
        )
    if kernel.shape[-1] != u.shape[-1] or kernel.shape[0] not in (1, u.shape[0]):
        raise ValueError(
            f"`kernel` of shape {kernel.shape} must match `u` of shape {u.shape} in channels "
            "and have batch 1 or B"
        )
    axes = tuple(range(1, D + 1))
    size = tuple(3 * n - 2 for n in lens)
    U = jnp.fft.rfftn(u, s=size, axes=axes)
    K = jnp.fft.rfftn(kernel, s=size, axes=axes)
    full = jnp.fft.irfftn(U * K, s=size, axes=axes)
    index = (slice(None),) + tuple(slice(n - 1, 2 * n - 1) for n in lens) + (slice(None),)
    return full[index]


@final
class SIRENConvND(eqx.Module):
    """A long convolution layer: `fft_conv_nd` of the input with a `SIRENKernelND` kernel.

    Input ``[B, *spatial, C]`` with ``C == kernel_net.out_dim``; the kernel is generated for
    the input's spatial lengths (with an optional ``[B, cond]`` conditioning).

    Attributes:
        kernel_net: the `SIRENKernelND` that generates the kernel.

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> conv = SIRENConvND(SIRENKernelND(3, 2, 16, 2, 16, 10.0, 8, True, key=jr.key(0)))
        >>> conv(jnp.ones((2, 8, 6, 3))).shape
        (2, 8, 6, 3)
    """

    kernel_net: SIRENKernelND

    def __call__(
        self, u: Float[Array, "b *spatial c"], conditioning: Float[Array, "b k"] | None = None
    ) -> Float[Array, "b *spatial c"]:
        u = jnp.asarray(u)
        if u.ndim != self.kernel_net.data_dim + 2 or u.shape[-1] != self.kernel_net.out_dim:
            raise ValueError(
                f"`u` must have shape [B, *spatial ({self.kernel_net.data_dim} axes), "
                f"{self.kernel_net.out_dim}], got {u.shape}"
            )
        kernel, _ = self.kernel_net(u.shape[1:-1], conditioning)
        return fft_conv_nd(u, kernel)
