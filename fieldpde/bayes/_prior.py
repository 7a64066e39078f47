r"""The bridge between a numpyro model and ensemble-of-MAP training, by tracing.

A Bayesian network such as `fieldpde.nn.BayesianSIREN` declares its prior as numpyro
sample sites. Two things are needed to train an ensemble of MAP estimates from it: a draw
from the prior as ordinary arrays (the starting point of one member) and the prior
log-density at given arrays (the regulariser). Both come from running the model under
numpyro handlers, so the prior is never written twice:

$$\log p(\theta) = \sum_{\text{sites } s} \log p_s(\theta_s),$$

with each site's distribution read from the trace and evaluated at $\theta_s$ substituted
for the sample.
"""

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._types import Key


def _default_args(model: Any, args: tuple) -> tuple:
    if args:
        return args
    in_features = getattr(model, "in_features", None)
    if in_features is None:
        raise TypeError(
            f"{type(model).__name__} has no `in_features`; pass the arguments to run the "
            "model with, e.g. prior_init_fn(model, x_example)"
        )
    return (jnp.zeros((1, in_features)),)


def _seed(key: Key):
    key = jnp.asarray(key) if not isinstance(key, int) else key
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    return key


def trace_sites(model: Callable[..., Any], *args: Any, key: Key, substitute=None) -> dict:
    """Run `model(*args)` under numpyro's seed (and substitute) handlers; return its trace.

    Args:
        model: a numpyro model (a callable that samples sites when run).
        *args: the arguments to run it with.
        key: the seed of the sample sites (a PRNG key or an int).
        substitute: optional ``{site name: value}`` fixing those sites instead of sampling.

    Returns:
        The numpyro trace: an ordered dict from site name to its site record (``"type"``,
        ``"fn"``, ``"value"``, ...).

    Example:
        >>> import jax, numpyro, numpyro.distributions as dist
        >>> def model(scale):
        ...     numpyro.sample("w", dist.Normal(0.0, scale))
        >>> tr = trace_sites(model, 2.0, key=jax.random.key(0), substitute={"w": 1.5})
        >>> float(tr["w"]["value"]), float(tr["w"]["fn"].scale)
        (1.5, 2.0)
    """
    from numpyro import handlers

    with handlers.trace() as tr:
        if substitute is None:
            with handlers.seed(rng_seed=_seed(key)):
                model(*args)
        else:
            with handlers.substitute(data=substitute), handlers.seed(rng_seed=_seed(key)):
                model(*args)
    return tr


def _latent(tr: dict) -> dict:
    return {
        name: site
        for name, site in tr.items()
        if site["type"] == "sample" and not site.get("is_observed", False)
    }


def prior_init_fn(model: Callable[..., Any], *args: Any) -> Callable[[Key], Any]:
    """An ``init_fn(key)`` for `ensemble_map`: one draw from the model's prior.

    For a model with a ``to_siren`` method (`fieldpde.nn.BayesianSIREN`) the draw is
    spliced into a deterministic `fieldpde.nn.SIREN`, so the optimiser sees an ordinary
    equinox module; for any other numpyro model it is the dict of latent site values.

    Args:
        model: the numpyro model (a callable that samples sites when run).
        *args: arguments to run it with (default, for a model with ``in_features``:
            one zero point); only the sites it samples matter.

    Returns:
        ``init_fn(key)``, returning one prior draw: a `fieldpde.nn.SIREN` or a dict of
        latent site values.

    Example:
        >>> import jax
        >>> from fieldpde.nn import BayesianSIREN
        >>> model = BayesianSIREN.init(1, 8, 1, depth=3, pyrox_name="s")
        >>> net = prior_init_fn(model)(jax.random.key(0))
        >>> type(net).__name__, net.layers[1].W.shape
        ('SIREN', (8, 8))
    """
    args = _default_args(model, args)

    def init_fn(key: Key) -> Any:
        tr = _latent(trace_sites(model, *args, key=key))
        values = {name: site["value"] for name, site in tr.items()}
        return model.to_siren(values) if hasattr(model, "to_siren") else values

    return init_fn


def log_prior_fn(model: Callable[..., Any], *args: Any) -> Callable[[Any], Float[Array, ""]]:
    r"""``log_prior(params)``: the model's prior log-density $\sum_s \log p_s(\theta_s)$.

    `params` is what `prior_init_fn` returns: a `SIREN` for a `BayesianSIREN` (read back
    with its ``site_values``), otherwise a dict of site values. Every latent site must be
    given a value; a missing or unknown name raises instead of silently sampling.

    Args:
        model: the numpyro model, as for `prior_init_fn`.
        *args: arguments to run it with, as for `prior_init_fn`.

    Returns:
        ``log_prior(params)``, the prior log-density as a scalar array.

    Example:
        >>> import math, jax.numpy as jnp, numpyro, numpyro.distributions as dist
        >>> def model(n):
        ...     numpyro.sample("w", dist.Normal(0.0, 1.0).expand([n]))
        >>> log_prior = log_prior_fn(model, 2)
        >>> lp = float(log_prior({"w": jnp.array([0.0, 1.0])}))
        >>> abs(lp - (-math.log(2 * math.pi) - 0.5)) < 1e-6  # two standard normal log-pdfs
        True
    """
    args = _default_args(model, args)

    def log_prior(params: Any) -> Float[Array, ""]:
        if isinstance(params, Mapping):
            values = dict(params)
        elif hasattr(model, "site_values"):
            values = model.site_values(params)
        else:
            raise TypeError(
                f"`params` must be a dict of site values for {type(model).__name__}, got "
                f"{type(params).__name__}"
            )
        tr = _latent(trace_sites(model, *args, key=0, substitute=values))
        unknown, missing = sorted(set(values) - set(tr)), sorted(set(tr) - set(values))
        if unknown or missing:
            raise ValueError(
                f"`params` must give every latent site of the model exactly: missing {missing}, "
                f"unknown {unknown}"
            )
        total = jnp.zeros(())
        for site in tr.values():
            total = total + jnp.sum(site["fn"].log_prob(site["value"]))
        return total

    return log_prior
