r"""Set differences, unions and intersections of domains.

All three are regularised set operations (the closure of the interior of the result), so a hole
that shares an edge with the outer box leaves no zero-width "hair" behind. Interior points
are drawn by rejection. Boundary points are drawn from the pieces' boundaries in proportion
to their measure and kept where they lie on the boundary of the result: a point $x$ with
outward normal $n$ (flipped for a hole) is kept when $x - \delta n$ is in the result,
$x + \delta n$ is not, and $x$ is not on the boundary of an earlier piece (so a stretch of
boundary shared by two pieces is counted once). $\delta$ is $\sqrt{\varepsilon}$ times the
size of the bounding box, so features thinner than $\delta$ are not resolved.
"""

import itertools
from collections.abc import Sequence
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from ._ball import Ball
from ._base import (
    AbstractDomain,
    BoundarySample,
    Proposal,
    bounding_box_grid,
    candidates,
    default_float,
    host_bounds,
    length_scale,
    probe_step,
    resolve_tol,
    to_jax,
)
from ._box import Box
from ._distance import r_and_all, r_or_all
from ._sampling import pick, qmc_unit, select

# Measures that no formula gives are estimated from this many scrambled Sobol points with a
# fixed seed (relative error about 1e-4 for smooth shapes), once, at construction.
MONTE_CARLO_POINTS = 2**16
_MONTE_CARLO_SEED = 0


def _as_domains(name: str, value: Any) -> tuple[AbstractDomain, ...]:
    if isinstance(value, AbstractDomain):
        return (value,)
    if not isinstance(value, Sequence):
        raise TypeError(f"`{name}` must be a domain or a sequence of domains, got {value!r}")
    for i, item in enumerate(value):
        if not isinstance(item, AbstractDomain):
            raise TypeError(f"`{name}[{i}]` must be a domain, got {type(item).__name__}")
    return tuple(value)


def _check_dims(name: str, items: Sequence[AbstractDomain], dim: int, reference: str) -> None:
    for i, item in enumerate(items):
        if item.dim != dim:
            raise ValueError(
                f"`{name}[{i}]` has dimension {item.dim} but {reference} has dimension {dim}; "
                "set operations need domains of the same dimension"
            )


def _inside(outer: AbstractDomain, inner: AbstractDomain, *, strict: bool) -> bool:
    """True when `inner` is certainly inside `outer` (not touching its boundary if `strict`)."""
    less = np.less if strict else np.less_equal
    lo, hi = host_bounds(inner)
    if isinstance(outer, Box):
        return bool(np.all(less(outer.lo, lo)) and np.all(less(hi, outer.hi)))
    if isinstance(outer, Ball):
        c = np.asarray(outer.center)
        if isinstance(inner, Ball):
            reach = np.linalg.norm(np.asarray(inner.center) - c) + inner.radius
            return bool(less(reach, outer.radius))
        if outer.dim <= 10:
            corners = np.array(list(itertools.product(*zip(lo, hi, strict=True))))
            return bool(np.all(less(np.linalg.norm(corners - c, axis=1), outer.radius)))
    return False


def _apart(a: AbstractDomain, b: AbstractDomain, *, strict: bool) -> bool:
    """True when `a` and `b` certainly share no interior point (no point at all if `strict`)."""
    less = np.less if strict else np.less_equal
    if isinstance(a, Ball) and isinstance(b, Ball):
        gap = np.linalg.norm(np.asarray(a.center) - np.asarray(b.center))
        return bool(less(a.radius + b.radius, gap))
    lo_a, hi_a = host_bounds(a)
    lo_b, hi_b = host_bounds(b)
    return bool(np.any(less(hi_a, lo_b)) or np.any(less(hi_b, lo_a)))


def _monte_carlo(domain: AbstractDomain, part: str) -> float:
    """Proposal measure times the accepted fraction of a fixed Sobol sample."""
    proposal = getattr(domain, f"_{part}_proposal")()
    key = jax.random.key(_MONTE_CARLO_SEED)
    u = jnp.asarray(qmc_unit("sobol", MONTE_CARLO_POINTS, proposal.unit_dim, key), default_float())
    _, ok = candidates(domain, part, u)
    return proposal.measure * float(np.mean(np.asarray(ok)))


