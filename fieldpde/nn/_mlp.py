"""A plain multilayer perceptron with the SIREN calling convention, for comparisons."""

import math
from collections.abc import Callable
from functools import partial
from typing import final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import as_key, last_axis, positive_int
from ..ops import Jet, sin
from ._stack import jet_layers, run_layers

_ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "gelu": partial(jax.nn.gelu, approximate=False),
    "sin": sin,
    "silu": jax.nn.silu,
    "softplus": jax.nn.softplus,
}


@final
class Dense(eqx.Module):
    """Affine layer $xW + b$ optionally followed by a named elementwise activation.

    Attributes:
        W: weights, shape ``(in_features, out_features)``.
        b: bias, shape ``(out_features,)``.
        activation: a name from ``MLP.activations`` or ``None`` for a linear layer.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> layer = Dense.init(2, 3, key=jax.random.key(0), activation="tanh")
        >>> x = jnp.array([[0.5, -1.0]])
        >>> layer(x).shape, bool(jnp.allclose(layer(x), jnp.tanh(x @ layer.W + layer.b)))
        ((1, 3), True)
    """

    W: Float[Array, "i o"]
    b: Float[Array, " o"]
    activation: str | None = eqx.field(static=True)

    @classmethod
    def init(
        cls,
        in_features: int,
        out_features: int,
        *,
        key: PRNGKeyArray,
        activation: str | None = None,
        dtype=None,
    ) -> "Dense":
        """LeCun-uniform init $\\mathcal{U}(\\pm 1/\\sqrt{d_\\text{in}})$ (as PyTorch).

        Args:
            in_features: input width $d_\\text{in}$.
            out_features: output width.
            key: PRNG key of the weights and bias.
            activation: a name from ``MLP.activations``, or None for a linear layer.
            dtype: parameter dtype (default: JAX's default float).

        Raises:
            ValueError: an unknown `activation`.
        """
        key = as_key(key)
        if activation is not None and activation not in _ACTIVATIONS:
            raise ValueError(
                f"`activation` must be one of {sorted(_ACTIVATIONS)} or None, got {activation!r}"
            )
        dtype = jnp.result_type(float) if dtype is None else dtype
        lim = 1.0 / math.sqrt(in_features)
        wkey, bkey = jax.random.split(key)
        W = jax.random.uniform(wkey, (in_features, out_features), dtype, -lim, lim)
        b = jax.random.uniform(bkey, (out_features,), dtype, -lim, lim)
        return cls(W=W, b=b, activation=activation)

    @property
    def in_features(self) -> int:
        return self.W.shape[0]

    @property
    def out_features(self) -> int:
        return self.W.shape[1]

    def pre_activation(self, x: Float[Array, "*batch i"]) -> Float[Array, "*batch o"]:
        """The affine part $xW + b$."""
        return last_axis("x", x, self.in_features, "Dense") @ self.W + self.b

    def __call__(self, x: Float[Array, "*batch i"]) -> Float[Array, "*batch o"]:
        z = self.pre_activation(x)
        return z if self.activation is None else _ACTIVATIONS[self.activation](z)

    def forward_laplacian(self, jet: Jet) -> Jet:
        """Push a `Jet` through the layer."""
        z = jet.linear(self.W, self.b)
        if self.activation is None:
            return z
        if self.activation == "sin":
            return z.sine(1.0)
        return z.elementwise(_ACTIVATIONS[self.activation])


@final
class MLP(eqx.Module):
    """A fully connected network $(\\dots, d) \\to (\\dots, m)$ with a linear readout.

    Same calling convention and `forward_laplacian` fast path as `SIREN`, so it can stand in
    as a baseline anywhere a field is expected. Note that ReLU has a zero second derivative,
    so a ReLU network's Laplacian vanishes almost everywhere: use tanh, gelu, silu or sin
    for second-order PDEs.

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> net = MLP.init(1, 64, 1, depth=4, key=jr.key(0), activation="tanh")
        >>> net(jnp.zeros((10, 1))).shape
        (10, 1)
    """

    layers: tuple[Dense, ...]
    activations = tuple(sorted(_ACTIVATIONS))

    @classmethod
    def init(
        cls,
        in_features: int,
        hidden_features: int,
        out_features: int,
        *,
        depth: int,
        key: PRNGKeyArray,
        activation: str = "relu",
        dtype=None,
        init: str = "lecun_uniform",
    ) -> "MLP":
        """Build an MLP of `depth` layers (counting the readout, as for `SIREN.init`).

        Args:
            in_features: input dimension $d$.
            hidden_features: width of every hidden layer.
            out_features: output dimension $m$.
            depth: number of layers including the linear readout (>= 2).
            key: PRNG key, split once per layer.
            activation: the hidden layers' activation, a name from ``MLP.activations``.
            dtype: parameter dtype (default: JAX's default float).
            init: ``"lecun_uniform"`` (`Dense.init`, as PyTorch) or ``"glorot_normal"``:
                $W \\sim \\mathcal{N}(0, 2 / (d_\\text{in} + d_\\text{out}))$ drawn with
                layer ``i``'s key and zero biases, as Raissi et al.'s PINNs.

        Raises:
            ValueError: `depth` < 2, a non-positive size, or an unknown `activation` or
                `init`.

        Example:
            >>> import jax
            >>> net = MLP.init(2, 20, 1, depth=3, key=jax.random.key(0), activation="tanh",
            ...                init="glorot_normal")
            >>> float(abs(net.layers[1].b).max()), net.layers[1].W.std() < 0.4  # sqrt(2/40)
            (0.0, Array(True, dtype=bool))
        """
        key = as_key(key)
        depth = positive_int("depth", depth, minimum=2, hint="first layer plus linear readout")
        sizes = (
            [positive_int("in_features", in_features)]
            + [positive_int("hidden_features", hidden_features)] * (depth - 1)
            + [positive_int("out_features", out_features)]
        )
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"`activation` must be one of {sorted(_ACTIVATIONS)}, got {activation!r}"
            )
        if init not in ("lecun_uniform", "glorot_normal"):
            raise ValueError(f"`init` must be 'lecun_uniform' or 'glorot_normal', got {init!r}")
        keys = jax.random.split(key, depth)
        if init == "glorot_normal":
            dt = jnp.result_type(float) if dtype is None else dtype
            return cls(
                layers=tuple(
                    Dense(
                        W=jax.random.normal(keys[i], (sizes[i], sizes[i + 1]), dt)
                        * math.sqrt(2.0 / (sizes[i] + sizes[i + 1])),
                        b=jnp.zeros((sizes[i + 1],), dt),
                        activation=None if i == depth - 1 else activation,
                    )
                    for i in range(depth)
                )
            )
        layers = tuple(
            Dense.init(
                sizes[i],
                sizes[i + 1],
                key=keys[i],
                activation=None if i == depth - 1 else activation,
                dtype=dtype,
            )
            for i in range(depth)
        )
        return cls(layers=layers)

    @property
    def in_features(self) -> int:
        return self.layers[0].in_features

    def __call__(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch m"]:
        return run_layers(self.layers, x, "MLP")

    def forward_laplacian(self, jet: Jet) -> Jet:
        """Push a `Jet` through every layer (see `fieldpde.ops.value_grad_laplacian`)."""
        return jet_layers(self.layers, jet, "MLP")
