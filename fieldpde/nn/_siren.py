r"""SIREN: sine-activated networks with the Sitzmann initialisation.

A depth-$L$ SIREN is $f(x) = W_{L-1} h_{L-2} + b_{L-1}$ with
$h_i = \sin(\omega_i (W_i h_{i-1} + b_i))$ and $h_{-1} = x$. Weights are drawn from
uniform distributions whose half-width depends on the layer's role:

| regime | $W$ half-width | activation |
|---|---|---|
| ``"first"`` | $1/d_\text{in}$ | $\sin(\omega_0 z)$ |
| ``"hidden"`` | $\sqrt{c/d_\text{in}}/\omega$ | $\sin(\omega z)$ |
| ``"last"`` | $\sqrt{c/d_\text{in}}$ | none (linear) |

The SIREN paper's own code draws its linear readout (``outermost_linear=True``) like a
hidden layer instead, $\sqrt{c/d_\text{in}}/\omega$, $\omega$ times narrower, so that
the network's output (and its gradient) starts small; ``readout_init="paper"`` selects that
rule (the table's ``"wide"`` rule stays the default).

Biases are $\mathcal{U}(\pm 1/\sqrt{d_\text{in}})$. With $c = 6$ a hidden layer whose input
has variance $1/2$ (the arcsine law of a sine of a wide Gaussian) produces pre-activations
$\omega(Wh + b)$ of variance $c/3 \cdot 1/2 = 1$ from the weights (Sitzmann et al.
2020, Theorem 1), so activations neither vanish nor saturate with depth.
"""

import math
from typing import Literal, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import as_key, last_axis, positive_float, positive_int
from ..ops import Jet, sin
from ._stack import jet_layers, run_layers

LayerType = Literal["first", "hidden", "last"]
ReadoutInit = Literal["wide", "paper"]
_READOUT_INITS = ("wide", "paper")


def _check_readout_init(readout_init) -> ReadoutInit:
    if readout_init not in _READOUT_INITS:
        raise ValueError(
            f"`readout_init` must be 'wide' (U(+-sqrt(c/d))) or 'paper' (U(+-sqrt(c/d)/omega), "
            f"the SIREN paper's outermost_linear layer), got {readout_init!r}"
        )
    return readout_init


def siren_weight_limit(
    layer_type: LayerType,
    in_features: int,
    omega: float,
    c: float,
    *,
    readout_init: ReadoutInit = "wide",
) -> float:
    """Half-width $a$ of the uniform weight init $\\mathcal{U}(-a, a)$ for a SIREN layer.

    Args:
        layer_type: ``"first"`` ($a = 1/d_\\text{in}$), ``"hidden"``
            ($a = \\sqrt{c/d_\\text{in}}/\\omega$) or ``"last"`` ($a = \\sqrt{c/d_\\text{in}}$).
        in_features: the layer's input width $d_\\text{in}$.
        omega: the layer's $\\omega$.
        c: the Theorem-1 constant (6 in the paper).
        readout_init: the rule of the ``"last"`` layer: ``"wide"`` (above) or ``"paper"``,
            $a = \\sqrt{c/d_\\text{in}}/\\omega$ as the SIREN paper's ``outermost_linear``
            readout (ignored by the other layer types).

    Returns:
        The half-width $a$.

    Example:
        >>> siren_weight_limit("hidden", 64, 30.0, 6.0) == (6 / 64) ** 0.5 / 30
        True
        >>> siren_weight_limit("last", 64, 30.0, 6.0, readout_init="paper") == (6 / 64) ** 0.5 / 30
        True
    """
    readout_init = _check_readout_init(readout_init)
    if layer_type == "first":
        return 1.0 / in_features
    if layer_type == "hidden":
        return math.sqrt(c / in_features) / omega
    if layer_type == "last":
        scale = omega if readout_init == "paper" else 1.0
        return math.sqrt(c / in_features) / scale
    raise ValueError(f"`layer_type` must be 'first', 'hidden' or 'last', got {layer_type!r}")


