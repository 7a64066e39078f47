"""Where a constraint samples its points: a domain and a part of it."""

from collections.abc import Callable
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from .._checks import positive_int
from .._tree import with_static
from ..domains import AbstractDomain, BoundaryPart, SpaceTime
from ._base import AbstractConstraint, Batch

Part = str | tuple[str, ...] | Callable[[Array], Any]
_WHOLE = ("interior", "boundary", "initial", "lateral")


@final
class Region(eqx.Module):
    """A part of a domain and how to draw points from it for one training step.

    Attributes:
        domain: the domain.
        part: ``"interior"``, ``"boundary"``, for a `SpaceTime` domain ``"initial"``
            (the slice at $t_0$) or ``"lateral"`` (space boundary x time), or some named
            parts of the boundary: a name from ``domain.parts`` (``"xmin"``, ``"hole0"``,
            ...), a group (``"holes"``, ...), a tuple of names, or a predicate
            ``(d,) -> bool`` of a boundary point (see `fieldpde.domains.BoundaryPart`).
        names: the boundary parts `part` covers (``None`` for the interior and for a
            predicate).
        num_points: points per step.
        method: ``"uniform"``, ``"sobol"``, ``"halton"`` or ``"grid"``.

    Example:
        >>> import jax
        >>> from fieldpde.domains import Box
        >>> box = Box([0.0, 0.0], [2.0, 1.0])
        >>> region = Region(box, "boundary", num_points=16)
        >>> region.measure == box.boundary_measure  # the perimeter, 6
        True
        >>> batch = region.sample(jax.random.key(0))
        >>> batch.points.shape, bool(box.contains(batch.points).all())
        ((16, 2), True)
        >>> left = Region(box, "xmin", num_points=4)
        >>> left.measure, left.sample(jax.random.key(0)).points[:, 0].tolist()
        (1.0, [0.0, 0.0, 0.0, 0.0])
    """

    domain: AbstractDomain
    part: Part = eqx.field(static=True)
    names: tuple[str, ...] | None = eqx.field(static=True)
    num_points: int = eqx.field(static=True)
    method: str = eqx.field(static=True)
    _boundary_part: BoundaryPart | None

    def __init__(
        self,
        domain: AbstractDomain,
        part: Part = "interior",
        *,
        num_points: int = 1024,
        method: str = "sobol",
        owner: str = "Region",
    ):
        if not isinstance(domain, AbstractDomain):
            raise TypeError(
                f"`domain` of {owner} must be a fieldpde domain, got {type(domain).__name__}"
            )
        if isinstance(part, list):
            part = tuple(part)
        if isinstance(part, str) and part in ("initial", "lateral"):
            if not isinstance(domain, SpaceTime):
                raise TypeError(
                    f"{owner} on the {part} part needs a SpaceTime domain (space * TimeInterval), "
                    f"got {type(domain).__name__}"
                )
        self.domain = domain
        self.part = part
        self._boundary_part = None
        if isinstance(part, str) and part == "interior":
            self.names = None
        elif isinstance(part, str) and part in _WHOLE:
            self.names = domain.resolve_parts(part, label=f"`part` of {owner}: ")
        elif callable(part) or isinstance(part, str | tuple):
            self._boundary_part = BoundaryPart(domain, part, label=f"`part` of {owner}: ")
            self.names = self._boundary_part.names
        else:
            raise ValueError(
                f"`part` of {owner} must be 'interior', 'boundary', a boundary part's name "
                f"({', '.join(repr(p) for p in domain.parts)}), a tuple of names or a "
                f"predicate of a boundary point, got {part!r}"
            )
        self.num_points = positive_int("num_points", num_points)
        self.method = method

    @property
    def is_boundary(self) -> bool:
        """Whether the points lie on the boundary (and come with normals)."""
        return not (isinstance(self.part, str) and self.part in ("interior", "initial"))

    def sample(self, key: PRNGKeyArray) -> Batch:
        """`num_points` points of the part (with outward normals on boundaries)."""
        n, method, domain = self.num_points, self.method, self.domain
        if self._boundary_part is not None:
            points, normals = self._boundary_part.sample(n, key=key, method=method)
            return Batch(points, normals)
        if self.part == "interior":
            return Batch(domain.sample_interior(n, key=key, method=method))
        if self.part == "initial":
            assert isinstance(domain, SpaceTime)
            return Batch(domain.sample_initial(n, key=key, method=method))
        if self.part == "boundary":
            points, normals = domain.sample_boundary(n, key=key, method=method)
        else:
            assert isinstance(domain, SpaceTime)
            points, normals = domain.sample_lateral(n, key=key, method=method)
        return Batch(points, normals)

    @property
    def measure(self) -> float:
        """Length, area or volume of the part: the $|\\Omega_m|$ of Eq. 3."""
        if self._boundary_part is not None:
            return self._boundary_part.measure
        domain = self.domain
        if self.part == "interior":
            return domain.measure
        if self.part == "boundary":
            return domain.boundary_measure
        assert isinstance(domain, SpaceTime)
        return domain.initial_measure if self.part == "initial" else domain.lateral_measure


