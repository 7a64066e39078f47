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
"""

import abc
import math
from typing import Literal, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import as_key, positive_float, positive_int
from ._cond_shapes import check_hz

GammaActivation = Literal["one_plus_tanh", "exp", "softplus", "identity"]
_GAMMAS = ("one_plus_tanh", "exp", "softplus", "identity")


class AbstractConditioner(eqx.Module):
    """A layer ``(h, z) -> y`` with ``h.shape[-1] == num_features``, ``z.shape[-1] == cond_dim``.

    Concrete conditioners implement `__call__` and the `for_layer` constructor that
    `ConditionedINR` uses to put one after a layer of a given width.

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
        ...     @classmethod
        ...     def for_layer(cls, width, cond_dim, *, key, pyrox_name=None, **kwargs):
        ...         return cls(width, cond_dim)
        >>> shift = Shift.for_layer(4, 2, key=None, pyrox_name=None)
        >>> shift(jnp.zeros(4), jnp.array([1.0, 2.0])).tolist()
        [3.0, 3.0, 3.0, 3.0]
    """

    num_features: eqx.AbstractVar[int]
    cond_dim: eqx.AbstractVar[int]

    @abc.abstractmethod
    def __call__(self, h: Array, z: Array) -> Array:
        raise NotImplementedError

    @classmethod
    @abc.abstractmethod
    def for_layer(
        cls, width: int, cond_dim: int, *, key: PRNGKeyArray, pyrox_name: str | None, **kwargs
    ) -> "AbstractConditioner":
        """Build a conditioner that maps activations of `width` features to `width` features."""
        raise NotImplementedError


def _uniform(key, shape, limit, dtype):
    return jax.random.uniform(key, shape, dtype, -limit, limit)


def _linear_init(key, n_in: int, n_out: int, dtype, scale: float = 1.0):
    """The `eqx.nn.Linear` default: weight and bias uniform on $\\pm 1/\\sqrt{n_\\text{in}}$."""
    dtype = jnp.result_type(float) if dtype is None else dtype
    lim = scale / math.sqrt(n_in)
    wkey, bkey = jax.random.split(key)
    return _uniform(wkey, (n_in, n_out), lim, dtype), _uniform(bkey, (n_out,), lim, dtype)


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


def _check_gamma(gamma_activation) -> str:
    if gamma_activation not in _GAMMAS:
        raise ValueError(f"`gamma_activation` must be one of {_GAMMAS}, got {gamma_activation!r}")
    return gamma_activation


@final
class ConcatConditioner(AbstractConditioner):
    """Concatenate the context to the activation, then one affine map: $y = [h|z]W + b$.

    Attributes:
        W: weights, shape ``(num_features + cond_dim, num_features)``.
        b: bias, shape ``(num_features,)``.

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> layer = ConcatConditioner.init(num_features=8, cond_dim=4, key=jr.key(0))
        >>> layer(jnp.ones((5, 8)), jnp.ones((5, 4))).shape, layer(jnp.ones(8), jnp.ones(4)).shape
        ((5, 8), (8,))
    """

    W: Float[Array, "ck c"]
    b: Float[Array, " c"]
    num_features: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)
    pyrox_name: str | None = eqx.field(static=True, default=None)

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
        """LeCun-uniform init of the projection (the `eqx.nn.Linear` default).

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
        W, b = _linear_init(key, num_features + cond_dim, num_features, dtype)
        return cls(W=W, b=b, num_features=num_features, cond_dim=cond_dim, pyrox_name=pyrox_name)

    @classmethod
    def for_layer(cls, width, cond_dim, *, key, pyrox_name=None, **kwargs):
        return cls.init(width, cond_dim, key=key, pyrox_name=pyrox_name, **kwargs)

    def __call__(self, h: Float[Array, "*n c"], z: Float[Array, "*n k"]) -> Float[Array, "*n c"]:
        h, z = check_hz(h, z, self.num_features, self.cond_dim, "ConcatConditioner")
        return concat_apply(self.W, self.b, h, z)


