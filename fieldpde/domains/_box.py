r"""Axis-aligned boxes $[a_1, b_1] \times \dots \times [a_d, b_d]$, intervals and rectangles."""

import math
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from ._base import (
    AbstractDomain,
    BoundarySample,
    Proposal,
    as_coordinates,
    as_number,
    to_jax,
)
from ._distance import box_distance, half_space
from ._sampling import cell_grid, grid_counts, pick


def face_names(d: int) -> tuple[str, ...]:
    """``xmin, xmax, ymin, ymax, zmin, zmax`` (then ``x3min``, ...): a box's faces."""
    axes = ["x", "y", "z"] if d <= 3 else [f"x{i}" for i in range(d)]
    return tuple(f"{a}{side}" for a in axes[:d] for side in ("min", "max"))


@final
class Box(AbstractDomain):
    r"""The box $\prod_i [\mathrm{lo}_i, \mathrm{hi}_i]$ in any dimension $d \ge 1$.

    Boundary sampling picks a face with probability proportional to its $(d-1)$-volume, then
    a uniform point on it; the normal is $\pm e_i$. A ``"grid"`` is cell-centred with
    $\max(1, \operatorname{round}(L_i / h))$ points on axis $i$, $h = (|\Omega|/n)^{1/d}$;
    a boundary grid puts such a grid (with $h = (|\partial\Omega|/n)^{1/(d-1)}$) on every
    face, and in 1-D is the two end points.

    Attributes:
        lo: lower corner, one float per axis.
        hi: upper corner, with ``hi[i] > lo[i]``.

    Example:
        >>> import jax.random as jr
        >>> box = Box([0.0, 0.0, 0.0], [2.0, 1.0, 1.0])
        >>> box.dim, box.measure, box.boundary_measure
        (3, 2.0, 10.0)
        >>> box.sample_interior(100, key=jr.key(0), method="sobol").shape
        (100, 3)
        >>> Box([0.0, 0.0], [2.0, 1.0]).sample_interior(8, key=jr.key(0), method="grid").shape
        (8, 2)
    """

    lo: tuple[float, ...] = eqx.field(static=True)
    hi: tuple[float, ...] = eqx.field(static=True)

    def __init__(self, lo: Any, hi: Any):
        """Build a box.

        Args:
            lo: lower corner, shape ``(d,)``.
            hi: upper corner, shape ``(d,)``.

        Raises:
            ValueError: if the corners are not finite 1-D coordinates of the same length,
                or ``lo[i] >= hi[i]`` on some axis.
        """
        lo_ = as_coordinates("lo", lo, "Box")
        hi_ = as_coordinates("hi", hi, "Box")
        if lo_.shape != hi_.shape:
            raise ValueError(
                f"`lo` and `hi` of Box must have the same number of coordinates, "
                f"got {lo_.size} and {hi_.size}"
            )
        bad = np.flatnonzero(lo_ >= hi_)
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"`hi` must be > `lo` in every dimension of a Box, got lo[{i}]={lo_[i]} >= "
                f"hi[{i}]={hi_[i]}; swap them or give the box some width"
            )
        self.lo = tuple(float(a) for a in lo_)
        self.hi = tuple(float(b) for b in hi_)

    @property
    def dim(self) -> int:
        return len(self.lo)

    @property
    def lengths(self) -> tuple[float, ...]:
        """Side lengths $L_i = \\mathrm{hi}_i - \\mathrm{lo}_i$."""
        return tuple(b - a for a, b in zip(self.lo, self.hi, strict=True))

    @property
    def measure(self) -> float:
        return math.prod(self.lengths)

    def _face_areas(self) -> list[float]:
        """$(d-1)$-volume of the faces normal to each axis (one per axis, two faces each)."""
        lengths = self.lengths
        return [math.prod(lengths[:i] + lengths[i + 1 :]) for i in range(self.dim)]

    @property
    def boundary_measure(self) -> float:
        return 2.0 * sum(self._face_areas())

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.lo), np.asarray(self.hi)

    def _contains(self, x: Float[Array, "*batch d"], tol: float) -> Bool[Array, "*batch"]:
        lo = jnp.asarray(self.lo, x.dtype)
        hi = jnp.asarray(self.hi, x.dtype)
        return jnp.all((x >= lo - tol) & (x <= hi + tol), axis=-1)

    def _interior_proposal(self) -> Proposal:
        def propose(u):
            lo = jnp.asarray(self.lo, u.dtype)
            pts = lo + jnp.asarray(self.lengths, u.dtype) * u
            return pts, jnp.ones(u.shape[0], bool)

        return Proposal(self.dim, self.measure, propose)

    def _boundary_proposal(self) -> Proposal:
        d = self.dim
        # Faces in the order (axis 0, lo), (axis 0, hi), (axis 1, lo), ...
        weights = [a for a in self._face_areas() for _ in range(2)]

        def propose(u):
            face = pick(u[:, 0], weights)
            axis, upper = face // 2, face % 2 == 1
            cols = []
            for j in range(d):
                on_face = jnp.where(upper, self.hi[j], self.lo[j]).astype(u.dtype)
                if d == 1:
                    cols.append(on_face)
                    continue
                # The d - 1 free coordinates fill the axes other than `axis`, in order.
                src = jnp.clip(j - (axis < j), 0, d - 2)
                t = jnp.take_along_axis(u[:, 1:], src[:, None], axis=1)[:, 0]
                cols.append(jnp.where(axis == j, on_face, self.lo[j] + self.lengths[j] * t))
            pts = jnp.stack(cols, axis=-1)
            sign = jnp.where(upper, 1.0, -1.0).astype(u.dtype)
            normals = jax.nn.one_hot(axis, d, dtype=u.dtype) * sign[:, None]
            return BoundarySample(pts, normals), jnp.ones(u.shape[0], bool)

        return Proposal(d, self.boundary_measure, propose)

    def _interior_grid(self, n: int) -> Array:
        return to_jax(cell_grid(self.lo, self.hi, grid_counts(self.lengths, n)))

    def _distance(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch"]:
        return box_distance(x, self.lo, self.hi)

    @property
    def parts(self) -> tuple[str, ...]:
        return face_names(self.dim)

    @property
    def part_groups(self) -> dict[str, tuple[str, ...]]:
        return {}

    def _face(self, name: str) -> tuple[int, bool]:
        index = self.parts.index(name)
        return index // 2, index % 2 == 1

    def _part_distance(self, name: str, x: Float[Array, "*batch d"]) -> Float[Array, "*batch"]:
        axis, upper = self._face(name)
        if upper:
            return half_space(x, axis, self.hi[axis], -1.0)
        return half_space(x, axis, self.lo[axis], 1.0)

    def _part_measure(self, name: str) -> float | None:
        return self._face_areas()[self._face(name)[0]] if self.dim > 1 else 1.0

    def _junctions(self) -> tuple[tuple[str, str, np.ndarray], ...]:
        d, out = self.dim, []
        names = self.parts
        for i in range(d):
            for j in range(i + 1, d):
                others = [k for k in range(d) if k != i and k != j]
                # points along the (d-2)-face where a face normal to i meets one normal to j
                if others:
                    grid = cell_grid(
                        [self.lo[k] for k in others],
                        [self.hi[k] for k in others],
                        [5] * len(others),
                    )
                else:
                    grid = np.zeros((1, 0))
                for si, vi in enumerate((self.lo[i], self.hi[i])):
                    for sj, vj in enumerate((self.lo[j], self.hi[j])):
                        pts = np.zeros((len(grid), d))
                        pts[:, others] = grid
                        pts[:, i], pts[:, j] = vi, vj
                        out.append((names[2 * i + si], names[2 * j + sj], pts))
        return tuple(out)

    def _boundary_grid(self, n: int) -> BoundarySample:
        d = self.dim
        if d == 1:
            return BoundarySample(to_jax([[self.lo[0]], [self.hi[0]]]), to_jax([[-1.0], [1.0]]))
        h = (self.boundary_measure / n) ** (1.0 / (d - 1))
        points, normals = [], []
        for axis in range(d):
            others = [j for j in range(d) if j != axis]
            counts = [max(1, round(self.lengths[j] / h)) for j in others]
            face = cell_grid([self.lo[j] for j in others], [self.hi[j] for j in others], counts)
            for value, sign in ((self.lo[axis], -1.0), (self.hi[axis], 1.0)):
                points.append(np.insert(face, axis, value, axis=1))
                nrm = np.zeros((face.shape[0], d))
                nrm[:, axis] = sign
                normals.append(nrm)
        return BoundarySample(to_jax(np.concatenate(points)), to_jax(np.concatenate(normals)))


def Interval(lo: float, hi: float) -> Box:
    """The interval $[\\mathrm{lo}, \\mathrm{hi}]$, as a 1-D `Box`.

    Its boundary is the two end points (normals $-1$ and $+1$), with boundary measure 2.

    Args:
        lo: the left end.
        hi: the right end, ``hi > lo``.

    Returns:
        A 1-D `Box`.

    Raises:
        ValueError: if an end is not a finite number, or ``hi <= lo`` (an empty or
            reversed interval).

    Example:
        >>> import jax.random as jr
        >>> iv = Interval(-1.0, 3.0)
        >>> iv.measure, iv.sample_interior(5, key=jr.key(0)).shape
        (4.0, (5, 1))
    """
    a = as_number("lo", lo, "Interval")
    b = as_number("hi", hi, "Interval")
    if not a < b:
        raise ValueError(
            f"`hi` must be > `lo` for an Interval (empty or reversed interval), got lo={a}, hi={b}"
        )
    return Box([a], [b])


def Rectangle(lo: Any, hi: Any) -> Box:
    """The rectangle $[x_0, x_1] \\times [y_0, y_1]$ with ``lo=(x0, y0)``, ``hi=(x1, y1)``.

    A 2-D `Box`; use `Box` directly in other dimensions.

    Args:
        lo: the lower-left corner ``(x0, y0)``.
        hi: the upper-right corner ``(x1, y1)``.

    Returns:
        A 2-D `Box`.

    Example:
        >>> Rectangle((0.0, 0.0), (2.0, 3.0)).boundary_measure
        10.0
    """
    for name, corner in (("lo", lo), ("hi", hi)):
        arr = as_coordinates(name, corner, "Rectangle")
        if arr.size != 2:
            raise ValueError(
                f"`{name}` of a Rectangle must have 2 coordinates, got {arr.size}; "
                "use Box for other dimensions"
            )
    return Box(lo, hi)
