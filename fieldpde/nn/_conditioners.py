r"""Conditioners: layers $c(h, z) \to y$ that let a context $z$ change an activation $h$.

Three patterns cover the literature (Perez et al. 2018; Ha et al. 2017; Pan et al. 2023):

| class | update | generator size |
|---|---|---|
| `ConcatConditioner` | $y = [h \,|\, z] W + b$ | $(C + K) C + C$ |
| `AffineModulation` (`FiLM`) | $y = \gamma(z) \odot h + \beta(z)$ | $2CK + 2C$ |
| `HyperLinear` | $(W, b) = g(z)$, $y = h W + b$ | $K (C_\text{in} C + C) + C_\text{in} C + C$ |

All share one contract: ``h`` has shape ``(C,)`` or ``(N, C)``; ``z`` has shape ``(K,)``
(one context shared by every row) or ``(N, K)`` (one context per row). Anything else is a
`ValueError` that names the argument.

The learned maps are `equinox.nn.Linear` layers, as the reference API names them
(`ConcatConditioner.proj`, `AffineModulation.generator`, `HyperLinear.generator`); the
read-only ``W`` / ``b`` properties give them in the $zW + b$ orientation. The FiLM and
hypernetwork generators start with a zero bias, so a FiLM layer is the identity at $z = 0$
and a hypernetwork's generated map starts near zero.
"""

import abc
from typing import Any, Literal, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import as_key, positive_float, positive_int
from ._cond_shapes import check_hz
from ._pyrox import PyroxModule

GammaActivation = Literal["one_plus_tanh", "exp", "softplus", "identity"]
_GAMMAS = ("one_plus_tanh", "exp", "softplus", "identity")


class AbstractConditioner(PyroxModule):
    """A layer ``(h, z) -> y`` with ``h.shape[-1] == num_features``, ``z.shape[-1] == cond_dim``.

    A concrete conditioner declares ``num_features`` and ``cond_dim`` and implements
    ``__call__``; that is all it needs. `for_layer` is how `ConditionedINR` builds one after
    a layer of a given width: the default calls ``cls(num_features=width,
    cond_dim=cond_dim, pyrox_name=pyrox_name, **kwargs)``; a class with another constructor
    (an ``init`` taking a key, say) overrides it.

    Attributes:
        num_features: the width of ``h`` (abstract: a concrete class declares the field).
        cond_dim: the width of the conditioning ``z`` (abstract as `num_features`).

    Example:
        A conditioner that shifts every feature by the sum of ``z``:

        >>> import jax.numpy as jnp
        >>> class Shift(AbstractConditioner):
        ...     num_features: int
        ...     cond_dim: int
        ...     def __call__(self, h, z):
        ...         return h + jnp.sum(z, axis=-1, keepdims=True)
        >>> shift = Shift(4, 2)
        >>> shift(jnp.zeros(4), jnp.array([1.0, 2.0])).tolist()
        [3.0, 3.0, 3.0, 3.0]
        >>> Shift.for_layer(8, 2, key=None, pyrox_name=None).num_features
        8
    """

    num_features: eqx.AbstractVar[int]
    cond_dim: eqx.AbstractVar[int]

    @abc.abstractmethod
    def __call__(self, h: Array, z: Array) -> Array:
        raise NotImplementedError

    @classmethod
    def for_layer(
        cls,
        width: int,
        cond_dim: int,
        *,
        key: PRNGKeyArray | None = None,
        pyrox_name: str | None = None,
        **kwargs: Any,
    ) -> "AbstractConditioner":
        """Build a conditioner mapping activations of `width` features to `width` features.

        Args:
            width: the layer's width (the conditioner's ``num_features``).
            cond_dim: the context size $K$.
            key: a PRNG key for classes with random init (unused by the default).
            pyrox_name: the numpyro scope of the conditioner's sites.
            **kwargs: further constructor arguments.

        Raises:
            TypeError: the class's constructor does not take ``num_features`` and
                ``cond_dim`` (override `for_layer` for such a class).
        """
        try:
            return cls(num_features=width, cond_dim=cond_dim, pyrox_name=pyrox_name, **kwargs)
        except TypeError as err:
            raise TypeError(
                f"{cls.__name__}.for_layer: the default builds cls(num_features=..., "
                f"cond_dim=..., pyrox_name=..., **kwargs), which failed ({err}); define a "
                "`for_layer` classmethod to build this conditioner after a layer of a given width"
            ) from err


