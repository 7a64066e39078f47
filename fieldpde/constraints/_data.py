"""What data terms share: fixed points, a random subset per step, measure 1, no domain."""

import abc
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import positive_int
from .._tree import with_static
from ._base import AbstractConstraint, Batch, Kind


class AbstractDataConstraint(AbstractConstraint):
    """A constraint on fixed data points, of which a step uses all or a random subset.

    A concrete subclass declares ``points`` and ``batch_size`` and implements `rows`
    (its data at some rows, which a batch carries as ``extra``) and `residual`; the
    measure is 1, so the loss is a mean over the data.

    Attributes:
        points: the data locations, ``(n, d)`` (abstract).
        batch_size: rows per step (``None``: all), abstract.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde.constraints import Observations
        >>> obs = Observations(jnp.linspace(0, 1, 10)[:, None], jnp.zeros(10), batch_size=4)
        >>> isinstance(obs, AbstractDataConstraint), obs.num_points, obs.measure
        (True, 4, 1.0)
        >>> obs.sample(jax.random.key(0)).points.shape, obs.with_num_points(99).num_points
        ((4, 1), 10)
    """

    kind: ClassVar[Kind] = "data"
    adaptive: ClassVar[bool] = False
    domain: ClassVar[None] = None
    time_span: ClassVar[None] = None

    points: eqx.AbstractVar[Float[Array, "n d"]]
    batch_size: eqx.AbstractVar[int | None]

    @abc.abstractmethod
    def rows(self, index: Array | None) -> Any:
        """The data at rows `index` (``None``: every row): a batch's ``extra``."""

    def sample(self, key: PRNGKeyArray) -> Batch:
        if self.batch_size is None:
            return Batch(self.points, extra=self.rows(None))
        # one compiled call instead of a dozen dispatches: data terms are resampled often
        return _subset(self, key)

    @property
    def measure(self) -> float:
        return 1.0

    @property
    def num_points(self) -> int:
        return self.points.shape[0] if self.batch_size is None else self.batch_size

    def with_num_points(self, n: int) -> "AbstractDataConstraint":
        """A copy using `n` data per step (all of them when `n` >= their number)."""
        n = positive_int("n", n)
        return with_static(self, batch_size=None if n >= self.points.shape[0] else n)

    def times(self, batch: Batch) -> None:
        return None

    def sample_members(self, keys: PRNGKeyArray) -> Batch:
        """One batch per key, stacked: what `sample` draws with each of `keys`, in one call.

        An ensemble whose members draw their own data subsets samples them all at once
        this way (one compiled call instead of one per member).

        Example:
            >>> import jax, jax.numpy as jnp
            >>> from fieldpde.constraints import Observations
            >>> obs = Observations(jnp.arange(10.0)[:, None], jnp.zeros(10), batch_size=3)
            >>> keys = jax.random.split(jax.random.key(0), 4)
            >>> stacked = obs.sample_members(keys)
            >>> stacked.points.shape, bool(jnp.all(stacked.points[2] == obs.sample(keys[2]).points))
            ((4, 3, 1), True)
        """
        if self.batch_size is None:
            full = self.sample(keys[0])
            return jax.tree.map(lambda a: jnp.broadcast_to(a, (keys.shape[0],) + a.shape), full)
        return _subsets(self, keys)


def _draw(constraint: AbstractDataConstraint, key: PRNGKeyArray) -> Batch:
    n = constraint.points.shape[0]
    idx = jax.random.choice(key, n, (constraint.batch_size,), replace=False)
    return Batch(constraint.points[idx], extra=constraint.rows(idx))


_subset = eqx.filter_jit(_draw)
_subsets = eqx.filter_jit(lambda constraint, keys: jax.vmap(lambda k: _draw(constraint, k))(keys))