@final
class SirenDense(eqx.Module):
    r"""One SIREN layer: $\sin(\omega (xW + b))$, or $xW + b$ for the readout.

    Attributes:
        W: weights, shape ``(in_features, out_features)``.
        b: bias, shape ``(out_features,)``.
        omega: frequency multiplier $\omega$ (unused by the linear ``"last"`` layer).
        layer_type: ``"first"``, ``"hidden"`` or ``"last"``; fixes the init range and
            whether a sine follows.
        c: the Theorem-1 constant used at init.

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> layer = SirenDense.init(2, 16, key=jr.key(0), layer_type="first")
        >>> layer(jnp.zeros((5, 2))).shape
        (5, 16)
    """

    W: Float[Array, "i o"]
    b: Float[Array, " o"]
    omega: float = eqx.field(static=True)
    layer_type: LayerType = eqx.field(static=True)
    c: float = eqx.field(static=True)

    @classmethod
    def init(
        cls,
        in_features: int,
        out_features: int,
        *,
        key: PRNGKeyArray,
        layer_type: LayerType = "hidden",
        omega: float = 30.0,
        c: float = 6.0,
        readout_init: ReadoutInit = "wide",
        dtype=None,
    ) -> "SirenDense":
        """Draw a layer from the Sitzmann init for its regime.

        Args:
            in_features: input width $d_\\text{in}$.
            out_features: output width.
            key: PRNG key of the weights and bias.
            layer_type: ``"first"``, ``"hidden"`` or ``"last"`` (see `siren_weight_limit`).
            omega: the layer's $\\omega$; for a ``"paper"`` readout, the $\\omega$ its
                weights are divided by (the hidden layers' one).
            c: the Theorem-1 constant.
            readout_init: ``"wide"`` (default) or ``"paper"``, the rule of a ``"last"``
                layer (see `siren_weight_limit`).
            dtype: parameter dtype (default: JAX's default float).

        Raises:
            ValueError: a non-positive size, `omega` or `c`, or an unknown `layer_type` or
                `readout_init`.
        """
        key = as_key(key)
        in_features = positive_int("in_features", in_features)
        out_features = positive_int("out_features", out_features)
        omega = positive_float("omega", omega)
        c = positive_float("c", c)
        limit = siren_weight_limit(layer_type, in_features, omega, c, readout_init=readout_init)
        dtype = jnp.result_type(float) if dtype is None else dtype
        wkey, bkey = jax.random.split(key)
        W = jax.random.uniform(wkey, (in_features, out_features), dtype, -limit, limit)
        blim = 1.0 / math.sqrt(in_features)
        b = jax.random.uniform(bkey, (out_features,), dtype, -blim, blim)
        return cls(W=W, b=b, omega=omega, layer_type=layer_type, c=c)

    @property
    def in_features(self) -> int:
        return self.W.shape[0]

    @property
    def out_features(self) -> int:
        return self.W.shape[1]

    def pre_activation(self, x: Float[Array, "*batch i"]) -> Float[Array, "*batch o"]:
        """The argument of the sine, $\\omega(xW + b)$ (for the readout: $xW + b$)."""
        x = last_axis("x", x, self.in_features, "SirenDense")
        z = x @ self.W + self.b
        return z if self.layer_type == "last" else self.omega * z

    def __call__(self, x: Float[Array, "*batch i"]) -> Float[Array, "*batch o"]:
        z = self.pre_activation(x)
        return z if self.layer_type == "last" else sin(z)

    def forward_laplacian(self, jet: Jet) -> Jet:
        """Push a `Jet` through the layer (value, derivatives and Laplacian in one pass)."""
        z = jet.linear(self.W, self.b)
        return z if self.layer_type == "last" else z.sine(self.omega)