def linear_layer(
    key: PRNGKeyArray,
    n_in: int,
    n_out: int,
    dtype=None,
    *,
    weight_scale: float = 1.0,
    zero_bias: bool = False,
) -> eqx.nn.Linear:
    """An `eqx.nn.Linear` with its default init (weight and bias
    $\\mathcal{U}(\\pm 1/\\sqrt{n_\\text{in}})$), the weight scaled by `weight_scale` and
    the bias optionally zeroed."""
    dtype = jnp.result_type(float) if dtype is None else dtype
    lin = eqx.nn.Linear(n_in, n_out, key=key, dtype=dtype)
    if weight_scale != 1.0:
        lin = eqx.tree_at(lambda m: m.weight, lin, lin.weight * weight_scale)
    if zero_bias:
        lin = eqx.tree_at(lambda m: m.bias, lin, jnp.zeros_like(_bias(lin)))
    return lin


def linear_from(W: Array, b: Array) -> eqx.nn.Linear:
    """The `eqx.nn.Linear` computing $zW + b$ (``W`` of shape ``(n_in, n_out)``)."""
    W, b = jnp.asarray(W), jnp.asarray(b)
    lin = eqx.nn.Linear(W.shape[0], W.shape[1], key=jax.random.key(0), dtype=W.dtype)
    return eqx.tree_at(lambda m: (m.weight, m.bias), lin, (W.T, b))


def concat_apply(W, b, h, z):
    """$[h \\,|\\, z] W + b$, broadcasting a shared ``z`` over the rows of ``h``."""
    if z.ndim < h.ndim:
        z = jnp.broadcast_to(z, h.shape[:-1] + z.shape[-1:])
    return jnp.concatenate([h, z], axis=-1) @ W + b


def gamma_of(raw, mode: str):
    """The FiLM scale $\\gamma$ from the generator's raw output."""
    if mode == "one_plus_tanh":
        return 1.0 + jnp.tanh(raw)
    if mode == "exp":
        return jnp.exp(raw)
    if mode == "softplus":
        return jax.nn.softplus(raw)
    return raw


def film_apply(W, b, h, z, num_features: int, mode: str):
    """$\\gamma(z) \\odot h + \\beta(z)$ with $(\\beta, \\text{raw}_\\gamma) = zW + b$."""
    out = z @ W + b
    beta, raw_gamma = out[..., :num_features], out[..., num_features:]
    return gamma_of(raw_gamma, mode) * h + beta


def hyper_apply(W, b, h, z, target_in: int, target_out: int):
    """Generate $(W_t, b_t)$ from $z$ and apply them: shared path for ``z`` of rank 1."""
    flat = z @ W + b
    n_w = target_in * target_out
    Wt = flat[..., :n_w].reshape(flat.shape[:-1] + (target_in, target_out))
    bt = flat[..., n_w:]
    if z.ndim == 1:
        return h @ Wt + bt
    return jnp.einsum("ni,nio->no", h, Wt) + bt


def _check_gamma(gamma_activation) -> GammaActivation:
    if gamma_activation not in _GAMMAS:
        raise ValueError(f"`gamma_activation` must be one of {_GAMMAS}, got {gamma_activation!r}")
    return gamma_activation


def _weight(lin: eqx.nn.Linear) -> Array:
    """A linear layer's weight in the $zW + b$ orientation, ``(n_in, n_out)``."""
    return lin.weight.T


def _bias(lin: eqx.nn.Linear) -> Array:
    if lin.bias is None:
        raise ValueError("a conditioner's linear layer must have a bias (use_bias=True)")
    return lin.bias


def _key(key: PRNGKeyArray | None, owner: str) -> PRNGKeyArray:
    if key is None:
        raise TypeError(f"`key` is required to build a {owner} (its weights are random)")
    return key


