r"""Bayesian conditioners: Normal priors on the generator only, two numpyro sites each.

Each class computes exactly what its deterministic twin computes, but draws the generator
$(W, b)$ from $\mathcal{N}(0, \sigma_0^2)$ (``prior_std`` $= \sigma_0$) at numpyro sample
sites instead of holding them:

| class | sites |
|---|---|
| `BayesianConcatConditioner` | ``{scope}.proj_W``, ``{scope}.proj_b`` |
| `BayesianAffineModulation` | ``{scope}.gen_W``, ``{scope}.gen_b`` |
| `BayesianHyperLinear` | ``{scope}.gen_W``, ``{scope}.gen_b`` |

Nothing is sampled for ``h`` or ``z``; the target weights of `BayesianHyperLinear` are
generated, so inference cost scales with the generator, not the target network. The scope
is ``pyrox_name`` when given, else the class name; `ConditionedINR` names each of its
conditioners from its init key (``"{Class}_{12 hex digits}"``), so that two conditioned
fields built from different keys never clash and the names are the same in every run.
Call them inside a numpyro model or handler, e.g. ``numpyro.handlers.seed``.
"""

from typing import final

import equinox as eqx
import jax.numpy as jnp

from .._checks import positive_float, positive_int
from ._cond_shapes import check_hz
from ._conditioners import (
    AbstractConditioner,
    GammaActivation,
    _check_gamma,
    concat_apply,
    film_apply,
    hyper_apply,
)
from ._pyrox import pyrox_method


def normal_site(name: str, shape: tuple[int, ...], prior_std: float, dtype=None):
    """Draw an array of `shape` at site `name` under an i.i.d. Normal(0, prior_std) prior."""
    import numpyro
    import numpyro.distributions as dist

    dtype = jnp.result_type(float) if dtype is None else dtype
    prior = dist.Normal(jnp.zeros(shape, dtype), prior_std).to_event(len(shape))
    return numpyro.sample(name, prior)


class AbstractBayesianConditioner(AbstractConditioner):
    """A conditioner whose generator is drawn at numpyro sites ``{scope}.<name>``."""

    prior_std: eqx.AbstractVar[float]

    @property
    def scope(self) -> str:
        """The prefix of the site names (`pyrox_scope`)."""
        return self.pyrox_scope

    def _site(self, name: str, shape: tuple[int, ...], dtype) -> jnp.ndarray:
        return normal_site(f"{self.pyrox_scope}.{name}", shape, self.prior_std, dtype)


def _prior_std(value) -> float:
    return positive_float("prior_std", value)


@final
class BayesianConcatConditioner(AbstractBayesianConditioner):
    """`ConcatConditioner` with the projection drawn at ``{scope}.proj_W`` / ``{scope}.proj_b``.

    Example:
        >>> import jax.numpy as jnp
        >>> from numpyro import handlers
        >>> layer = BayesianConcatConditioner.init(8, 4, pyrox_name="cc")
        >>> with handlers.seed(rng_seed=0), handlers.trace() as tr:
        ...     y = layer(jnp.ones((5, 8)), jnp.ones(4))
        >>> y.shape, sorted(tr)
        ((5, 8), ['cc.proj_W', 'cc.proj_b'])
    """

    num_features: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)
    prior_std: float = eqx.field(static=True, default=1.0)

    @classmethod
    def init(
        cls,
        num_features: int,
        cond_dim: int,
        *,
        prior_std: float = 1.0,
        pyrox_name: str | None = None,
    ) -> "BayesianConcatConditioner":
        """Set the sizes and the prior; the projection is drawn when the layer is called.

        Args:
            num_features: the width $C$ of ``h`` (and of the output).
            cond_dim: the width $K$ of ``z``.
            prior_std: $\\sigma_0$, the standard deviation of the Normal prior of the projection.
            pyrox_name: the scope of the numpyro site names (default: the class name).

        Raises:
            ValueError: a non-positive size or `prior_std`.
        """
        return cls(
            num_features=positive_int("num_features", num_features),
            cond_dim=positive_int("cond_dim", cond_dim),
            prior_std=_prior_std(prior_std),
            pyrox_name=pyrox_name,
        )

    @classmethod
    def for_layer(cls, width, cond_dim, *, key=None, pyrox_name=None, **kwargs):
        return cls.init(width, cond_dim, pyrox_name=pyrox_name, **kwargs)

    @pyrox_method
    def __call__(self, h, z):
        h, z = check_hz(h, z, self.num_features, self.cond_dim, "BayesianConcatConditioner")
        c, k = self.num_features, self.cond_dim
        W = self._site("proj_W", (c + k, c), h.dtype)
        b = self._site("proj_b", (c,), h.dtype)
        return concat_apply(W, b, h, z)