@final
class SIREN(eqx.Module):
    r"""A sine network $(\dots, d) \to (\dots, m)$ with the three Sitzmann init regimes.

    Build it with `SIREN.init`. It acts on the last axis, so a single point ``(d,)`` and a
    batch ``(..., d)`` both work, and it supports the one-pass
    `fieldpde.ops.value_grad_laplacian` fast path.

    Attributes:
        layers: the `SirenDense` layers, first to readout; replace them with
            ``eqx.tree_at(lambda s: s.layers, net, new_layers)``.

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> net = SIREN.init(2, 32, 1, depth=3, key=jr.key(0))
        >>> net(jnp.zeros(2)).shape, net(jnp.zeros((4, 7, 2))).shape
        ((1,), (4, 7, 1))
    """

    layers: tuple[SirenDense, ...]

    @classmethod
    def init(
        cls,
        in_features: int,
        hidden_features: int,
        out_features: int,
        *,
        depth: int,
        key: PRNGKeyArray,
        first_omega: float = 30.0,
        hidden_omega: float = 30.0,
        c: float = 6.0,
        readout_init: ReadoutInit = "wide",
        dtype=None,
    ) -> "SIREN":
        r"""Initialise a SIREN.

        Args:
            in_features: input dimension $d$.
            hidden_features: width of every hidden layer.
            out_features: output dimension $m$.
            depth: number of layers including the linear readout (>= 2).
            key: PRNG key, split once per layer.
            first_omega: $\omega_0$ of the first layer (30 in the paper).
            hidden_omega: $\omega$ of the hidden layers.
            c: the Theorem-1 constant (6 gives unit-variance pre-activations).
            readout_init: the linear readout's init: ``"wide"`` (default,
                $\\mathcal{U}(\\pm\\sqrt{c/d})$) or ``"paper"``
                ($\\mathcal{U}(\\pm\\sqrt{c/d}/\\omega)$ with $\\omega$ = `hidden_omega`, the
                SIREN paper code's ``outermost_linear`` layer, whose image-fit and Poisson
                curves it reproduces).
            dtype: parameter dtype (default: JAX's default float).

        Raises:
            ValueError: `depth` < 2, a non-positive size, omega or `c`, or an unknown
                `readout_init`.

        Example:
            >>> import jax.random as jr
            >>> wide = SIREN.init(2, 256, 1, depth=3, key=jr.key(0))
            >>> paper = SIREN.init(2, 256, 1, depth=3, key=jr.key(0), readout_init="paper")
            >>> float(abs(wide.layers[-1].W).max() / abs(paper.layers[-1].W).max())  # omega
            30.0
        """
        key = as_key(key)
        depth = positive_int("depth", depth, minimum=2, hint="first layer plus linear readout")
        in_features = positive_int("in_features", in_features)
        hidden_features = positive_int("hidden_features", hidden_features)
        out_features = positive_int("out_features", out_features)
        first_omega = positive_float("first_omega", first_omega)
        hidden_omega = positive_float("hidden_omega", hidden_omega)
        readout_init = _check_readout_init(readout_init)
        keys = jax.random.split(key, depth)
        sizes = [in_features] + [hidden_features] * (depth - 1) + [out_features]
        layers = []
        for i in range(depth):
            layer_type: LayerType = "first" if i == 0 else "last" if i == depth - 1 else "hidden"
            omega = first_omega if i == 0 else hidden_omega
            layers.append(
                SirenDense.init(
                    sizes[i],
                    sizes[i + 1],
                    key=keys[i],
                    layer_type=layer_type,
                    omega=omega,
                    c=c,
                    readout_init=readout_init,
                    dtype=dtype,
                )
            )
        return cls(layers=tuple(layers))

    @property
    def in_features(self) -> int:
        return self.layers[0].in_features

    @property
    def out_features(self) -> int:
        return self.layers[-1].out_features

    def __call__(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch m"]:
        return run_layers(self.layers, x, "SIREN")

    def forward_laplacian(self, jet: Jet) -> Jet:
        """Push a `Jet` through every layer (see `fieldpde.ops.value_grad_laplacian`)."""
        return jet_layers(self.layers, jet, "SIREN")