@eqx.filter_jit
def _on_boundary_jit(domain, pieces, j, pts, normals):
    return _on_boundary_of_result(domain, pieces, j, pts, normals)


def _on_boundary_of_result(
    domain: AbstractDomain, pieces: Sequence[AbstractDomain], j: Any, pts: Array, normals: Array
) -> Array:
    """Which boundary points of piece `j` (normals already outward for the result) to keep."""
    step = probe_step(domain, pts.dtype)
    tol = resolve_tol(None, pts.dtype, length_scale(domain))
    keep = domain.contains(pts - step * normals, tol=0.0)
    keep &= ~domain.contains(pts + step * normals, tol=0.0)
    for i, piece in enumerate(pieces[:-1]):
        on_piece = piece.contains(pts, tol=tol) & ~piece.contains(pts, tol=-tol)
        keep &= ~(on_piece & (i < j))
    return keep


def _boundary_proposal(
    domain: AbstractDomain, pieces: Sequence[AbstractDomain], signs: Sequence[float]
) -> Proposal:
    proposals = [p._boundary_proposal() for p in pieces]
    weights = [q.measure for q in proposals]

    def propose(u):
        j = pick(u[:, 0], weights)
        options = []
        for q, sign in zip(proposals, signs, strict=True):
            (pts, normals), ok = q.propose(u[:, 1 : 1 + q.unit_dim])
            options.append((pts, sign * normals, ok))
        pts, normals, ok = select(j, options)
        keep = _on_boundary_of_result(domain, pieces, j, pts, normals)
        return BoundarySample(pts, normals), ok & keep

    return Proposal(1 + max(q.unit_dim for q in proposals), sum(weights), propose, True)


def _boundary_grid(
    domain: AbstractDomain, pieces: Sequence[AbstractDomain], signs: Sequence[float], n: int
) -> BoundarySample:
    # Piece j gets n |∂P_j| / |∂Ω| points, so that about n survive the filter in total.
    points, normals, index = [], [], []
    for j, (piece, sign) in enumerate(zip(pieces, signs, strict=True)):
        nj = max(1, round(n * piece.boundary_measure / domain.boundary_measure))
        pts, nrm = piece._boundary_grid(nj)
        points.append(np.asarray(pts))
        normals.append(sign * np.asarray(nrm))
        index.append(np.full(len(pts), j))
    pts, nrm = np.concatenate(points), np.concatenate(normals)
    j = jnp.asarray(np.concatenate(index))
    keep = np.asarray(_on_boundary_jit(domain, tuple(pieces), j, to_jax(pts), to_jax(nrm)))
    return BoundarySample(to_jax(pts[keep]), to_jax(nrm[keep]))


