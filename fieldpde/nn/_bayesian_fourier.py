r"""Bayesian random Fourier features: the frequencies, lengthscale and head as numpyro sites.

- `BayesianRBFFourierFeatures`: ``{scope}.W`` $\sim \mathcal{N}(0, 1)$ of shape
  ``(in_features, n_features)`` (the RBF spectral density in unit-lengthscale units) and
  ``{scope}.lengthscale`` $\sim \text{LogNormal}(\log \ell_0, 1)$.
- `BayesianRandomKitchenSinks`: its features' sites plus ``{scope}.beta``
  $\sim \mathcal{N}(0, \sigma_0^2)$ of shape ``(2 * n_features, out_features)`` and
  ``{scope}.bias`` $\sim \mathcal{N}(0, \sigma_0^2)$.

Under ``numpyro.handlers.seed`` they draw from the prior; under SVI or an ensemble of
MAP fits the sites are what is learned.
"""

from typing import final

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import last_axis, positive_float, positive_int
from ._bayesian_conditioners import normal_site
from ._fourier import rff_features


@final
class BayesianRBFFourierFeatures(eqx.Module):
    """RBF random Fourier features with priors on ``W`` and the lengthscale.

    Example:
        >>> import jax.numpy as jnp
        >>> from numpyro import handlers
        >>> rff = BayesianRBFFourierFeatures.init(2, 8, lengthscale=0.5, pyrox_name="rff")
        >>> with handlers.seed(rng_seed=0), handlers.trace() as tr:
        ...     phi = rff(jnp.zeros((3, 2)))
        >>> phi.shape, sorted(tr)
        ((3, 16), ['rff.W', 'rff.lengthscale'])
    """

    in_features: int = eqx.field(static=True)
    n_features: int = eqx.field(static=True)
    init_lengthscale: float = eqx.field(static=True, default=1.0)
    pyrox_name: str | None = eqx.field(static=True, default=None)

    @classmethod
    def init(
        cls,
        in_features: int,
        n_features: int,
        *,
        lengthscale: float = 1.0,
        pyrox_name: str | None = None,
    ) -> "BayesianRBFFourierFeatures":
        """Set the sizes and the initial lengthscale; ``W`` is drawn when the layer is called.

        Args:
            in_features: the input dimension $D$.
            n_features: the number $M$ of frequencies (the output has $2M$ features).
            lengthscale: the initial lengthscale $\\ell$ (the location of its prior).
            pyrox_name: the scope of the numpyro site names (default: the class name).

        Raises:
            ValueError: a non-positive size or `lengthscale`.
        """
        return cls(
            in_features=positive_int("in_features", in_features),
            n_features=positive_int("n_features", n_features),
            init_lengthscale=positive_float("lengthscale", lengthscale),
            pyrox_name=pyrox_name,
        )

    @property
    def scope(self) -> str:
        return self.pyrox_name or type(self).__name__

    def __call__(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch m2"]:
        import numpyro
        import numpyro.distributions as dist

        x = last_axis("x", x, self.in_features, "BayesianRBFFourierFeatures")
        W = normal_site(f"{self.scope}.W", (self.in_features, self.n_features), 1.0, x.dtype)
        loc = jnp.log(jnp.asarray(self.init_lengthscale, x.dtype))
        ls = numpyro.sample(f"{self.scope}.lengthscale", dist.LogNormal(loc, 1.0))
        return rff_features(x, W, ls)


@final
class BayesianRandomKitchenSinks(eqx.Module):
    """`BayesianRBFFourierFeatures` plus a linear head with Normal priors.

    Example:
        >>> import jax.numpy as jnp
        >>> from numpyro import handlers
        >>> rks = BayesianRandomKitchenSinks.init(
        ...     BayesianRBFFourierFeatures.init(1, 8, pyrox_name="rff"), 1, pyrox_name="rks")
        >>> with handlers.seed(rng_seed=0), handlers.trace() as tr:
        ...     y = rks(jnp.zeros((4, 1)))
        >>> y.shape, sorted(tr)
        ((4, 1), ['rff.W', 'rff.lengthscale', 'rks.beta', 'rks.bias'])
    """

    rff: BayesianRBFFourierFeatures
    out_features: int = eqx.field(static=True)
    prior_std: float = eqx.field(static=True, default=1.0)
    pyrox_name: str | None = eqx.field(static=True, default=None)

    @classmethod
    def init(
        cls,
        rff: BayesianRBFFourierFeatures,
        out_features: int,
        *,
        prior_std: float = 1.0,
        pyrox_name: str | None = None,
    ) -> "BayesianRandomKitchenSinks":
        """Wrap the features; the head is drawn when the layer is called.

        Args:
            rff: the `BayesianRBFFourierFeatures`.
            out_features: the output width.
            prior_std: the standard deviation of the Normal prior of the head.
            pyrox_name: the scope of the numpyro site names (default: the class name).

        Raises:
            ValueError: a non-positive `out_features` or `prior_std`.
        """
        return cls(
            rff=rff,
            out_features=positive_int("out_features", out_features),
            prior_std=positive_float("prior_std", prior_std),
            pyrox_name=pyrox_name,
        )

    @property
    def scope(self) -> str:
        return self.pyrox_name or type(self).__name__

    def __call__(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch o"]:
        phi = self.rff(x)
        shape = (2 * self.rff.n_features, self.out_features)
        beta = normal_site(f"{self.scope}.beta", shape, self.prior_std, phi.dtype)
        bias = normal_site(f"{self.scope}.bias", (self.out_features,), self.prior_std, phi.dtype)
        return phi @ beta + bias
