r"""`ConditionedINR`: any layered field with a conditioner after every non-readout layer.

For an inner network with layers $\ell_0, \dots, \ell_{L-1}$ (a `SIREN` or `MLP`),

$$h_0 = c_0(\ell_0(x), z), \quad h_i = c_i(\ell_i(h_{i-1}), z), \quad
  y = \ell_{L-1}(h_{L-2}),$$

so with FiLM conditioners this is the FiLM-SIREN
$h_i = \gamma_i(z) \odot \sin(\omega_i(W_i h_{i-1} + b_i)) + \beta_i(z)$.
``mode="input"`` instead feeds $[x \,|\, z]$ to the inner network (which must then take
$d + K$ inputs), for networks without a ``layers`` sequence.
"""

from typing import Any, Literal, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import as_key, positive_int
from ._cond_shapes import flatten_xz
from ._conditioners import AbstractConditioner

ConditionedMode = Literal["feature", "input"]


def _in_features(inner: Any) -> int | None:
    n = getattr(inner, "in_features", None)
    if n is None and getattr(inner, "layers", None):
        n = getattr(inner.layers[0], "in_features", None)
    return n


@final
class ConditionedINR(eqx.Module):
    """A conditioned field ``(x, z) -> y`` built around an inner network.

    Called as ``field(x, z)`` with ``x`` of shape ``(d,)`` or ``(..., d)`` and ``z`` of shape
    ``(K,)`` (one context for all points) or ``(..., K)`` (one per point); returns
    ``(..., m)``. Derivatives with `fieldpde.ops` are taken with respect to ``x`` only.

    Attributes:
        inner: the wrapped network.
        conditioners: one conditioner per non-readout layer (empty in input mode).
        cond_dim: context size $K$.
        mode: ``"feature"`` or ``"input"``.

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> from fieldpde.nn import SIREN, AffineModulation
        >>> inner = SIREN.init(2, 32, 1, depth=4, key=jr.key(0))
        >>> field = ConditionedINR.init(
        ...     inner, conditioner_cls=AffineModulation, cond_dim=4, key=jr.key(1))
        >>> field(jnp.ones((10, 2)), jnp.ones((10, 4))).shape, field(jnp.ones(2), jnp.ones(4)).shape
        ((10, 1), (1,))
    """

    inner: Any
    conditioners: tuple[AbstractConditioner, ...]
    cond_dim: int = eqx.field(static=True)
    mode: ConditionedMode = eqx.field(static=True, default="feature")
    pyrox_name: str | None = eqx.field(static=True, default=None)

    @classmethod
    def init(
        cls,
        inner: Any,
        *,
        conditioner_cls: type[AbstractConditioner],
        cond_dim: int,
        key: PRNGKeyArray,
        mode: ConditionedMode = "feature",
        pyrox_name: str | None = None,
        **conditioner_kwargs: Any,
    ) -> "ConditionedINR":
        """Wrap `inner`, building one `conditioner_cls` per non-readout layer.

        Conditioner ``i`` is scoped ``f"{pyrox_name}.layer_{i}"`` (or
        ``f"{ConditionerClass}_{i}"`` without `pyrox_name`), so Bayesian conditioners get
        distinct numpyro sites.

        Args:
            inner: network with a ``layers`` sequence (feature mode) or any callable
                ``(..., d + K) -> (..., m)`` (input mode).
            conditioner_cls: a conditioner class (`AffineModulation`, `HyperLinear`, ...).
            cond_dim: context size $K$.
            key: PRNG key, split once per conditioner.
            mode: ``"feature"`` (conditioner after every hidden layer) or ``"input"``.
            pyrox_name: optional numpyro scope prefix.
            **conditioner_kwargs: forwarded to each conditioner's constructor.

        Raises:
            ValueError: unknown `mode`, bad `cond_dim`, or an inner network with no layers.
            TypeError: `conditioner_cls` is not a conditioner class.
        """
        key = as_key(key)
        cond_dim = positive_int("cond_dim", cond_dim)
        if mode not in ("feature", "input"):
            raise ValueError(f"`mode` must be 'feature' or 'input', got {mode!r}")
        if mode == "input":
            return cls(
                inner=inner, conditioners=(), cond_dim=cond_dim, mode=mode, pyrox_name=pyrox_name
            )
        if not (
            isinstance(conditioner_cls, type) and issubclass(conditioner_cls, AbstractConditioner)
        ):
            raise TypeError(
                "`conditioner_cls` must be a conditioner class such as AffineModulation, "
                f"got {conditioner_cls!r}"
            )
        layers = getattr(inner, "layers", None)
        if not layers or len(layers) < 2:
            raise ValueError(
                "`inner` must have a `layers` sequence of at least two layers (e.g. a SIREN or "
                "MLP) for mode='feature'; use mode='input' for other networks"
            )
        keys = jax.random.split(key, len(layers) - 1)
        conditioners = []
        for i, (layer, k) in enumerate(zip(layers[:-1], keys, strict=True)):
            width = layer.W.shape[-1] if hasattr(layer, "W") else layer.out_features
            name = f"{pyrox_name}.layer_{i}" if pyrox_name else f"{conditioner_cls.__name__}_{i}"
            conditioners.append(
                conditioner_cls.for_layer(
                    width, cond_dim, key=k, pyrox_name=name, **conditioner_kwargs
                )
            )
        return cls(
            inner=inner,
            conditioners=tuple(conditioners),
            cond_dim=cond_dim,
            mode=mode,
            pyrox_name=pyrox_name,
        )

    @property
    def in_features(self) -> int | None:
        n = _in_features(self.inner)
        if n is not None and self.mode == "input":
            n -= self.cond_dim
        return n

    def __call__(self, x: Float[Array, "*batch d"], z: Float[Array, "*batch k"]) -> Array:
        d = self.in_features
        if d is None:  # an opaque inner network in input mode: trust the caller's `x`
            d = x.shape[-1]
        x2, z2, batch = flatten_xz(x, z, d, self.cond_dim, "ConditionedINR")
        if self.mode == "input":
            if z2.ndim == 1:
                z2 = jnp.broadcast_to(z2, x2.shape[:-1] + z2.shape)
            y = self.inner(jnp.concatenate([x2, z2], axis=-1))
        else:
            layers = self.inner.layers
            h = x2
            for layer, cond in zip(layers[:-1], self.conditioners, strict=True):
                h = cond(layer(h), z2)
            y = layers[-1](h)
        return y.reshape(batch + y.shape[-1:])