class AbstractRegionConstraint(AbstractConstraint):
    """A constraint evaluated at points drawn from one `Region` each step.

    A concrete subclass declares a ``region`` field, its `kind` and `adaptive`, and
    implements `residual`; `sample`, `measure`, `domain`, `num_points`,
    `with_num_points`, `time_span` and `times` come from the region.

    Attributes:
        region: the `Region` the points are drawn from (abstract).

    Example:
        >>> import jax
        >>> from fieldpde.constraints import Dirichlet
        >>> from fieldpde.domains import Interval
        >>> bc = Dirichlet(0.0, Interval(0.0, 1.0), num_points=2)
        >>> isinstance(bc, AbstractRegionConstraint), bc.region.part, bc.measure
        (True, 'boundary', 2.0)
        >>> bc.with_num_points(6).sample(jax.random.key(0)).points.shape
        (6, 1)
    """

    region: eqx.AbstractVar[Region]

    def sample(self, key: PRNGKeyArray) -> Batch:
        return self.region.sample(key)

    @property
    def measure(self) -> float:
        return self.region.measure

    @property
    def domain(self) -> AbstractDomain:
        return self.region.domain

    @property
    def num_points(self) -> int:
        return self.region.num_points

    def with_num_points(self, n: int) -> "AbstractRegionConstraint":
        """A copy drawing `n` points per step."""
        return with_static(self, region=with_static(self.region, num_points=positive_int("n", n)))

    @property
    def time_span(self) -> tuple[float, float] | None:
        return time_span_of(self.region.domain)

    def times(self, batch: Batch) -> Array | None:
        return times_of(self.region.domain, batch.points)


def time_span_of(domain: Any) -> tuple[float, float] | None:
    """``(t0, t1)`` of a `SpaceTime` domain, else ``None``."""
    if isinstance(domain, SpaceTime):
        return float(domain.time.t0), float(domain.time.t1)
    return None


def times_of(domain: Any, points: Array) -> Array | None:
    """The time coordinate of `points` on a `SpaceTime` domain (its last one), else ``None``.

    Points may carry more coordinates after the domain's own (parameters): the time is
    the domain's last coordinate, not the point's.
    """
    if not isinstance(domain, SpaceTime):
        return None
    return points[:, domain.dim - 1]


def as_pointwise(value: Any, name: str) -> Callable[[Array], Array]:
    """A callable of one point, or a constant turned into one."""
    if callable(value):
        return value
    try:
        const = jnp.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"`{name}` must be a callable of a point or a number, got {value!r}"
        ) from err
    return lambda x: const.astype(x.dtype)


def field_values(field: Any, points: Array) -> Array:
    """The field at a batch of points as ``(n, m)``."""
    out = field(points)
    return out.reshape(points.shape[0], -1)


def pointwise_values(fn: Callable[[Array], Array], points: Array) -> Array:
    """A pointwise function over a batch as ``(n, r)``."""
    out = jax.vmap(lambda p: jnp.asarray(fn(p), dtype=p.dtype))(points)
    return out.reshape(points.shape[0], -1)
