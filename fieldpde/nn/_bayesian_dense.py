r"""`DenseReparameterization`: a Bayesian affine layer whose weights are numpyro sites.

$$W \sim \mathcal{N}(0, \sigma_0^2 I), \quad b \sim \mathcal{N}(0, \sigma_0^2 I), \quad
  y = xW + b,$$

with $W$ at site ``{scope}.weight`` (shape ``(in_features, out_features)``) and $b$ at
``{scope}.bias``. Under ``numpyro.handlers.seed`` a call draws from the prior; under SVI a
guide supplies the posterior (the reparameterisation trick, Kingma & Welling 2014, is what
makes those draws differentiable in the guide's parameters). It is the Bayesian readout the
reference pages suggest for `ConditionedRFFNet`.
"""

from typing import final

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import last_axis, positive_float, positive_int
from ._pyrox import PyroxModule, pyrox_method


@final
class DenseReparameterization(PyroxModule):
    """A dense layer ``(..., in_features) -> (..., out_features)`` with Normal priors.

    Attributes:
        in_features: input width.
        out_features: output width.
        bias: whether there is a bias (site ``{scope}.bias``).
        prior_scale: $\\sigma_0$, the standard deviation of the zero-mean Normal priors.
        pyrox_name: the scope of the site names (keyword-only; default: the class name).

    Example:
        >>> import jax.numpy as jnp
        >>> from numpyro import handlers
        >>> layer = DenseReparameterization(3, 2, pyrox_name="head")
        >>> with handlers.seed(rng_seed=0), handlers.trace() as tr:
        ...     y = layer(jnp.ones((5, 3)))
        >>> y.shape, {k: v["value"].shape for k, v in tr.items()}
        ((5, 2), {'head.weight': (3, 2), 'head.bias': (2,)})
    """

    in_features: int = eqx.field(static=True)
    out_features: int = eqx.field(static=True)
    bias: bool = eqx.field(static=True, default=True)
    prior_scale: float = eqx.field(static=True, default=1.0)

    def __check_init__(self):
        positive_int("in_features", self.in_features)
        positive_int("out_features", self.out_features)
        positive_float("prior_scale", self.prior_scale)

    @classmethod
    def init(
        cls,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        prior_scale: float = 1.0,
        pyrox_name: str | None = None,
    ) -> "DenseReparameterization":
        """Set the sizes and the prior; the weights are drawn when the layer is called.

        Args:
            in_features: input width.
            out_features: output width.
            bias: whether the layer has a bias.
            prior_scale: $\\sigma_0 > 0$, the prior standard deviation of every weight.
            pyrox_name: the scope of the site names (default: the class name).

        Raises:
            ValueError: a non-positive size or `prior_scale`.
        """
        return cls(
            in_features=in_features,
            out_features=out_features,
            bias=bool(bias),
            prior_scale=prior_scale,
            pyrox_name=pyrox_name,
        )

    @pyrox_method
    def __call__(self, x: Float[Array, "*batch i"]) -> Float[Array, "*batch o"]:
        import numpyro.distributions as dist

        x = last_axis("x", x, self.in_features, "DenseReparameterization")
        shape = (self.in_features, self.out_features)
        W = self.pyrox_sample(
            "weight", dist.Normal(jnp.zeros(shape, x.dtype), self.prior_scale).to_event(2)
        )
        out = x @ W
        if self.bias:
            zeros = jnp.zeros((self.out_features,), x.dtype)
            out = out + self.pyrox_sample("bias", dist.Normal(zeros, self.prior_scale).to_event(1))
        return out
