r"""Per-layer activation statistics, as used in the SIREN paper to check the init.

With the Sitzmann init, hidden pre-activations are close to Gaussian and post-activations
follow the arcsine law on $[-1, 1]$ (variance $1/2$), alternating layer after layer.
"""

from typing import Any, NamedTuple, final

import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import last_axis


@final
class LayerActivations(NamedTuple):
    r"""Values entering and leaving one layer's nonlinearity at a batch of points.

    Attributes:
        index: position of the layer in the network.
        pre: pre-activations (for a SIREN layer the sine's argument $\omega(hW+b)$).
        post: the layer's output.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde.nn import SIREN
        >>> net = SIREN.init(1, 8, 1, depth=2, key=jax.random.key(0))
        >>> first = activation_statistics(net, jnp.linspace(-1, 1, 5)[:, None])[0]
        >>> first.index, first.pre.shape, bool(jnp.allclose(first.post, jnp.sin(first.pre)))
        (0, (5, 8), True)
        >>> sorted(first.summary())
        ['post_mean', 'post_var', 'pre_mean', 'pre_var']
    """

    index: int
    pre: Float[Array, "n w"]
    post: Float[Array, "n w"]

    def summary(self) -> dict[str, float]:
        """Mean and variance of the pre- and post-activations."""
        return {
            "pre_mean": float(jnp.mean(self.pre)),
            "pre_var": float(jnp.var(self.pre)),
            "post_mean": float(jnp.mean(self.post)),
            "post_var": float(jnp.var(self.post)),
        }


def activation_statistics(net: Any, x: Float[Array, "*batch d"]) -> list[LayerActivations]:
    """Record every layer's pre- and post-activations of `net` at points `x`.

    Works for any network with a ``layers`` sequence whose layers have ``pre_activation``
    and ``__call__`` (`SIREN`, `MLP`).

    Args:
        net: the network.
        x: points, shape ``(..., d)`` (flattened to ``(n, d)``).

    Returns:
        One `LayerActivations` per layer, in order.

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> from fieldpde.nn import SIREN
        >>> net = SIREN.init(1, 64, 1, depth=3, key=jr.key(0))
        >>> stats = activation_statistics(net, jnp.linspace(-1, 1, 100)[:, None])
        >>> [s.post.shape for s in stats]
        [(100, 64), (100, 64), (100, 1)]
    """
    layers = getattr(net, "layers", None)
    if not layers or not all(hasattr(layer, "pre_activation") for layer in layers):
        raise TypeError(
            f"`net` must have `layers` with a `pre_activation` method (SIREN, MLP), "
            f"got {type(net).__name__}"
        )
    h = last_axis("x", x, layers[0].in_features, "activation_statistics")
    h = h.reshape((-1, h.shape[-1]))
    records = []
    for i, layer in enumerate(layers):
        pre = layer.pre_activation(h)
        h = layer(h)
        records.append(LayerActivations(i, pre, h))
    return records