@final
class BayesianAffineModulation(AbstractBayesianConditioner):
    """`AffineModulation` with the FiLM generator drawn at ``{scope}.gen_W`` / ``{scope}.gen_b``.

    Example:
        >>> import jax.numpy as jnp
        >>> from numpyro import handlers
        >>> film = BayesianAffineModulation.init(8, 4, pyrox_name="film")
        >>> with handlers.seed(rng_seed=0), handlers.trace() as tr:
        ...     y = film(jnp.ones((5, 8)), jnp.ones((5, 4)))
        >>> y.shape, tr["film.gen_W"]["value"].shape
        ((5, 8), (4, 16))
    """

    num_features: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)
    gamma_activation: GammaActivation = eqx.field(static=True, default="one_plus_tanh")
    prior_std: float = eqx.field(static=True, default=1.0)

    @classmethod
    def init(
        cls,
        num_features: int,
        cond_dim: int,
        *,
        gamma_activation: GammaActivation = "one_plus_tanh",
        prior_std: float = 1.0,
        pyrox_name: str | None = None,
    ) -> "BayesianAffineModulation":
        """Set the sizes and the prior; the generator is drawn when the layer is called.

        Args:
            num_features: the width $C$ of ``h`` (and of the output).
            cond_dim: the width $K$ of ``z``.
            gamma_activation: how $\\gamma$ is made from the generator output (see the class).
            prior_std: $\\sigma_0$, the standard deviation of the Normal prior of the generator.
            pyrox_name: the scope of the numpyro site names (default: the class name).

        Raises:
            ValueError: a bad size, `gamma_activation` or `prior_std`.
        """
        return cls(
            num_features=positive_int("num_features", num_features),
            cond_dim=positive_int("cond_dim", cond_dim),
            gamma_activation=_check_gamma(gamma_activation),
            prior_std=_prior_std(prior_std),
            pyrox_name=pyrox_name,
        )

    @classmethod
    def for_layer(cls, width, cond_dim, *, key=None, pyrox_name=None, **kwargs):
        return cls.init(width, cond_dim, pyrox_name=pyrox_name, **kwargs)

    @pyrox_method
    def __call__(self, h, z):
        h, z = check_hz(h, z, self.num_features, self.cond_dim, "BayesianAffineModulation")
        c, k = self.num_features, self.cond_dim
        W = self._site("gen_W", (k, 2 * c), h.dtype)
        b = self._site("gen_b", (2 * c,), h.dtype)
        return film_apply(W, b, h, z, c, self.gamma_activation)


@final
class BayesianHyperLinear(AbstractBayesianConditioner):
    """`HyperLinear` with the generator drawn at ``{scope}.gen_W`` / ``{scope}.gen_b``.

    Example:
        >>> import jax.numpy as jnp
        >>> from numpyro import handlers
        >>> hyper = BayesianHyperLinear.init(4, 8, 3, prior_std=0.1)
        >>> with handlers.seed(rng_seed=0):
        ...     hyper(jnp.ones((6, 4)), jnp.ones((6, 3))).shape
        (6, 8)
    """

    target_in: int = eqx.field(static=True)
    target_out: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)
    prior_std: float = eqx.field(static=True, default=1.0)

    @property
    def num_features(self) -> int:
        return self.target_out

    @classmethod
    def init(
        cls,
        target_in: int,
        target_out: int,
        cond_dim: int,
        *,
        prior_std: float = 1.0,
        pyrox_name: str | None = None,
    ) -> "BayesianHyperLinear":
        """Set the sizes and the prior; the generator is drawn when the layer is called.

        Args:
            target_in: the input width of the generated map (the width of ``h``).
            target_out: the output width of the generated map.
            cond_dim: the width $K$ of ``z``.
            prior_std: $\\sigma_0$, the standard deviation of the Normal prior of the generator.
            pyrox_name: the scope of the numpyro site names (default: the class name).

        Raises:
            ValueError: a non-positive size or `prior_std`.
        """
        return cls(
            target_in=positive_int("target_in", target_in),
            target_out=positive_int("target_out", target_out),
            cond_dim=positive_int("cond_dim", cond_dim),
            prior_std=_prior_std(prior_std),
            pyrox_name=pyrox_name,
        )

    @classmethod
    def for_layer(cls, width, cond_dim, *, key=None, pyrox_name=None, **kwargs):
        return cls.init(width, width, cond_dim, pyrox_name=pyrox_name, **kwargs)

    @pyrox_method
    def __call__(self, h, z):
        h, z = check_hz(h, z, self.target_in, self.cond_dim, "BayesianHyperLinear")
        size = self.target_in * self.target_out + self.target_out
        W = self._site("gen_W", (self.cond_dim, size), h.dtype)
        b = self._site("gen_b", (size,), h.dtype)
        return hyper_apply(W, b, h, z, self.target_in, self.target_out)
