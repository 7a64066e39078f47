r"""`PyroxModule`: equinox modules that register numpyro sites under a per-instance scope.

A probabilistic layer names its sites ``{scope}.{name}``, with ``scope`` the instance's
``pyrox_name`` when it has one and its class name otherwise, so two layers of one model
stay apart when they are given different names. `pyrox_sample` and `pyrox_param` register
the sites; the `pyrox_method` decorator makes one call of a method a unit in which a site
asked for twice is drawn once (the second request gets the first value instead of a
numpyro duplicate-site error). The cache lives on numpyro's handler stack for the duration
of the call, not on the module or in a global table, so the module stays an immutable
pytree and nothing outlives the call. `key_tag` turns an init key into the 12 hexadecimal
digits that default per-instance scopes carry (``BayesianAffineModulation_<hex>``), so
default names are the same in every run.

numpyro is imported when a site is registered, not when `fieldpde.nn` is imported.
"""

import abc
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

F = TypeVar("F", bound=Callable[..., Any])


def key_tag(key: PRNGKeyArray, fallback: int) -> str:
    """12 hexadecimal digits of a concrete PRNG key (``f"{fallback}"`` for a traced one)."""
    if jnp.issubdtype(jnp.asarray(key).dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    try:
        data = np.asarray(key).ravel().astype(np.uint32)
    except jax.errors.TracerArrayConversionError:
        return str(fallback)
    return "".join(f"{int(v):08x}" for v in data)[-12:]


def pyrox_sample(name: str, prior: Any) -> Any:
    """Register the numpyro site `name`: a sample for a distribution, else a deterministic.

    Args:
        name: the full site name (e.g. ``"layer.weight"``).
        prior: a ``numpyro.distributions.Distribution`` (the site is sampled, or observed or
            substituted by a handler), or an array (recorded as ``numpyro.deterministic``).

    Returns:
        The site's value.

    Example:
        >>> import numpyro.distributions as dist
        >>> from numpyro import handlers
        >>> with handlers.seed(rng_seed=0), handlers.trace() as tr:
        ...     w = pyrox_sample("w", dist.Normal(0.0, 1.0))
        >>> list(tr), tr["w"]["type"]
        (['w'], 'sample')
    """
    import numpyro
    import numpyro.distributions as dist

    if isinstance(prior, dist.Distribution):
        return numpyro.sample(name, prior)
    return numpyro.deterministic(name, prior)


def _site_cache():
    """A numpyro handler that answers a repeated site with its first value."""
    from numpyro.primitives import Messenger

    class _SiteCache(Messenger):
        def __init__(self):
            super().__init__()
            self.values: dict[str, Any] = {}

        def process_message(self, msg):
            if msg["type"] in ("sample", "param", "deterministic") and msg["name"] in self.values:
                msg["value"] = self.values[msg["name"]]
                msg["stop"] = True  # handled here: the outer handlers saw it the first time

        def postprocess_message(self, msg):
            if msg["type"] in ("sample", "param", "deterministic"):
                self.values.setdefault(msg["name"], msg["value"])

    return _SiteCache()


def pyrox_method(fn: F) -> F:
    """Decorate a `PyroxModule` method so that one call draws each of its sites once.

    Inside the decorated call (and the calls it makes), a site registered a second time
    returns the value of the first registration; nested decorated calls share the outer
    call's values.

    Args:
        fn: the method, typically ``__call__``.

    Returns:
        The wrapped method.

    Example:
        >>> import jax.numpy as jnp, numpyro.distributions as dist
        >>> from numpyro import handlers
        >>> class Twice(PyroxModule):
        ...     @pyrox_method
        ...     def __call__(self, x):
        ...         a = self.pyrox_sample("w", dist.Normal(0.0, 1.0))
        ...         b = self.pyrox_sample("w", dist.Normal(0.0, 1.0))  # the same draw
        ...         return x * a - x * b
        >>> with handlers.seed(rng_seed=0), handlers.trace() as tr:
        ...     y = Twice()(jnp.ones(3))
        >>> y.tolist(), list(tr)
        ([0.0, 0.0, 0.0], ['Twice.w'])
    """

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        with _site_cache():
            return fn(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class PyroxModule(eqx.Module):
    """An equinox module whose numpyro sites are named ``{scope}.{name}``.

    Subclass it, implement ``__call__`` (decorated with `pyrox_method` when it registers
    sites) and register sites with `pyrox_sample` / `pyrox_param`. Every subclass has the
    keyword-only field ``pyrox_name`` (static, default None): the scope of its sites, the
    class name when None.

    Attributes:
        pyrox_name: the scope of the site names (keyword-only; None: the class name).

    Example:
        >>> import jax.numpy as jnp, numpyro.distributions as dist
        >>> from numpyro import handlers
        >>> class Scale(PyroxModule):
        ...     @pyrox_method
        ...     def __call__(self, x):
        ...         return x * self.pyrox_sample("s", dist.LogNormal(0.0, 1.0))
        >>> with handlers.seed(rng_seed=0), handlers.trace() as tr:
        ...     _ = Scale(pyrox_name="a")(jnp.ones(2)), Scale(pyrox_name="b")(jnp.ones(2))
        >>> list(tr)
        ['a.s', 'b.s']
    """

    pyrox_name: str | None = eqx.field(static=True, default=None, kw_only=True)

    @abc.abstractmethod
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    @property
    def pyrox_scope(self) -> str:
        """The prefix of this module's site names: `pyrox_name`, else the class name."""
        return self.pyrox_name or type(self).__name__

    def pyrox_sample(self, name: str, prior: Any) -> Any:
        """Register the site ``{scope}.{name}`` (see the function `pyrox_sample`)."""
        return pyrox_sample(f"{self.pyrox_scope}.{name}", prior)

    def pyrox_param(self, name: str, init_value: Any, **kwargs: Any) -> Any:
        """Register the numpyro param ``{scope}.{name}`` (``kwargs`` go to ``numpyro.param``,
        e.g. ``constraint=``)."""
        import numpyro

        return numpyro.param(f"{self.pyrox_scope}.{name}", init_value, **kwargs)
