"""Simple polygons in the plane, given by their vertices."""

from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from ._base import (
    AbstractDomain,
    BoundarySample,
    Proposal,
    bounding_box_grid,
    candidates,
    to_jax,
)
from ._distance import equivalence, segment_distance
from ._sampling import cell_centres, pick


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _segments_meet(p, q, r, s, eps: float) -> bool:
    """Whether the closed segments ``pq`` and ``rs`` share a point (up to `eps`)."""
    d1, d2 = _cross(q - p, r - p), _cross(q - p, s - p)
    d3, d4 = _cross(s - r, p - r), _cross(s - r, q - r)
    if ((d1 > eps and d2 < -eps) or (d1 < -eps and d2 > eps)) and (
        (d3 > eps and d4 < -eps) or (d3 < -eps and d4 > eps)
    ):
        return True

    def on_segment(a, b, c, dc):  # c collinear with ab and within its extent
        return (
            abs(dc) <= eps
            and np.all(np.minimum(a, b) - 1e-12 <= c)
            and np.all(c <= np.maximum(a, b) + 1e-12)
        )

    return (
        on_segment(p, q, r, d1)
        or on_segment(p, q, s, d2)
        or on_segment(r, s, p, d3)
        or on_segment(r, s, q, d4)
    )


def _check_simple(v: np.ndarray, scale: float) -> None:
    k = len(v)
    eps = 1e-12 * scale**2
    for i in range(k):
        a, b, c = v[i - 1], v[i], v[(i + 1) % k]
        if abs(_cross(b - a, c - b)) <= eps and np.dot(b - a, c - b) < 0:
            raise ValueError(
                f"`vertices` must describe a simple polygon, but the edges at vertex {i} "
                "fold back onto each other"
            )
    for i in range(k):
        for j in range(i + 2, k):
            if i == 0 and j == k - 1:
                continue  # adjacent through the closing edge
            if _segments_meet(v[i], v[(i + 1) % k], v[j], v[(j + 1) % k], eps):
                raise ValueError(
                    f"`vertices` must describe a simple polygon, but edges {i} and {j} intersect"
                )


def _in_triangle(p: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray, eps: float) -> bool:
    sides = (_cross(b - a, p - a), _cross(c - b, p - b), _cross(a - c, p - c))
    return all(s >= -eps for s in sides)


def _triangulate(v: np.ndarray, scale: float) -> np.ndarray:
    """Split a counter-clockwise simple polygon into triangles by ear clipping, ``(k-2, 3, 2)``."""
    eps = 1e-12 * scale**2
    # Vertices on a straight edge are never ears; drop them first.
    k = len(v)
    keep = [i for i in range(k) if abs(_cross(v[i] - v[i - 1], v[(i + 1) % k] - v[i])) > eps]
    idx = list(keep)
    triangles = []
    while len(idx) > 3:
        for pos in range(len(idx)):
            a, b, c = idx[pos - 1], idx[pos], idx[(pos + 1) % len(idx)]
            if _cross(v[b] - v[a], v[c] - v[b]) <= eps:
                continue  # reflex corner
            if any(_in_triangle(v[p], v[a], v[b], v[c], eps) for p in idx if p not in (a, b, c)):
                continue
            triangles.append((a, b, c))
            idx.pop(pos)
            break
        else:  # pragma: no cover - a simple polygon always has an ear
            raise ValueError("could not triangulate `vertices`; is the polygon simple?")
    triangles.append(tuple(idx))
    return v[np.asarray(triangles)]