@final
class ConcatConditioner(AbstractConditioner):
    """Concatenate the context to the activation, then one affine map: $y = [h|z]W + b$.

    Attributes:
        proj: the projection, an `eqx.nn.Linear` from ``num_features + cond_dim`` to
            ``num_features`` features.
        num_features: the width $C$ of ``h`` and of the output.
        cond_dim: the width $K$ of ``z``.
        pyrox_name: a numpyro scope name (stored only, as for the Bayesian twin).
        W: ``proj``'s weight as ``(C + K, C)`` (read-only).
        b: ``proj``'s bias, ``(C,)`` (read-only).

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> layer = ConcatConditioner.init(num_features=8, cond_dim=4, key=jr.key(0))
        >>> layer(jnp.ones((5, 8)), jnp.ones((5, 4))).shape, layer(jnp.ones(8), jnp.ones(4)).shape
        ((5, 8), (8,))
        >>> layer.proj.in_features, layer.proj.out_features
        (12, 8)
    """

    proj: eqx.nn.Linear
    num_features: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)

    @classmethod
    def init(
        cls,
        num_features: int,
        cond_dim: int,
        *,
        key: PRNGKeyArray,
        pyrox_name: str | None = None,
        dtype=None,
    ) -> "ConcatConditioner":
        """The `eqx.nn.Linear` default init of the projection.

        Args:
            num_features: the width $C$ of ``h`` (and of the output).
            cond_dim: the width $K$ of ``z``.
            key: PRNG key of the projection.
            pyrox_name: a numpyro scope name; a deterministic layer only stores it, so that it
                and its Bayesian twin are built alike.
            dtype: parameter dtype (default: JAX's default float).

        Raises:
            ValueError: `num_features` or `cond_dim` is not a positive integer.
        """
        key = as_key(key)
        num_features = positive_int("num_features", num_features)
        cond_dim = positive_int("cond_dim", cond_dim)
        proj = linear_layer(key, num_features + cond_dim, num_features, dtype)
        return cls(proj=proj, num_features=num_features, cond_dim=cond_dim, pyrox_name=pyrox_name)

    @classmethod
    def for_layer(cls, width, cond_dim, *, key=None, pyrox_name=None, **kwargs):
        return cls.init(
            width, cond_dim, key=_key(key, cls.__name__), pyrox_name=pyrox_name, **kwargs
        )

    @property
    def W(self) -> Float[Array, "ck c"]:
        return _weight(self.proj)

    @property
    def b(self) -> Float[Array, " c"]:
        return _bias(self.proj)

    def __call__(self, h: Float[Array, "*n c"], z: Float[Array, "*n k"]) -> Float[Array, "*n c"]:
        h, z = check_hz(h, z, self.num_features, self.cond_dim, "ConcatConditioner")
        return concat_apply(self.W, self.b, h, z)


