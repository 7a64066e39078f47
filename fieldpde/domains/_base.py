r"""The domain interface: measures, membership and point samplers.

A domain $\Omega \subset \mathbb{R}^d$ is a closed set that can tell its measure
$|\Omega|$ and the measure of its boundary $|\partial\Omega|$ (the Eq. 3 loss scales a mean
over sampled points by these), test membership, and draw points from its interior and its
boundary (with outward unit normals).

Every sampler other than ``"grid"`` is one rule: draw points $u$ of the unit cube
$[0, 1)^k$ (uniform, Sobol or Halton), push them through a measure-preserving map onto a
*proposal region* that contains the domain, and keep the points the domain accepts. For a
box, a ball or a polygon the proposal region is the domain itself and every point is kept;
set differences and unions reject. Because the map preserves measure, kept points are
uniform on the domain and quasi-random input stays well spread.
"""

import abc
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from .._checks import as_key, last_axis, positive_int
from ._sampling import (
    cell_grid,
    check_method,
    grid_counts,
    host_draw,
    rejection_batch,
    uniform_draw,
    uniform_draw_host,
)

if TYPE_CHECKING:
    from ._time import SpaceTime

SampleMethod = Literal["uniform", "sobol", "halton", "grid"]


@final
class BoundarySample(NamedTuple):
    """Points on a boundary with the outward unit normal at each point.

    Attributes:
        points: shape ``(n, d)``.
        normals: shape ``(n, d)``, unit length, pointing out of the domain.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from fieldpde.domains import Disk
        >>> sample = Disk((0.0, 0.0), 2.0).sample_boundary(8, key=jr.key(0))
        >>> isinstance(sample, BoundarySample), sample.points.shape
        (True, (8, 2))
        >>> bool(jnp.allclose(sample.normals, sample.points / 2.0, atol=1e-6))  # n = x / r
        True
    """

    points: Float[Array, "n d"]
    normals: Float[Array, "n d"]


@final
class Proposal(NamedTuple):
    """How a domain turns unit-cube points into candidate samples.

    Attributes:
        unit_dim: $k$, the number of unit-cube coordinates a candidate consumes.
        measure: measure of the proposal region, which the map covers uniformly
            (equal to the domain's own measure when nothing is rejected).
        propose: maps ``u`` of shape ``(m, k)`` to ``(values, accepted)``: the candidates
            (an array of points, or a `BoundarySample`) and a bool mask of shape ``(m,)``.
        rejects: whether some candidates can be rejected (if not, ``accepted`` is all
            true and samplers skip the rejection loop).

    Example:
        The unit disk by rejection from the square $[-1, 1]^2$ of measure 4:

        >>> import jax.numpy as jnp
        >>> def propose(u):
        ...     x = 2.0 * u - 1.0
        ...     return x, jnp.sum(x**2, axis=-1) <= 1.0
        >>> disk = Proposal(unit_dim=2, measure=4.0, propose=propose, rejects=True)
        >>> points, accepted = disk.propose(jnp.array([[0.5, 0.5], [1.0, 1.0]]))
        >>> points.tolist(), accepted.tolist()
        ([[0.0, 0.0], [1.0, 1.0]], [True, False])
    """

    unit_dim: int
    measure: float
    propose: Callable[[Array], tuple[Any, Array]]
    rejects: bool = False


def default_float() -> Any:
    """JAX's default float dtype (float64 when ``jax_enable_x64`` is on)."""
    return jnp.result_type(float)


def as_points(x: Any, dim: int, owner: str) -> Array:
    """`x` as a float array with last axis `dim`, or a ValueError naming it."""
    x = last_axis("x", x, dim, owner)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(default_float())
    return x