@final
class AffineModulation(AbstractConditioner):
    r"""Feature-wise linear modulation (FiLM): $y = \gamma(z) \odot h + \beta(z)$.

    One affine generator $zW + b$ of width $2C$ gives $(\beta, \text{raw}_\gamma)$ (first
    half, second half); $\gamma$ is then

    - ``"one_plus_tanh"`` (default): $1 + \tanh(\text{raw}_\gamma)$, so the layer is exactly
      the identity when the generator output is zero (zero bias and $z = 0$);
    - ``"exp"``: $e^{\text{raw}_\gamma}$, strictly positive, with the closed-form
      `log_det` $= \sum \text{raw}_\gamma$ of the diagonal map $h \mapsto y$;
    - ``"softplus"``: $\log(1 + e^{\text{raw}_\gamma})$;
    - ``"identity"``: $\text{raw}_\gamma$.

    Attributes:
        W: generator weights, shape ``(cond_dim, 2 * num_features)``.
        b: generator bias, shape ``(2 * num_features,)``.

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> film = AffineModulation.init(num_features=8, cond_dim=4, key=jr.key(0))
        >>> film(jnp.ones((5, 8)), jnp.ones((5, 4))).shape
        (5, 8)
    """

    W: Float[Array, "k c2"]
    b: Float[Array, " c2"]
    num_features: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)
    gamma_activation: GammaActivation = eqx.field(static=True, default="one_plus_tanh")
    pyrox_name: str | None = eqx.field(static=True, default=None)

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
        """LeCun-uniform init of the generator (the `eqx.nn.Linear` default).

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
        W, b = _linear_init(key, cond_dim, 2 * num_features, dtype)
        return cls(
            W=W,
            b=b,
            num_features=num_features,
            cond_dim=cond_dim,
            gamma_activation=gamma_activation,
            pyrox_name=pyrox_name,
        )

    @classmethod
    def for_layer(cls, width, cond_dim, *, key, pyrox_name=None, **kwargs):
        return cls.init(width, cond_dim, key=key, pyrox_name=pyrox_name, **kwargs)

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
        W: generator weights, shape ``(cond_dim, target_in * target_out + target_out)``.
        b: generator bias, same trailing size.

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> hyper = HyperLinear.init(target_in=4, target_out=8, cond_dim=3, key=jr.key(0))
        >>> h = jnp.ones((6, 4))
        >>> hyper(h, jnp.ones(3)).shape, hyper(h, jnp.ones((6, 3))).shape
        ((6, 8), (6, 8))
    """

    W: Float[Array, "k p"]
    b: Float[Array, " p"]
    target_in: int = eqx.field(static=True)
    target_out: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)
    pyrox_name: str | None = eqx.field(static=True, default=None)

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
        r"""The `eqx.nn.Linear` default init of the generator, scaled by `init_scale`.

        Generator entries are $\mathcal{U}(\pm s/\sqrt{K})$ with $s$ = `init_scale`, so
        the generated weights start small (NIF's choice, 0.1).

        Args:
            target_in: the input width of the generated map (the width of ``h``).
            target_out: the output width of the generated map.
            cond_dim: the width $K$ of ``z``.
            key: PRNG key of the generator.
            init_scale: $s$, the scale of the generator's init.
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
        W, b = _linear_init(key, cond_dim, size, dtype, scale=init_scale)
        return cls(
            W=W,
            b=b,
            target_in=target_in,
            target_out=target_out,
            cond_dim=cond_dim,
            pyrox_name=pyrox_name,
        )

    @classmethod
    def for_layer(cls, width, cond_dim, *, key, pyrox_name=None, **kwargs):
        return cls.init(width, width, cond_dim, key=key, pyrox_name=pyrox_name, **kwargs)

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