@final
class AffineModulation(AbstractConditioner):
    r"""Feature-wise linear modulation (FiLM): $y = \gamma(z) \odot h + \beta(z)$.

    One affine generator $zW + b$ of width $2C$ gives $(\beta, \text{raw}_\gamma)$ (first
    half, second half); $\gamma$ is then

    - ``"one_plus_tanh"`` (default): $1 + \tanh(\text{raw}_\gamma)$, so the layer is exactly
      the identity when the generator output is zero (zero bias, as at init, and $z = 0$);
    - ``"exp"``: $e^{\text{raw}_\gamma}$, strictly positive, with the closed-form
      `log_det` $= \sum \text{raw}_\gamma$ of the diagonal map $h \mapsto y$;
    - ``"softplus"``: $\log(1 + e^{\text{raw}_\gamma})$;
    - ``"identity"``: $\text{raw}_\gamma$.

    Attributes:
        generator: the generator, an `eqx.nn.Linear` from ``cond_dim`` to
            ``2 * num_features`` features.
        num_features: the width $C$ of ``h`` and of the output.
        cond_dim: the width $K$ of ``z``.
        gamma_activation: how $\gamma$ is made from the generator output.
        pyrox_name: a numpyro scope name (stored only, as for the Bayesian twin).
        W: the generator's weight as ``(K, 2C)`` (read-only).
        b: the generator's bias, ``(2C,)`` (read-only).

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> film = AffineModulation.init(num_features=8, cond_dim=4, key=jr.key(0))
        >>> film(jnp.ones((5, 8)), jnp.ones((5, 4))).shape
        (5, 8)
        >>> bool(jnp.all(film(jnp.ones(8), jnp.zeros(4)) == 1.0))  # identity at z = 0
        True
    """

    generator: eqx.nn.Linear
    num_features: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)
    gamma_activation: GammaActivation = eqx.field(static=True, default="one_plus_tanh")

    @classmethod
    def init(
        cls,
        num_features: int,
        cond_dim: int,
        *,
        key: PRNGKeyArray,
        gamma_activation: GammaActivation = "one_plus_tanh",
        pyrox_name: str | None = None,
        dtype=None,
    ) -> "AffineModulation":
        """The `eqx.nn.Linear` default init of the generator's weight, and a zero bias.

        Args:
            num_features: the width $C$ of ``h`` (and of the output).
            cond_dim: the width $K$ of ``z``.
            key: PRNG key of the generator.
            gamma_activation: how $\\gamma$ is made from the generator output (see the class).
            pyrox_name: a numpyro scope name; a deterministic layer only stores it, so that it
                and its Bayesian twin are built alike.
            dtype: parameter dtype (default: JAX's default float).

        Raises:
            ValueError: a non-positive size or an unknown `gamma_activation`.
        """
        key = as_key(key)
        num_features = positive_int("num_features", num_features)
        cond_dim = positive_int("cond_dim", cond_dim)
        gamma_activation = _check_gamma(gamma_activation)
        generator = linear_layer(key, cond_dim, 2 * num_features, dtype, zero_bias=True)
        return cls(
            generator=generator,
            num_features=num_features,
            cond_dim=cond_dim,
            gamma_activation=gamma_activation,
            pyrox_name=pyrox_name,
        )

    @classmethod
    def for_layer(cls, width, cond_dim, *, key=None, pyrox_name=None, **kwargs):
        return cls.init(
            width, cond_dim, key=_key(key, cls.__name__), pyrox_name=pyrox_name, **kwargs
        )

    @property
    def W(self) -> Float[Array, "k c2"]:
        return _weight(self.generator)

    @property
    def b(self) -> Float[Array, " c2"]:
        return _bias(self.generator)

    def __call__(self, h: Float[Array, "*n c"], z: Float[Array, "*n k"]) -> Float[Array, "*n c"]:
        h, z = check_hz(h, z, self.num_features, self.cond_dim, "AffineModulation")
        return film_apply(self.W, self.b, h, z, self.num_features, self.gamma_activation)

    def log_det(self, z: Float[Array, "*n k"]) -> Float[Array, " *n"]:
        r"""$\log |\det \partial y / \partial h| = \sum_j \text{raw}_{\gamma, j}(z)$.

        Only defined for ``gamma_activation="exp"``, where $\log\gamma = \text{raw}_\gamma$.

        Raises:
            NotImplementedError: for any other `gamma_activation`.
        """
        if self.gamma_activation != "exp":
            raise NotImplementedError(
                "`log_det` has a closed form only for gamma_activation='exp', this layer uses "
                f"{self.gamma_activation!r}; differentiate the layer to get its Jacobian"
            )
        z = jnp.asarray(z)
        if z.ndim not in (1, 2) or z.shape[-1] != self.cond_dim:
            raise ValueError(
                f"`z` passed to AffineModulation.log_det must have shape ({self.cond_dim},) or "
                f"(N, {self.cond_dim}), got shape {z.shape}"
            )
        raw_gamma = (z @ self.W + self.b)[..., self.num_features :]
        return jnp.sum(raw_gamma, axis=-1)


FiLM = AffineModulation