def as_coordinates(name: str, value: Any, owner: str) -> np.ndarray:
    """`value` as a non-empty 1-D float64 array of finite coordinates, or raise naming `name`."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"`{name}` of {owner} must be a sequence of numbers, got {value!r}"
        ) from err
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"`{name}` of {owner} must be a non-empty 1-D sequence of coordinates, "
            f"got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` of {owner} must be finite, got {arr.tolist()}")
    return arr


def as_number(name: str, value: Any, owner: str) -> float:
    """`value` as a finite float, or raise naming `name`."""
    if isinstance(value, bool):
        raise ValueError(f"`{name}` of {owner} must be a finite number, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"`{name}` of {owner} must be a finite number, got {value!r}") from err
    if not math.isfinite(out):
        raise ValueError(f"`{name}` of {owner} must be a finite number, got {value!r}")
    return out


def to_jax(x: Any) -> Array:
    """A host array as a JAX array of the default float dtype."""
    return jnp.asarray(np.asarray(x), default_float())


def host_bounds(domain: "AbstractDomain") -> tuple[np.ndarray, np.ndarray]:
    """The bounding box of `domain` as float64 numpy arrays."""
    lo, hi = domain._bounds()
    return np.asarray(lo, np.float64), np.asarray(hi, np.float64)


def length_scale(domain: "AbstractDomain") -> float:
    """A length used to make tolerances relative: the largest bounding-box coordinate, >= 1."""
    lo, hi = host_bounds(domain)
    return max(1.0, float(np.max(np.abs(lo))), float(np.max(np.abs(hi))))


def resolve_tol(tol: float | None, dtype: Any, scale: float) -> float:
    """`tol`, or by default a few hundred rounding errors of `dtype` at length `scale`."""
    if tol is None:
        return 256.0 * float(jnp.finfo(dtype).eps) * scale
    tol = float(tol)
    if not math.isfinite(tol):
        raise ValueError(f"`tol` must be a finite number or None, got {tol!r}")
    return tol


def probe_step(domain: "AbstractDomain", dtype: Any) -> float:
    """Step along a normal used to look at either side of a boundary point."""
    return math.sqrt(float(jnp.finfo(dtype).eps)) * length_scale(domain)


def bounding_box_grid(domain: "AbstractDomain", n: int) -> Array:
    """About `n` points of `domain`: a cell-centred grid of its bounding box, filtered.

    The box grid has about ``n * box_volume / domain.measure`` points so that about `n`
    land inside.
    """
    lo, hi = host_bounds(domain)
    target = max(1, math.ceil(n * float(np.prod(hi - lo)) / domain.measure))
    pts = cell_grid(lo, hi, grid_counts(hi - lo, target))
    return to_jax(pts[np.asarray(domain.contains(to_jax(pts)))])


def _proposal(domain: "AbstractDomain", part: str) -> Proposal:
    return getattr(domain, f"_{part}_proposal")()


# Domains hold only static data, so they are hashable jit arguments: a sampler is compiled
# once per (domain, part, n) and reused.
@eqx.filter_jit
def _uniform_sample(domain: "AbstractDomain", part: str, n: int, key: PRNGKeyArray) -> Any:
    return uniform_draw(_proposal(domain, part), n, key, default_float())


@eqx.filter_jit
def candidates(domain: Any, part: str, u: Array) -> tuple[Any, Array]:
    # `domain`: an AbstractDomain, or a BoundaryPart (which proposes as its domain does)
    return _proposal(domain, part).propose(u)


@eqx.filter_jit
def _jit_contains(domain: "AbstractDomain", x: Array, tol: float) -> Array:
    return domain._contains(x, tol)


def sample_proposal(domain: Any, part: str, n: int, *, key: PRNGKeyArray, method: str) -> Any:
    """`n` samples of ``domain._{part}_proposal()`` by a random or quasi-random `method`."""
    key = as_key(key)  # an int seed is accepted as jax.random.key(seed)
    proposal = _proposal(domain, part)
    dtype = default_float()

    def propose(u):
        return candidates(domain, part, u)

    if method == "uniform":
        if not proposal.rejects:
            return propose(jax.random.uniform(key, (n, proposal.unit_dim), dtype))[0]
        if isinstance(key, jax.core.Tracer):  # under jit or vmap: a compiled loop
            return _uniform_sample(domain, part, n, key)
        return uniform_draw_host(propose, proposal.unit_dim, n, key, dtype)
    # Rejecting proposals start with as many candidates as a uniform round, sharing the
    # compiled map.
    first = rejection_batch(n) if proposal.rejects else n
    return host_draw(propose, proposal.unit_dim, n, key, method, dtype, first=first)


class AbstractDomain(eqx.Module):
    r"""A closed region $\Omega \subset \mathbb{R}^d$ that can measure itself and be sampled.

    Concrete domains are immutable and hold their geometry as static Python numbers, so a
    domain can be closed over in jitted code. ``contains`` and the ``"uniform"`` samplers
    are written in `jax.numpy` and work under `jax.jit` and `jax.vmap` (over keys); the
    ``"sobol"``, ``"halton"`` and ``"grid"`` samplers run on the host with numpy/scipy and
    need a concrete key.

    A new domain implements `dim`, `measure`, `boundary_measure`, ``_contains(x, tol)``
    behind `contains`, the host-side ``_bounds()`` behind `bounding_box`, and four sampling
    hooks: ``_interior_proposal()`` and ``_boundary_proposal()`` (each a `Proposal`),
    ``_interior_grid(n)`` and ``_boundary_grid(n)``. `sample_interior` and
    `sample_boundary` are written in terms of those hooks.

    Multiplying a domain by a `TimeInterval` gives the `SpaceTime` cylinder
    ``domain × [t0, t1]``; ``a - b`` is `Difference` and ``a | b`` is `Union`.

    Example:
        >>> import jax.random as jr
        >>> from fieldpde.domains import Box, Disk, TimeInterval
        >>> plate = Box([0.0, 0.0], [2.0, 1.0]) - Disk((1.0, 0.5), 0.25)
        >>> x = plate.sample_interior(128, key=jr.key(0), method="halton")
        >>> bool(plate.contains(x).all()), plate.dim
        (True, 2)
        >>> (plate * TimeInterval(0.0, 1.0)).sample_lateral(32, key=jr.key(1)).points.shape
        (32, 3)
    """

    @property
    @abc.abstractmethod
    def dim(self) -> int:
        """Number of coordinates $d$ of a point."""

    @property
    @abc.abstractmethod
    def measure(self) -> float:
        """Length, area or volume $|\\Omega|$ (the $d$-dimensional Lebesgue measure)."""

    @property
    @abc.abstractmethod
    def boundary_measure(self) -> float:
        """$(d-1)$-dimensional measure of $\\partial\\Omega$ (for $d = 1$: the number of ends)."""

    @abc.abstractmethod
    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Corners of an axis-aligned box containing the domain, as float64 numpy arrays."""

    @abc.abstractmethod
    def _contains(self, x: Float[Array, "*batch d"], tol: float) -> Bool[Array, "*batch"]:
        """`contains` for a checked float array `x` and a resolved `tol`."""

    @abc.abstractmethod
    def _interior_proposal(self) -> Proposal:
        """Unit cube to candidate interior points."""

    @abc.abstractmethod
    def _boundary_proposal(self) -> Proposal:
        """Unit cube to candidate `BoundarySample`s."""

    @abc.abstractmethod
    def _interior_grid(self, n: int) -> Array:
        """About `n` interior points on a regular grid."""

    @abc.abstractmethod
    def _boundary_grid(self, n: int) -> BoundarySample:
        """About `n` boundary points with regular spacing, and their normals."""

    @abc.abstractmethod
    def _distance(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch"]:
        """`distance` for a checked float array `x`."""

    @property
    @abc.abstractmethod
    def parts(self) -> tuple[str, ...]:
        """The names of the boundary's parts, in order (a box's faces, a polygon's edges,
        each hole of a difference, a space-time cylinder's initial slice, ...)."""

    @property
    @abc.abstractmethod
    def part_groups(self) -> dict[str, tuple[str, ...]]:
        """Names that stand for several parts (``"holes"``, ``"lateral"``, ...)."""

    @abc.abstractmethod
    def _part_distance(self, name: str, x: Float[Array, "*batch d"]) -> Float[Array, "*batch"]:
        """The ADF of part `name`: zero on that part, positive in the domain off it."""

    @abc.abstractmethod
    def _part_measure(self, name: str) -> float | None:
        """The $(d-1)$-measure of part `name` if a formula gives it, else ``None``."""

    @abc.abstractmethod
    def _junctions(self) -> tuple[tuple[str, str, np.ndarray], ...]:
        """Where two parts meet: ``(part_a, part_b, points)`` with points ``(k, d)``."""

    def bounding_box(self) -> tuple[Float[Array, " d"], Float[Array, " d"]]:
        """Corners ``(lo, hi)`` of an axis-aligned box that contains the domain."""
        lo, hi = host_bounds(self)
        return to_jax(lo), to_jax(hi)

    def contains(
        self, x: Float[Array, "*batch d"], *, tol: float | None = None
    ) -> Bool[Array, "*batch"]:
        """Whether each point of `x` lies in the closed domain, up to `tol`.

        Args:
            x: points of shape ``(..., d)``.
            tol: grow the set by this distance (a negative `tol` shrinks it). By default it
                is a few hundred rounding errors of the dtype of `x`, relative to the size of
                the bounding box, so sampled boundary points count as inside.

        Returns:
            A bool array of shape ``x.shape[:-1]``.
        """
        x = as_points(x, self.dim, f"{type(self).__name__}.contains")
        tol = resolve_tol(tol, x.dtype, length_scale(self))
        return _jit_contains(self, x, tol)

    def sample_interior(
        self, n: int, *, key: PRNGKeyArray, method: SampleMethod = "uniform"
    ) -> Float[Array, "n d"]:
        """Draw points from the domain, uniformly distributed over it.

        Args:
            n: number of points (for ``"grid"``: the approximate number, see below).
            key: PRNG key (an int seed is taken as ``jax.random.key(seed)``). ``"uniform"``
                draws with `jax.random`; ``"sobol"`` and ``"halton"`` use scrambled
                `scipy.stats.qmc` sequences seeded from the key, so the same key gives the
                same points; ``"grid"`` ignores it.
            method: ``"uniform"``, ``"sobol"``, ``"halton"`` or ``"grid"``. A grid is
                cell-centred, with about equal spacing $h = (|\\Omega|/n)^{1/d}$ on every
                axis; it has about `n` points, not exactly `n`. Shapes other than boxes
                filter such a grid of their bounding box.

        Returns:
            Points of shape ``(n, d)`` in JAX's default float dtype.

        Raises:
            ValueError: `n` < 1 or an unknown `method`.
            TypeError: `key` is neither a PRNG key nor an int (``"grid"`` ignores it).
        """
        n = positive_int("n", n)
        method = check_method(method)
        if method == "grid":
            return self._interior_grid(n)
        return sample_proposal(self, "interior", n, key=key, method=method)

    def sample_boundary(
        self, n: int, *, key: PRNGKeyArray, method: SampleMethod = "uniform"
    ) -> BoundarySample:
        """Draw points from the boundary, uniformly w.r.t. boundary measure, with outward normals.

        Arguments are those of `sample_interior`; a boundary ``"grid"`` has about `n`
        points with about equal spacing along the boundary.

        Returns:
            A `BoundarySample` ``(points, normals)``, both of shape ``(n, d)``.
        """
        n = positive_int("n", n)
        method = check_method(method)
        if method == "grid":
            return self._boundary_grid(n)
        points, normals = sample_proposal(self, "boundary", n, key=key, method=method)
        return BoundarySample(points, normals)

    def distance(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch"]:
        r"""The approximate distance function $\phi$ of the domain at points `x`.

        $\phi$ is zero on the boundary, positive inside and negative outside, smooth inside,
        and normalised to first order: $|\nabla \phi| = 1$ on the smooth parts of the
        boundary, so near the boundary it is the signed distance (Sukumar & Srivastava,
        CMAME 2022). Set operations compose their pieces' functions by R-functions.

        Args:
            x: points of shape ``(..., d)``.

        Returns:
            $\phi$ of shape ``x.shape[:-1]``.
        """
        return self._distance(as_points(x, self.dim, f"{type(self).__name__}.distance"))

    def resolve_parts(self, part: Any, *, label: str = "`part`: ") -> tuple[str, ...]:
        """The names of the parts `part` stands for.

        Args:
            part: ``"boundary"`` (every part), a part's name, a group's name (see
                `part_groups`) or a sequence of those.
            label: what an error message starts with (the argument's name).

        Returns:
            The part names, in the domain's order, each once.

        Raises:
            ValueError: a name the domain does not have (the message lists the ones it has).
        """
        names = [part] if isinstance(part, str) else list(part)
        if not names:
            raise ValueError(f"{label}must name at least one boundary part")
        chosen: set[str] = set()
        groups = self.part_groups
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"{label}must hold part names (strings), got {name!r}")
            if name == "boundary":
                chosen.update(self.parts)
            elif name in groups:
                chosen.update(groups[name])
            elif name in self.parts:
                chosen.add(name)
            else:
                known = ", ".join(repr(p) for p in self.parts)
                extra = f"; groups: {', '.join(repr(g) for g in groups)}" if groups else ""
                raise ValueError(
                    f"{label}{name!r} is not a boundary part of this {type(self).__name__}; "
                    f"its parts are {known}{extra} (or 'boundary' for all of them)"
                )
        return tuple(p for p in self.parts if p in chosen)

    def part_distance(self, part: Any, x: Float[Array, "*batch d"]) -> Float[Array, "*batch"]:
        """The ADF of some boundary parts: zero on them, positive in the domain off them.

        Args:
            part: part names as for `resolve_parts`.
            x: points of shape ``(..., d)``.

        Returns:
            The R-conjunction of the parts' ADFs, shape ``x.shape[:-1]``.
        """
        from ._distance import r_and_all

        names = self.resolve_parts(part)
        x = as_points(x, self.dim, f"{type(self).__name__}.part_distance")
        return r_and_all([self._part_distance(n, x) for n in names])

    def part_index(self, x: Float[Array, "*batch d"]) -> Array:
        """For boundary points, the index in `parts` of the part each lies on.

        Args:
            x: boundary points of shape ``(..., d)``.

        Returns:
            An int array of shape ``x.shape[:-1]``: the part whose ADF is smallest there.
        """
        x = as_points(x, self.dim, f"{type(self).__name__}.part_index")
        phis = jnp.stack([jnp.abs(self._part_distance(n, x)) for n in self.parts], axis=-1)
        return jnp.argmin(phis, axis=-1)

    def part(self, part: Any) -> Any:
        """The boundary part(s) `part`, as a `BoundaryPart` to sample and measure.

        Args:
            part: part names as for `resolve_parts`, or a predicate ``(d,) -> bool`` of a
                boundary point.

        Returns:
            A `BoundaryPart`.
        """
        from ._parts import BoundaryPart

        return BoundaryPart(self, part)

    def __mul__(self, other: Any) -> "SpaceTime":
        from ._time import SpaceTime, TimeInterval

        if isinstance(other, TimeInterval):
            return SpaceTime(self, other)
        return NotImplemented

    def __sub__(self, other: Any) -> "AbstractDomain":
        from ._setops import Difference

        if isinstance(other, AbstractDomain):
            return Difference(self, [other])
        return NotImplemented

    def __or__(self, other: Any) -> "AbstractDomain":
        from ._setops import Union

        if isinstance(other, AbstractDomain):
            return Union([self, other])
        return NotImplemented

    def __and__(self, other: Any) -> "AbstractDomain":
        from ._setops import Intersection

        if isinstance(other, AbstractDomain):
            return Intersection([self, other])
        return NotImplemented
