r"""BayesianSIREN: a SIREN whose weights and biases are numpyro sample sites.

The prior of each site is a zero-mean Normal with the variance of the Sitzmann uniform
init of its layer: $\mathcal{U}(-a, a)$ has variance $a^2/3$, so

$$\sigma_{W,\ell} = \sigma_0\,\frac{a_\ell}{\sqrt 3}, \qquad
\sigma_{b,\ell} = \frac{\sigma_0}{\sqrt{3 d_\ell}},$$

with $a_\ell$ the half-width of the layer's regime (`siren_weight_limit`: $1/d$ for the
first layer, $\sqrt{c/d}/\omega$ for hidden layers, $\sqrt{c/d}$ for the readout), $d_\ell$
its input width and $\sigma_0$ = ``prior_std`` ($\sigma_0 = 1$ keeps the init's variance).
numpyro is imported when the model runs, not when `fieldpde.nn` is imported.
"""

import math
from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import last_axis, positive_float, positive_int
from ._pyrox import PyroxModule, key_tag, pyrox_method
from ._siren import SIREN, LayerType, SirenDense, siren_weight_limit


@final
class BayesianSIREN(PyroxModule):
    r"""A SIREN with a regime-matched Normal prior on every weight and bias.

    Calling it inside a numpyro model (or under ``numpyro.handlers.seed``) samples the
    sites ``{pyrox_name}.layer_{i}.W`` (shape ``(d_in, d_out)``, as `SirenDense.W`) and
    ``{pyrox_name}.layer_{i}.b`` for every layer and evaluates the sampled network, so one
    call is one function drawn from the prior (or the posterior, under a guide or
    ``handlers.substitute``). `to_siren` and `site_values` convert between site values and
    a deterministic `SIREN`; `fieldpde.bayes.prior_init_fn` and
    `fieldpde.bayes.log_prior_fn` build on them for ensembles of MAP fits.

    Attributes:
        in_features, hidden_features, out_features, depth: the architecture, as `SIREN.init`.
        first_omega, hidden_omega, c: the SIREN frequencies and Theorem-1 constant.
        prior_std: $\sigma_0$, the multiplier of every prior scale.
        pyrox_name: the scope prefixed to the site names.

    Example:
        >>> import jax.numpy as jnp
        >>> from numpyro import handlers
        >>> model = BayesianSIREN.init(1, 16, 1, depth=3, pyrox_name="siren")
        >>> with handlers.trace() as tr, handlers.seed(rng_seed=0):
        ...     y = model(jnp.zeros((5, 1)))
        >>> y.shape, list(tr)[:2]
        ((5, 1), ['siren.layer_0.W', 'siren.layer_0.b'])
    """

    in_features: int = eqx.field(static=True)
    hidden_features: int = eqx.field(static=True)
    out_features: int = eqx.field(static=True)
    depth: int = eqx.field(static=True)
    first_omega: float = eqx.field(static=True)
    hidden_omega: float = eqx.field(static=True)
    c: float = eqx.field(static=True)
    prior_std: float = eqx.field(static=True)

    @classmethod
    def init(
        cls,
        in_features: int,
        hidden_features: int,
        out_features: int,
        *,
        depth: int,
        first_omega: float = 30.0,
        hidden_omega: float = 30.0,
        c: float = 6.0,
        prior_std: float = 1.0,
        pyrox_name: str | None = None,
        key: PRNGKeyArray | None = None,
    ) -> "BayesianSIREN":
        r"""Build a BayesianSIREN (no key needed: the weights are drawn when it runs).

        Args:
            in_features, hidden_features, out_features: widths, as `SIREN.init`.
            depth: number of layers including the linear readout (>= 2).
            first_omega: $\omega_0$ of the first layer.
            hidden_omega: $\omega$ of the hidden layers.
            c: the Theorem-1 constant.
            prior_std: $\sigma_0 > 0$; 1 matches the Sitzmann init's variance.
            pyrox_name: scope of the site names. Default: ``"BayesianSIREN"``, or with `key`
                ``"BayesianSIREN_<12 hex digits of the key>"``; either way the same in every
                run. Two models in one numpyro program need different names (or keys).
            key: optional PRNG key, used only to derive a per-instance default name.

        Raises:
            ValueError: a non-positive size, omega, `c` or `prior_std`, or `depth` < 2.
        """
        depth = positive_int("depth", depth, minimum=2, hint="first layer plus linear readout")
        if pyrox_name is None:
            pyrox_name = cls.__name__ if key is None else f"{cls.__name__}_{key_tag(key, 0)}"
        if not isinstance(pyrox_name, str) or not pyrox_name:
            raise ValueError(f"`pyrox_name` must be a non-empty string, got {pyrox_name!r}")
        return cls(
            in_features=positive_int("in_features", in_features),
            hidden_features=positive_int("hidden_features", hidden_features),
            out_features=positive_int("out_features", out_features),
            depth=depth,
            first_omega=positive_float("first_omega", first_omega),
            hidden_omega=positive_float("hidden_omega", hidden_omega),
            c=positive_float("c", c),
            prior_std=positive_float("prior_std", prior_std),
            pyrox_name=pyrox_name,
        )

    def _layers(self) -> list[tuple[int, int, LayerType, float]]:
        """``(d_in, d_out, regime, omega)`` of every layer, first to readout."""
        sizes = [self.in_features] + [self.hidden_features] * (self.depth - 1)
        sizes.append(self.out_features)
        out = []
        for i in range(self.depth):
            regime: LayerType = "first" if i == 0 else "last" if i == self.depth - 1 else "hidden"
            omega = self.first_omega if i == 0 else self.hidden_omega
            out.append((sizes[i], sizes[i + 1], regime, omega))
        return out

    def prior_scales(self) -> tuple[tuple[float, float], ...]:
        r"""$(\sigma_{W,\ell}, \sigma_{b,\ell})$ for every layer $\ell$."""
        scales = []
        for d_in, _, regime, omega in self._layers():
            a = siren_weight_limit(regime, d_in, omega, self.c)
            scales.append(
                (self.prior_std * a / math.sqrt(3.0), self.prior_std / math.sqrt(3.0 * d_in))
            )
        return tuple(scales)

    @property
    def site_names(self) -> tuple[str, ...]:
        """The numpyro site names, ``W`` then ``b`` for each layer."""
        return tuple(
            f"{self.pyrox_scope}.layer_{i}.{p}" for i in range(self.depth) for p in ("W", "b")
        )

    def sample_sites(self) -> dict[str, Array]:
        """Sample every site (inside a numpyro model or seed handler); name -> value."""
        import numpyro
        import numpyro.distributions as dist

        values = {}
        dtype = jnp.result_type(float)
        for i, ((d_in, d_out, _, _), (s_w, s_b)) in enumerate(
            zip(self._layers(), self.prior_scales(), strict=True)
        ):
            for name, shape, scale in (("W", (d_in, d_out), s_w), ("b", (d_out,), s_b)):
                prior = dist.Normal(jnp.zeros((), dtype), jnp.asarray(scale, dtype))
                site = f"{self.pyrox_scope}.layer_{i}.{name}"
                values[site] = numpyro.sample(site, prior.expand(shape).to_event(len(shape)))
        return values

    def to_siren(self, values: dict[str, Any]) -> SIREN:
        """The deterministic `SIREN` whose weights are the given site values."""
        missing = [n for n in self.site_names if n not in values]
        if missing:
            raise ValueError(f"`values` lacks the sites {missing}; expected {self.site_names}")
        layers = []
        for i, (d_in, d_out, regime, omega) in enumerate(self._layers()):
            W = jnp.asarray(values[f"{self.pyrox_scope}.layer_{i}.W"])
            b = jnp.asarray(values[f"{self.pyrox_scope}.layer_{i}.b"])
            if W.shape != (d_in, d_out) or b.shape != (d_out,):
                raise ValueError(
                    f"site layer_{i} of {self.pyrox_name!r} must have W of shape "
                    f"{(d_in, d_out)} and b of shape {(d_out,)}, got {W.shape} and {b.shape}"
                )
            layers.append(SirenDense(W=W, b=b, omega=omega, layer_type=regime, c=self.c))
        return SIREN(layers=tuple(layers))

    def site_values(self, net: SIREN) -> dict[str, Array]:
        """The site values of a `SIREN` of this architecture (the inverse of `to_siren`)."""
        if not isinstance(net, SIREN) or len(net.layers) != self.depth:
            raise ValueError(
                f"`net` must be a depth-{self.depth} SIREN, got {type(net).__name__}"
                + (f" of depth {len(net.layers)}" if isinstance(net, SIREN) else "")
            )
        values = {}
        for i, layer in enumerate(net.layers):
            values[f"{self.pyrox_scope}.layer_{i}.W"] = layer.W
            values[f"{self.pyrox_scope}.layer_{i}.b"] = layer.b
        return values

    @pyrox_method
    def __call__(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch m"]:
        x = last_axis("x", x, self.in_features, "BayesianSIREN")
        return self.to_siren(self.sample_sites())(x)