@final
class Polygon(AbstractDomain):
    r"""A simple polygon (no self-intersections, no holes) in the plane.

    Vertices may be given clockwise or counter-clockwise and the closing vertex may be
    repeated; they are stored counter-clockwise, so the outward normal of the edge
    $e = v_{i+1} - v_i$ is $(e_y, -e_x)/|e|$. Interior samples pick a triangle of an
    ear-clipping triangulation with probability proportional to its area, then a uniform
    point in it; boundary samples are uniform in arc length. A boundary ``"grid"`` is `n`
    points equally spaced in arc length (cell-centred, so corners are avoided).

    Attributes:
        vertices: the corners, counter-clockwise, as ``((x0, y0), (x1, y1), ...)``.

    Example:
        >>> import jax.random as jr
        >>> L = Polygon([(-1, -1), (1, -1), (1, 0), (0, 0), (0, 1), (-1, 1)])
        >>> L.measure, L.boundary_measure
        (3.0, 8.0)
        >>> bool(L.contains(L.sample_interior(256, key=jr.key(0))).all())
        True
        >>> bool(L.contains([0.5, 0.5]))
        False
    """

    vertices: tuple[tuple[float, float], ...] = eqx.field(static=True)
    triangles: tuple[tuple[tuple[float, float], ...], ...] = eqx.field(static=True)
    edge_names: tuple[str, ...] = eqx.field(static=True)

    def __init__(self, vertices: Any):
        """Build a polygon.

        Args:
            vertices: the corners in order around the polygon, shape ``(k, 2)``, $k \\ge 3$.

        Raises:
            ValueError: if `vertices` is not ``(k, 2)`` finite numbers, has fewer than 3
                distinct corners, repeats a corner, encloses zero area or is not simple.
        """
        try:
            v = np.asarray(vertices, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"`vertices` of Polygon must be an array of shape (k, 2), got {vertices!r}"
            ) from err
        if v.ndim != 2 or v.shape[1] != 2:
            raise ValueError(f"`vertices` of Polygon must have shape (k, 2), got shape {v.shape}")
        if not np.all(np.isfinite(v)):
            raise ValueError("`vertices` of Polygon must be finite")
        if len(v) > 1 and np.array_equal(v[0], v[-1]):
            v = v[:-1]  # the closing vertex was repeated
        if len(v) < 3:
            raise ValueError(f"`vertices` of Polygon must hold at least 3 points, got {len(v)}")
        repeated = np.flatnonzero(np.all(v == np.roll(v, -1, axis=0), axis=1))
        if repeated.size:
            raise ValueError(
                f"`vertices` of Polygon repeats vertex {int(repeated[0])} (a zero-length edge)"
            )
        scale = max(1.0, float(np.max(np.abs(v))))
        area = 0.5 * float(np.sum(_cross(v, np.roll(v, -1, axis=0))))
        extent = np.ptp(v, axis=0)
        if abs(area) <= 1e-12 * max(float(np.prod(extent)), 1e-300) or abs(area) == 0.0:
            raise ValueError(
                "`vertices` of Polygon enclose zero area (all corners on a line?); "
                "a polygon needs a non-degenerate interior"
            )
        k = len(v)
        if area < 0:
            v = v[::-1]
            # stored edge j runs along the given edge k - 2 - j, backwards
            self.edge_names = tuple(f"edge{(k - 2 - j) % k}" for j in range(k))
        else:
            self.edge_names = tuple(f"edge{j}" for j in range(k))
        _check_simple(v, scale)
        self.vertices = tuple((float(x), float(y)) for x, y in v)
        self.triangles = tuple(
            tuple((float(x), float(y)) for x, y in tri) for tri in _triangulate(v, scale)
        )

    @property
    def dim(self) -> int:
        return 2

    def _edges(self) -> tuple[np.ndarray, np.ndarray]:
        a = np.asarray(self.vertices)
        return a, np.roll(a, -1, axis=0) - a

    def _edge_lengths(self) -> np.ndarray:
        return np.linalg.norm(self._edges()[1], axis=1)

    def _triangle_areas(self) -> np.ndarray:
        t = np.asarray(self.triangles)
        return 0.5 * np.abs(_cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]))

    @property
    def measure(self) -> float:
        a, e = self._edges()
        return 0.5 * float(np.sum(_cross(a, a + e)))

    @property
    def boundary_measure(self) -> float:
        return float(np.sum(self._edge_lengths()))

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        v = np.asarray(self.vertices)
        return v.min(axis=0), v.max(axis=0)

    def _inside(self, x: Float[Array, "*batch 2"]) -> Bool[Array, "*batch"]:
        """The even-odd rule: an odd number of edges crossed by a ray from x towards +x."""
        a_np, e_np = self._edges()
        a, e = jnp.asarray(a_np, x.dtype), jnp.asarray(e_np, x.dtype)
        p = x[..., None, :]
        px, py = p[..., 0], p[..., 1]
        ay, by = a[:, 1], a[:, 1] + e[:, 1]
        straddles = (ay > py) != (by > py)
        x_cross = a[:, 0] + (py - ay) * e[:, 0] / jnp.where(straddles, e[:, 1], 1.0)
        return jnp.sum(straddles & (px < x_cross), axis=-1) % 2 == 1

    def _segments(self) -> list[tuple[tuple[float, float], tuple[float, float]]]:
        v = self.vertices
        return [(v[i], v[(i + 1) % len(v)]) for i in range(len(v))]

    def _distance(self, x: Float[Array, "*batch 2"]) -> Float[Array, "*batch"]:
        unsigned = equivalence([segment_distance(x, a, b) for a, b in self._segments()])
        return jnp.where(self._inside(x), unsigned, -unsigned)

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(sorted(self.edge_names, key=lambda n: int(n[4:])))

    @property
    def part_groups(self) -> dict[str, tuple[str, ...]]:
        return {}

    def _part_distance(self, name: str, x: Float[Array, "*batch 2"]) -> Float[Array, "*batch"]:
        a, b = self._segments()[self.edge_names.index(name)]
        return segment_distance(x, a, b)

    def _part_measure(self, name: str) -> float | None:
        return float(self._edge_lengths()[self.edge_names.index(name)])

    def _junctions(self) -> tuple[tuple[str, str, np.ndarray], ...]:
        k = len(self.vertices)
        return tuple(
            (self.edge_names[i - 1], self.edge_names[i], np.asarray([self.vertices[i]]))
            for i in range(k)
        )

    def _contains(self, x: Float[Array, "*batch 2"], tol: float) -> Bool[Array, "*batch"]:
        a_np, e_np = self._edges()
        a, e = jnp.asarray(a_np, x.dtype), jnp.asarray(e_np, x.dtype)
        p = x[..., None, :]  # (..., 1, 2) against (k, 2) edges
        t = jnp.clip(jnp.sum((p - a) * e, -1) / jnp.sum(e * e, -1), 0.0, 1.0)
        dist = jnp.min(jnp.linalg.norm(p - a - t[..., None] * e, axis=-1), axis=-1)
        # Even-odd rule: count edges crossed by a ray from x towards +x.
        px, py = p[..., 0], p[..., 1]
        ay, by = a[:, 1], a[:, 1] + e[:, 1]
        straddles = (ay > py) != (by > py)
        x_cross = a[:, 0] + (py - ay) * e[:, 0] / jnp.where(straddles, e[:, 1], 1.0)
        inside = jnp.sum(straddles & (px < x_cross), axis=-1) % 2 == 1
        signed = jnp.where(inside, -dist, dist)
        return signed <= tol

    def _interior_proposal(self) -> Proposal:
        tri_np = np.asarray(self.triangles)
        weights = self._triangle_areas()

        def propose(u):
            tri = jnp.asarray(tri_np, u.dtype)[pick(u[:, 0], weights)]
            # Uniform in a triangle: sqrt(s) sweeps from the apex, w along the far side.
            s = jnp.sqrt(u[:, 1:2])
            w = u[:, 2:3]
            pts = (1 - s) * tri[:, 0] + s * (1 - w) * tri[:, 1] + s * w * tri[:, 2]
            return pts, jnp.ones(u.shape[0], bool)

        return Proposal(3, self.measure, propose)

    def _on_edges(self, u0: Array) -> BoundarySample:
        """Points at arc-length fraction `u0` of the perimeter, and their edge normals."""
        a_np, e_np = self._edges()
        lengths = self._edge_lengths()
        starts = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
        i = pick(u0, lengths)
        s = u0 * self.boundary_measure
        frac = (s - jnp.asarray(starts, u0.dtype)[i]) / jnp.asarray(lengths, u0.dtype)[i]
        frac = jnp.clip(frac, 0.0, 1.0)[:, None]
        a = jnp.asarray(a_np, u0.dtype)[i]
        e = jnp.asarray(e_np, u0.dtype)[i]
        normal = jnp.asarray(np.stack([e_np[:, 1], -e_np[:, 0]], 1) / lengths[:, None], u0.dtype)
        return BoundarySample(a + frac * e, normal[i])

    def _boundary_proposal(self) -> Proposal:
        def propose(u):
            return self._on_edges(u[:, 0]), jnp.ones(u.shape[0], bool)

        return Proposal(1, self.boundary_measure, propose)

    def _interior_grid(self, n: int) -> Array:
        return bounding_box_grid(self, n)

    def _boundary_grid(self, n: int) -> BoundarySample:
        return candidates(self, "boundary", to_jax(cell_centres(n)[:, None]))[0]