@final
class Difference(AbstractDomain):
    r"""A base domain with holes cut out: $\overline{\Omega \setminus (H_1 \cup \dots \cup H_k)}$.

    Holes may overlap each other or stick out of the base. Interior points are drawn from
    the base and rejected inside holes (so the acceptance rate is the area fraction kept);
    on the boundary, hole normals are flipped to point out of the result, i.e. into the hole.

    Measures are exact when every hole is known to lie inside a `Box` or `Ball` base (or
    entirely outside it) and holes are known to be disjoint (balls by their centres and
    radii, other shapes by their bounding boxes): then $|\Omega| - \sum_j |H_j|$, and for
    the boundary (when nothing touches) $|\partial\Omega| + \sum_j |\partial H_j|$.
    Otherwise they are Monte-Carlo estimates from `MONTE_CARLO_POINTS` = $2^{16}$ scrambled
    Sobol points with a fixed seed, computed once at construction; `exact_measures` tells
    which.

    Attributes:
        base: the outer domain $\Omega$.
        holes: the domains removed, same dimension as `base`.
        exact_measures: whether `measure` and `boundary_measure` come from formulas.

    Example:
        >>> import math, jax.random as jr
        >>> plate = Difference(Box([0.0, 0.0], [2.0, 1.0]), [Ball((0.5, 0.5), 0.2)])
        >>> math.isclose(plate.measure, 2 - math.pi * 0.04), plate.exact_measures
        (True, True)
        >>> pts, normals = plate.sample_boundary(100, key=jr.key(0))
        >>> pts.shape, normals.shape
        ((100, 2), (100, 2))
    """

    base: AbstractDomain
    holes: tuple[AbstractDomain, ...]
    exact_measures: bool = eqx.field(static=True)
    _measure: float = eqx.field(static=True)
    _boundary_measure: float = eqx.field(static=True)

    def __init__(self, base: AbstractDomain, holes: AbstractDomain | Sequence[AbstractDomain]):
        """Build a difference.

        Args:
            base: the domain to cut holes from.
            holes: one domain or a non-empty sequence of domains to remove.

        Raises:
            TypeError: if `base` or a hole is not a domain.
            ValueError: if `holes` is empty or a hole's dimension differs from `base`'s.
        """
        if not isinstance(base, AbstractDomain):
            raise TypeError(f"`base` must be a domain, got {type(base).__name__}")
        holes_ = _as_domains("holes", holes)
        if not holes_:
            raise ValueError("`holes` must hold at least one domain")
        _check_dims("holes", holes_, base.dim, "`base`")
        if isinstance(base, Difference):  # (A - B) - C is A - (B, C)
            holes_ = base.holes + holes_
            base = base.base
        self.base = base
        self.holes = holes_
        area, boundary = self._exact_measures()
        self.exact_measures = area is not None and boundary is not None
        # Provisional values (the proposals never read the measures of `self`).
        self._measure = area if area is not None else -1.0
        self._boundary_measure = boundary if boundary is not None else -1.0
        if area is None:
            self._measure = _monte_carlo(self, "interior")
        if boundary is None:
            self._boundary_measure = _monte_carlo(self, "boundary")

    def _exact_measures(self) -> tuple[float | None, float | None]:
        base, area, boundary = self.base, self.base.measure, self.base.boundary_measure
        area_ok = boundary_ok = True
        inside = []
        for hole in self.holes:
            if _apart(base, hole, strict=False):
                boundary_ok &= _apart(base, hole, strict=True)
            elif _inside(base, hole, strict=False):
                inside.append(hole)
                area -= hole.measure
                boundary += hole.boundary_measure
                boundary_ok &= _inside(base, hole, strict=True)
            else:
                area_ok = boundary_ok = False
        for a, b in itertools.combinations(inside, 2):
            area_ok &= _apart(a, b, strict=False)
            boundary_ok &= _apart(a, b, strict=True)
        return (area if area_ok else None), (boundary if area_ok and boundary_ok else None)

    @property
    def dim(self) -> int:
        return self.base.dim

    @property
    def measure(self) -> float:
        return self._measure

    @property
    def boundary_measure(self) -> float:
        return self._boundary_measure

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return host_bounds(self.base)

    def _contains(self, x: Float[Array, "*batch d"], tol: float) -> Bool[Array, "*batch"]:
        inside = self.base.contains(x, tol=tol)
        for hole in self.holes:
            inside &= ~hole.contains(x, tol=-tol)
        return inside

    def _interior_proposal(self) -> Proposal:
        base = self.base._interior_proposal()

        def propose(u):
            pts, ok = base.propose(u)
            for hole in self.holes:
                ok &= ~hole.contains(pts, tol=0.0)
            return pts, ok

        return Proposal(base.unit_dim, base.measure, propose, True)

    def _pieces(self) -> tuple[tuple[AbstractDomain, ...], tuple[float, ...]]:
        return (self.base,) + self.holes, (1.0,) + (-1.0,) * len(self.holes)

    def _distance(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch"]:
        return r_and_all([self.base._distance(x)] + [-h._distance(x) for h in self.holes])

    def _outer_names(self) -> dict[str, str]:
        """This domain's name of each part of the base."""
        if len(self.base.parts) == 1:
            return {self.base.parts[0]: "outer"}
        return {p: p for p in self.base.parts}

    @property
    def parts(self) -> tuple[str, ...]:
        outer = tuple(self._outer_names().values())
        return outer + tuple(f"hole{i}" for i in range(len(self.holes)))

    @property
    def part_groups(self) -> dict[str, tuple[str, ...]]:
        groups = {"holes": tuple(f"hole{i}" for i in range(len(self.holes)))}
        outer = tuple(self._outer_names().values())
        if len(outer) > 1:
            groups["outer"] = outer
        for name, members in self.base.part_groups.items():
            groups.setdefault(name, members)
        return groups

    def _part_distance(self, name: str, x: Float[Array, "*batch d"]) -> Float[Array, "*batch"]:
        if name.startswith("hole") and name[4:].isdigit():
            return -self.holes[int(name[4:])]._distance(x)
        base_name = {v: k for k, v in self._outer_names().items()}[name]
        return self.base._part_distance(base_name, x)

    def _part_measure(self, name: str) -> float | None:
        if not self.exact_measures:
            return None
        if name.startswith("hole") and name[4:].isdigit():
            hole = self.holes[int(name[4:])]
            return hole.boundary_measure if _inside(self.base, hole, strict=True) else None
        base_name = {v: k for k, v in self._outer_names().items()}[name]
        return self.base._part_measure(base_name)

    def _junctions(self) -> tuple[tuple[str, str, np.ndarray], ...]:
        rename = self._outer_names()
        return tuple((rename[a], rename[b], pts) for a, b, pts in self.base._junctions())

    def _boundary_proposal(self) -> Proposal:
        return _boundary_proposal(self, *self._pieces())

    def _interior_grid(self, n: int) -> Array:
        return bounding_box_grid(self, n)

    def _boundary_grid(self, n: int) -> BoundarySample:
        return _boundary_grid(self, *self._pieces(), n)


@final
class Union(AbstractDomain):
    r"""The region $\overline{\operatorname{int}(\Omega_1 \cup \dots \cup \Omega_k)}$.

    Interior points come from piece $j$ with probability proportional to its measure and are
    kept unless an earlier piece also contains them, which makes them uniform on the union.
    Measures are sums when the pieces are known to be disjoint (see `Difference`), and
    otherwise Monte-Carlo estimates from `MONTE_CARLO_POINTS` Sobol points with a fixed seed.

    Attributes:
        pieces: the domains joined, all of the same dimension.
        exact_measures: whether `measure` and `boundary_measure` come from formulas.

    Example:
        >>> two = Union([Box([0.0, 0.0], [1.0, 1.0]), Box([1.0, 0.0], [2.0, 1.0])])
        >>> two.measure, round(two.boundary_measure, 2), two.exact_measures
        (2.0, 6.0, False)
    """

    pieces: tuple[AbstractDomain, ...]
    exact_measures: bool = eqx.field(static=True)
    _measure: float = eqx.field(static=True)
    _boundary_measure: float = eqx.field(static=True)

    def __init__(self, pieces: Sequence[AbstractDomain]):
        """Build a union.

        Args:
            pieces: a non-empty sequence of domains of the same dimension.

        Raises:
            TypeError: if a piece is not a domain.
            ValueError: if `pieces` is empty or the dimensions differ.
        """
        pieces_ = _as_domains("pieces", pieces)
        if not pieces_:
            raise ValueError("`pieces` must hold at least one domain")
        _check_dims("pieces", pieces_, pieces_[0].dim, "`pieces[0]`")
        # Nested unions are flattened: (A | B) | C has pieces (A, B, C).
        nested = (p.pieces if isinstance(p, Union) else (p,) for p in pieces_)
        self.pieces = tuple(itertools.chain.from_iterable(nested))
        pairs = list(itertools.combinations(self.pieces, 2))
        area_ok = all(_apart(a, b, strict=False) for a, b in pairs)
        boundary_ok = area_ok and all(_apart(a, b, strict=True) for a, b in pairs)
        self.exact_measures = boundary_ok
        # Provisional values (the proposals never read the measures of `self`).
        self._measure = sum(p.measure for p in self.pieces) if area_ok else -1.0
        self._boundary_measure = (
            sum(p.boundary_measure for p in self.pieces) if boundary_ok else -1.0
        )
        if not area_ok:
            self._measure = _monte_carlo(self, "interior")
        if not boundary_ok:
            self._boundary_measure = _monte_carlo(self, "boundary")

    @property
    def dim(self) -> int:
        return self.pieces[0].dim

    @property
    def measure(self) -> float:
        return self._measure

    @property
    def boundary_measure(self) -> float:
        return self._boundary_measure

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        boxes = [host_bounds(p) for p in self.pieces]
        return np.min([b[0] for b in boxes], axis=0), np.max([b[1] for b in boxes], axis=0)

    def _contains(self, x: Float[Array, "*batch d"], tol: float) -> Bool[Array, "*batch"]:
        inside = self.pieces[0].contains(x, tol=tol)
        for piece in self.pieces[1:]:
            inside |= piece.contains(x, tol=tol)
        return inside

    def _interior_proposal(self) -> Proposal:
        proposals = [p._interior_proposal() for p in self.pieces]
        weights = [q.measure for q in proposals]

        def propose(u):
            j = pick(u[:, 0], weights)
            pts, ok = select(j, [q.propose(u[:, 1 : 1 + q.unit_dim]) for q in proposals])
            for i, piece in enumerate(self.pieces[:-1]):
                ok &= ~(piece.contains(pts, tol=0.0) & (i < j))
            return pts, ok

        return Proposal(1 + max(q.unit_dim for q in proposals), sum(weights), propose, True)

    def _boundary_proposal(self) -> Proposal:
        return _boundary_proposal(self, self.pieces, (1.0,) * len(self.pieces))

    def _interior_grid(self, n: int) -> Array:
        return bounding_box_grid(self, n)

    def _boundary_grid(self, n: int) -> BoundarySample:
        return _boundary_grid(self, self.pieces, (1.0,) * len(self.pieces), n)

    def _distance(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch"]:
        return r_or_all([p._distance(x) for p in self.pieces])

    @property
    def parts(self) -> tuple[str, ...]:
        # a piece's own parts run partly inside the union, where their distance functions
        # vanish too: the union's boundary is one part
        return ("boundary",)

    @property
    def part_groups(self) -> dict[str, tuple[str, ...]]:
        return {}

    def _part_distance(self, name: str, x: Float[Array, "*batch d"]) -> Float[Array, "*batch"]:
        return self._distance(x)

    def _part_measure(self, name: str) -> float | None:
        return self.boundary_measure

    def _junctions(self) -> tuple[tuple[str, str, np.ndarray], ...]:
        return ()


def _piece_names(pieces: Sequence[AbstractDomain]) -> list[dict[str, str]]:
    """An intersection's name of each part of each piece: ``piece{i}`` or ``piece{i}.{name}``."""
    out = []
    for i, piece in enumerate(pieces):
        if len(piece.parts) == 1:
            out.append({piece.parts[0]: f"piece{i}"})
        else:
            out.append({p: f"piece{i}.{p}" for p in piece.parts})
    return out


@final
class Intersection(AbstractDomain):
    r"""The region $\overline{\operatorname{int}(\Omega_1 \cap \dots \cap \Omega_k)}$.

    Interior points are drawn from the first piece and kept where every other piece
    contains them; boundary points from every piece's boundary, kept where they lie on the
    boundary of the result. Measures are Monte-Carlo estimates from `MONTE_CARLO_POINTS`
    Sobol points with a fixed seed. The distance function is the R-conjunction of the
    pieces'; each piece's parts are parts of the result, named ``piece{i}`` (a piece with
    one part) or ``piece{i}.{name}``, with the group ``piece{i}``.

    Attributes:
        pieces: the domains intersected, all of the same dimension.

    Example:
        >>> lens = Intersection([Ball((0.0, 0.0), 1.0), Ball((1.0, 0.0), 1.0)])
        >>> round(lens.measure, 2), lens.parts  # 2 pi / 3 - sqrt(3) / 2
        (1.23, ('piece0', 'piece1'))
        >>> bool(lens.contains([0.5, 0.0])), bool(lens.contains([-0.5, 0.0]))
        (True, False)
    """

    pieces: tuple[AbstractDomain, ...]
    _measure: float = eqx.field(static=True)
    _boundary_measure: float = eqx.field(static=True)

    def __init__(self, pieces: Sequence[AbstractDomain]):
        """Build an intersection.

        Args:
            pieces: a non-empty sequence of domains of the same dimension.

        Raises:
            TypeError: if a piece is not a domain.
            ValueError: if `pieces` is empty, the dimensions differ, or the bounding boxes
                of the pieces do not overlap.
        """
        pieces_ = _as_domains("pieces", pieces)
        if not pieces_:
            raise ValueError("`pieces` must hold at least one domain")
        _check_dims("pieces", pieces_, pieces_[0].dim, "`pieces[0]`")
        nested = (p.pieces if isinstance(p, Intersection) else (p,) for p in pieces_)
        self.pieces = tuple(itertools.chain.from_iterable(nested))
        lo, hi = self._bounds()
        if np.any(lo >= hi):
            raise ValueError("`pieces` do not overlap: their bounding boxes share no volume")
        self._measure = -1.0
        self._boundary_measure = -1.0
        self._measure = _monte_carlo(self, "interior")
        if self._measure <= 0.0:
            raise ValueError("`pieces` do not overlap: their intersection is empty")
        self._boundary_measure = _monte_carlo(self, "boundary")

    @property
    def dim(self) -> int:
        return self.pieces[0].dim

    @property
    def measure(self) -> float:
        return self._measure

    @property
    def boundary_measure(self) -> float:
        return self._boundary_measure

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        boxes = [host_bounds(p) for p in self.pieces]
        return np.max([b[0] for b in boxes], axis=0), np.min([b[1] for b in boxes], axis=0)

    def _contains(self, x: Float[Array, "*batch d"], tol: float) -> Bool[Array, "*batch"]:
        inside = self.pieces[0].contains(x, tol=tol)
        for piece in self.pieces[1:]:
            inside &= piece.contains(x, tol=tol)
        return inside

    def _interior_proposal(self) -> Proposal:
        first = self.pieces[0]._interior_proposal()

        def propose(u):
            pts, ok = first.propose(u)
            for piece in self.pieces[1:]:
                ok &= piece.contains(pts, tol=0.0)
            return pts, ok

        return Proposal(first.unit_dim, first.measure, propose, True)

    def _boundary_proposal(self) -> Proposal:
        return _boundary_proposal(self, self.pieces, (1.0,) * len(self.pieces))

    def _interior_grid(self, n: int) -> Array:
        return bounding_box_grid(self, n)

    def _boundary_grid(self, n: int) -> BoundarySample:
        return _boundary_grid(self, self.pieces, (1.0,) * len(self.pieces), n)

    def _distance(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch"]:
        return r_and_all([p._distance(x) for p in self.pieces])

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(n for names in _piece_names(self.pieces) for n in names.values())

    @property
    def part_groups(self) -> dict[str, tuple[str, ...]]:
        return {
            f"piece{i}": tuple(names.values())
            for i, names in enumerate(_piece_names(self.pieces))
            if len(names) > 1
        }

    def _owner(self, name: str) -> tuple[AbstractDomain, str]:
        for piece, names in zip(self.pieces, _piece_names(self.pieces), strict=True):
            for own, mine in names.items():
                if mine == name:
                    return piece, own
        raise ValueError(f"no part {name!r}")

    def _part_distance(self, name: str, x: Float[Array, "*batch d"]) -> Float[Array, "*batch"]:
        piece, own = self._owner(name)
        return piece._part_distance(own, x)

    def _part_measure(self, name: str) -> float | None:
        return None

    def _junctions(self) -> tuple[tuple[str, str, np.ndarray], ...]:
        out = []
        for piece, names in zip(self.pieces, _piece_names(self.pieces), strict=True):
            for a, b, pts in piece._junctions():
                inside = np.asarray(self.contains(to_jax(pts)))
                if inside.any():
                    out.append((names[a], names[b], pts[inside]))
        return tuple(out)
