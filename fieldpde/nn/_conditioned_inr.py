r"""`ConditionedINR`: any layered field with a conditioner after every non-readout layer.

For an inner network with layers $\ell_0, \dots, \ell_{L-1}$ (a `SIREN` or `MLP`),

$$h_0 = c_0(\ell_0(x), z), \quad h_i = c_i(\ell_i(h_{i-1}), z), \quad
  y = \ell_{L-1}(h_{L-2}),$$

so with FiLM conditioners this is the FiLM-SIREN
$h_i = \gamma_i(z) \odot \sin(\omega_i(W_i h_{i-1} + b_i)) + \beta_i(z)$.
``mode="input"`` instead feeds $[x \,|\, z]$ to the inner network (which must then take
$d + K$ inputs), for networks without a ``layers`` sequence such as an `eqx.nn.MLP`; the
inner network is called on one point at a time (``jax.vmap`` over the points).

Conditioner ``i`` is named ``f"{pyrox_name}.layer_{i}"`` when the field has a
``pyrox_name``, else ``f"{Class}_{hex}"`` with ``hex`` 12 hexadecimal digits of its init key,
so a Bayesian conditioner's numpyro sites are distinct between fields built from different
keys and identical from run to run.
"""

from typing import Any, Literal, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import as_key, positive_int
from ._cond_shapes import flatten_xz
from ._conditioners import AbstractConditioner
from ._pyrox import PyroxModule, key_tag, pyrox_method

ConditionedMode = Literal["feature", "input"]


def _in_features(inner: Any) -> int | None:
    n = getattr(inner, "in_features", None)
    if n is None and getattr(inner, "layers", None):
        n = getattr(inner.layers[0], "in_features", None)
    return n


@final
class ConditionedINR(PyroxModule):
    """A conditioned field ``(x, z) -> y`` built around an inner network.

    Called as ``field(x, z)`` with ``x`` of shape ``(d,)`` or ``(..., d)`` and ``z`` of shape
    ``(K,)`` (one context for all points) or ``(..., K)`` (one per point); returns
    ``(..., m)``. Derivatives with `fieldpde.ops` are taken with respect to ``x`` only.

    Attributes:
        inner: the wrapped network.
        conditioners: one conditioner per non-readout layer (empty in input mode).
        cond_dim: context size $K$.
        mode: ``"feature"`` or ``"input"``.
        pyrox_name: the numpyro scope prefix of the conditioners (or None).

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> from fieldpde.nn import SIREN, AffineModulation
        >>> inner = SIREN.init(2, 32, 1, depth=4, key=jr.key(0))
        >>> field = ConditionedINR.init(
        ...     inner, conditioner_cls=AffineModulation, cond_dim=4, key=jr.key(1))
        >>> field(jnp.ones((10, 2)), jnp.ones((10, 4))).shape, field(jnp.ones(2), jnp.ones(4)).shape
        ((10, 1), (1,))

        Input mode around an `eqx.nn.MLP` of $d + K$ inputs:

        >>> import equinox as eqx
        >>> mlp = eqx.nn.MLP(in_size=2 + 4, out_size=1, width_size=16, depth=2, key=jr.key(2))
        >>> field = ConditionedINR.init(mlp, cond_dim=4, key=jr.key(3), mode="input")
        >>> field(jnp.ones((10, 2)), jnp.ones(4)).shape
        (10, 1)
    """

    inner: Any
    conditioners: tuple[AbstractConditioner, ...]
    cond_dim: int = eqx.field(static=True)
    mode: ConditionedMode = eqx.field(static=True, default="feature")

    @classmethod
    def init(
        cls,
        inner: Any,
        *,
        conditioner_cls: type[AbstractConditioner] | None = None,
        cond_dim: int,
        key: PRNGKeyArray,
        mode: ConditionedMode = "feature",
        pyrox_name: str | None = None,
        **conditioner_kwargs: Any,
    ) -> "ConditionedINR":
        """Wrap `inner`, building one `conditioner_cls` per non-readout layer.

        Conditioner ``i`` is built by ``conditioner_cls.for_layer`` with the ``i``-th key of
        ``jax.random.split(key, len(inner.layers) - 1)`` and scoped
        ``f"{pyrox_name}.layer_{i}"`` (or, without `pyrox_name`,
        ``f"{ConditionerClass}_{hex}"`` with 12 hex digits of that key; ``_{i}`` when the key
        is traced, e.g. under ``jax.vmap``), so Bayesian conditioners of different fields
        get distinct numpyro sites and the same ones in every run.

        Args:
            inner: network with a ``layers`` sequence (feature mode) or any callable of one
                point ``(d + K,) -> (m,)`` (input mode; it is vmapped over the points).
            conditioner_cls: a conditioner class (`AffineModulation`, `HyperLinear`, ...);
                required in feature mode, unused in input mode.
            cond_dim: context size $K$.
            key: PRNG key, split once per conditioner (unused in input mode).
            mode: ``"feature"`` (conditioner after every hidden layer) or ``"input"``.
            pyrox_name: optional numpyro scope prefix.
            **conditioner_kwargs: forwarded to each conditioner's constructor.

        Raises:
            ValueError: unknown `mode`, bad `cond_dim`, or an inner network with no layers.
            TypeError: `conditioner_cls` is not a conditioner class (feature mode).
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
            width = layer.out_features
            if pyrox_name:
                name = f"{pyrox_name}.layer_{i}"
            else:
                name = f"{conditioner_cls.__name__}_{key_tag(k, i)}"
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

    @pyrox_method
    def __call__(self, x: Float[Array, "*batch d"], z: Float[Array, "*batch k"]) -> Array:
        d = self.in_features
        if d is None:  # an opaque inner network in input mode: trust the caller's `x`
            d = x.shape[-1]
        x2, z2, batch = flatten_xz(x, z, d, self.cond_dim, "ConditionedINR")
        if self.mode == "input":
            if z2.ndim == 1:
                z2 = jnp.broadcast_to(z2, x2.shape[:-1] + z2.shape)
            y = jax.vmap(self.inner)(jnp.concatenate([x2, z2], axis=-1))
        else:
            layers = self.inner.layers
            h = x2
            for layer, cond in zip(layers[:-1], self.conditioners, strict=True):
                h = cond(layer(h), z2)
            y = layers[-1](h)
        return y.reshape(batch + y.shape[-1:])