@final
class HyperLinear(AbstractConditioner):
    r"""A hypernetwork layer: $z$ generates a target affine map $(W_t, b_t)$, applied to $h$.

    The generator is affine, $\text{flat}(z) = zW + b$ of size
    ``target_in * target_out + target_out``; its first ``target_in * target_out`` entries
    are $W_t$ (row-major, shape ``(target_in, target_out)``), the rest $b_t$.

    - ``z`` of shape ``(K,)``: one $(W_t, b_t)$ for every row of ``h`` (one matmul);
    - ``z`` of shape ``(N, K)``: one $(W_t, b_t)$ per row.

    Attributes:
        generator: the generator, an `eqx.nn.Linear` from ``cond_dim`` to
            ``target_in * target_out + target_out`` features.
        target_in: the input width of the generated map (the width of ``h``).
        target_out: the output width of the generated map.
        cond_dim: the width $K$ of ``z``.
        num_features: ``target_out``.
        pyrox_name: a numpyro scope name (stored only, as for the Bayesian twin).
        W: the generator's weight as ``(K, target_in * target_out + target_out)``
            (read-only).
        b: the generator's bias (read-only).

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> hyper = HyperLinear.init(target_in=4, target_out=8, cond_dim=3, key=jr.key(0))
        >>> h = jnp.ones((6, 4))
        >>> hyper(h, jnp.ones(3)).shape, hyper(h, jnp.ones((6, 3))).shape
        ((6, 8), (6, 8))
    """

    generator: eqx.nn.Linear
    target_in: int = eqx.field(static=True)
    target_out: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)

    @property
    def num_features(self) -> int:
        """Output width (``target_out``)."""
        return self.target_out

    @classmethod
    def init(
        cls,
        target_in: int,
        target_out: int,
        cond_dim: int,
        *,
        key: PRNGKeyArray,
        init_scale: float = 0.1,
        pyrox_name: str | None = None,
        dtype=None,
    ) -> "HyperLinear":
        r"""The `eqx.nn.Linear` default init of the generator's weight scaled by `init_scale`,
        and a zero bias.

        Generator weights are $\mathcal{U}(\pm s/\sqrt{K})$ with $s$ = `init_scale`, so the
        generated map starts small (NIF's choice, 0.1) and is zero at $z = 0$.

        Args:
            target_in: the input width of the generated map (the width of ``h``).
            target_out: the output width of the generated map.
            cond_dim: the width $K$ of ``z``.
            key: PRNG key of the generator.
            init_scale: $s$, the scale of the generator's weights.
            pyrox_name: a numpyro scope name; a deterministic layer only stores it, so that it
                and its Bayesian twin are built alike.
            dtype: parameter dtype (default: JAX's default float).

        Raises:
            ValueError: a non-positive size or `init_scale`.
        """
        key = as_key(key)
        target_in = positive_int("target_in", target_in)
        target_out = positive_int("target_out", target_out)
        cond_dim = positive_int("cond_dim", cond_dim)
        init_scale = positive_float("init_scale", init_scale)
        size = target_in * target_out + target_out
        generator = linear_layer(
            key, cond_dim, size, dtype, weight_scale=init_scale, zero_bias=True
        )
        return cls(
            generator=generator,
            target_in=target_in,
            target_out=target_out,
            cond_dim=cond_dim,
            pyrox_name=pyrox_name,
        )

    @classmethod
    def for_layer(cls, width, cond_dim, *, key=None, pyrox_name=None, **kwargs):
        key = _key(key, cls.__name__)
        return cls.init(width, width, cond_dim, key=key, pyrox_name=pyrox_name, **kwargs)

    @property
    def W(self) -> Float[Array, "k p"]:
        return _weight(self.generator)

    @property
    def b(self) -> Float[Array, " p"]:
        return _bias(self.generator)

    def generate(
        self, z: Float[Array, "*n k"]
    ) -> tuple[Float[Array, "*n i o"], Float[Array, "*n o"]]:
        """The generated target weights and bias for context(s) ``z``."""
        flat = jnp.asarray(z) @ self.W + self.b
        n_w = self.target_in * self.target_out
        Wt = flat[..., :n_w].reshape(flat.shape[:-1] + (self.target_in, self.target_out))
        return Wt, flat[..., n_w:]

    def __call__(self, h: Float[Array, "*n i"], z: Float[Array, "*n k"]) -> Float[Array, "*n o"]:
        h, z = check_hz(h, z, self.target_in, self.cond_dim, "HyperLinear")
        return hyper_apply(self.W, self.b, h, z, self.target_in, self.target_out)
