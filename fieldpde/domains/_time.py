r"""Time intervals and space-time cylinders $\Omega \times [t_0, t_1]$."""

from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from .._checks import positive_int
from ._base import (
    AbstractDomain,
    BoundarySample,
    Proposal,
    SampleMethod,
    as_number,
    host_bounds,
    sample_proposal,
    to_jax,
)
from ._box import Box
from ._distance import half_space, r_and_all
from ._sampling import cell_centres, check_method, pick, select


@final
class TimeInterval(AbstractDomain):
    r"""The time span $[t_0, t_1]$, a 1-D domain meant to be multiplied with a space domain.

    ``space * TimeInterval(t0, t1)`` is ``SpaceTime(space, TimeInterval(t0, t1))``.

    Attributes:
        t0: the initial time.
        t1: the final time, ``t1 > t0``.

    Example:
        >>> T = TimeInterval(0.0, 2.0)
        >>> T.measure, T.boundary_measure, T.dim
        (2.0, 2.0, 1)
    """

    t0: float = eqx.field(static=True)
    t1: float = eqx.field(static=True)

    def __init__(self, t0: float, t1: float):
        """Build a time interval.

        Raises:
            ValueError: if a time is not a finite number or ``t1 <= t0``.
        """
        self.t0 = as_number("t0", t0, "TimeInterval")
        self.t1 = as_number("t1", t1, "TimeInterval")
        if not self.t0 < self.t1:
            raise ValueError(
                f"`t1` must be > `t0` for a TimeInterval (empty or reversed span), "
                f"got t0={self.t0}, t1={self.t1}"
            )

    @property
    def _box(self) -> Box:
        return Box([self.t0], [self.t1])

    @property
    def duration(self) -> float:
        """$t_1 - t_0$."""
        return self.t1 - self.t0

    @property
    def dim(self) -> int:
        return 1

    @property
    def measure(self) -> float:
        return self.duration

    @property
    def boundary_measure(self) -> float:
        return 2.0

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array([self.t0]), np.array([self.t1])

    def _contains(self, x: Float[Array, "*batch 1"], tol: float) -> Bool[Array, "*batch"]:
        return self._box._contains(x, tol)

    def _interior_proposal(self) -> Proposal:
        return self._box._interior_proposal()

    def _boundary_proposal(self) -> Proposal:
        return self._box._boundary_proposal()

    def _interior_grid(self, n: int) -> Array:
        return self._box._interior_grid(n)

    def _boundary_grid(self, n: int) -> BoundarySample:
        return self._box._boundary_grid(n)

    def _distance(self, x: Float[Array, "*batch 1"]) -> Float[Array, "*batch"]:
        return self._box._distance(x)

    @property
    def parts(self) -> tuple[str, ...]:
        return ("start", "end")

    @property
    def part_groups(self) -> dict[str, tuple[str, ...]]:
        return {}

    def _part_distance(self, name: str, x: Float[Array, "*batch 1"]) -> Float[Array, "*batch"]:
        if name == "start":
            return half_space(x, 0, self.t0, 1.0)
        return half_space(x, 0, self.t1, -1.0)

    def _part_measure(self, name: str) -> float | None:
        return 1.0

    def _junctions(self) -> tuple[tuple[str, str, np.ndarray], ...]:
        return ()


def _with_time(x: Array, t: Any) -> Array:
    """Append the time coordinate `t` (a scalar or one value per point) to points `x`."""
    return jnp.concatenate([x, jnp.broadcast_to(t, x.shape[:-1]).astype(x.dtype)[..., None]], -1)


_append_time = jax.jit(_with_time)


def _grid_with_time(x: Any, times: Any) -> np.ndarray:
    """Host-side product of points `x` with time levels (a sequence), time varying slowest."""
    pts = np.asarray(x)
    return np.concatenate([np.column_stack([pts, np.full(len(pts), t)]) for t in times])


@final
class SpaceTime(AbstractDomain):
    r"""The cylinder $\Omega \times [t_0, t_1]$; points are ``(x_1, ..., x_d, t)``, time last.

    Its boundary has three parts: the initial slice $\Omega \times \{t_0\}$ (outward normal
    $-e_t$), the final slice $\Omega \times \{t_1\}$ ($+e_t$) and the lateral surface
    $\partial\Omega \times [t_0, t_1]$ (normal $(n_\Omega, 0)$). `sample_boundary` draws from
    all of it; an initial-value problem wants `sample_initial` and `sample_lateral`, with
    `initial_measure` and `lateral_measure` to scale their means.

    Attributes:
        space: the spatial domain $\Omega$.
        time: the `TimeInterval`.

    Example:
        >>> import jax.random as jr
        >>> cyl = Box([0.0, 0.0], [1.0, 1.0]) * TimeInterval(0.0, 2.0)
        >>> cyl.dim, cyl.measure, cyl.lateral_measure
        (3, 2.0, 8.0)
        >>> x0 = cyl.sample_initial(16, key=jr.key(0))
        >>> x0.shape, bool((x0[:, -1] == 0.0).all())
        ((16, 3), True)
    """

    space: AbstractDomain
    time: TimeInterval

    def __init__(self, space: AbstractDomain, time: TimeInterval):
        """Build a space-time cylinder.

        Raises:
            TypeError: if `space` is not a domain or `time` is not a `TimeInterval`.
        """
        if not isinstance(space, AbstractDomain):
            raise TypeError(f"`space` must be a domain, got {type(space).__name__}")
        if not isinstance(time, TimeInterval):
            raise TypeError(f"`time` must be a TimeInterval, got {type(time).__name__}")
        self.space = space
        self.time = time

    @property
    def dim(self) -> int:
        return self.space.dim + 1

    @property
    def measure(self) -> float:
        return self.space.measure * self.time.duration

    @property
    def initial_measure(self) -> float:
        """$|\\Omega|$, the measure of the initial slice."""
        return self.space.measure

    @property
    def lateral_measure(self) -> float:
        """$|\\partial\\Omega| (t_1 - t_0)$, the measure of the lateral surface."""
        return self.space.boundary_measure * self.time.duration

    @property
    def boundary_measure(self) -> float:
        return 2.0 * self.initial_measure + self.lateral_measure

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = host_bounds(self.space)
        return np.append(lo, self.time.t0), np.append(hi, self.time.t1)

    def _contains(self, x: Float[Array, "*batch d"], tol: float) -> Bool[Array, "*batch"]:
        return self.space.contains(x[..., :-1], tol=tol) & self.time.contains(x[..., -1:], tol=tol)

    def _interior_proposal(self) -> Proposal:
        space = self.space._interior_proposal()

        def propose(u):
            pts, ok = space.propose(u[:, :-1])
            return _with_time(pts, self.time.t0 + self.time.duration * u[:, -1]), ok

        duration = self.time.duration
        return Proposal(space.unit_dim + 1, space.measure * duration, propose, space.rejects)

    def _lateral_proposal(self) -> Proposal:
        space = self.space._boundary_proposal()

        def propose(u):
            (pts, normals), ok = space.propose(u[:, :-1])
            t = self.time.t0 + self.time.duration * u[:, -1]
            return BoundarySample(_with_time(pts, t), _with_time(normals, 0.0)), ok

        duration = self.time.duration
        return Proposal(space.unit_dim + 1, space.measure * duration, propose, space.rejects)

    def _boundary_proposal(self) -> Proposal:
        space = self.space._interior_proposal()
        lateral = self._lateral_proposal()
        weights = [space.measure, space.measure, lateral.measure]

        def propose(u):
            part = pick(u[:, 0], weights)
            options = []
            for t, sign in ((self.time.t0, -1.0), (self.time.t1, 1.0)):
                pts, ok = space.propose(u[:, 1 : 1 + space.unit_dim])
                normals = _with_time(jnp.zeros_like(pts), sign)
                options.append((BoundarySample(_with_time(pts, t), normals), ok))
            options.append(lateral.propose(u[:, 1 : 1 + lateral.unit_dim]))
            return select(part, options)

        unit_dim = 1 + max(space.unit_dim, lateral.unit_dim)
        return Proposal(unit_dim, sum(weights), propose, space.rejects or lateral.rejects)

    def _time_counts(self, n: int, measure: float, dim: int) -> int:
        """Time levels of a grid of about `n` points with equal spacing in space and time."""
        h = (measure / n) ** (1.0 / dim)
        return max(1, round(self.time.duration / h))

    def _interior_grid(self, n: int) -> Array:
        nt = self._time_counts(n, self.measure, self.dim)
        xs = self.space._interior_grid(max(1, round(n / nt)))
        ts = self.time.t0 + self.time.duration * cell_centres(nt)
        return to_jax(_grid_with_time(xs, ts))

    def _lateral_grid(self, n: int) -> BoundarySample:
        nt = self._time_counts(n, self.lateral_measure, self.space.dim)
        pts, normals = self.space._boundary_grid(max(1, round(n / nt)))
        ts = self.time.t0 + self.time.duration * cell_centres(nt)
        return BoundarySample(
            to_jax(_grid_with_time(pts, ts)), to_jax(_grid_with_time(normals, [0.0] * nt))
        )

    def _boundary_grid(self, n: int) -> BoundarySample:
        share = max(1, round(n * self.initial_measure / self.boundary_measure))
        xs = self.space._interior_grid(share)
        slices = [
            BoundarySample(
                to_jax(_grid_with_time(xs, [t])), to_jax(_grid_with_time(np.zeros(xs.shape), [s]))
            )
            for t, s in ((self.time.t0, -1.0), (self.time.t1, 1.0))
        ]
        lateral = self._lateral_grid(max(1, n - 2 * share))
        parts = slices + [lateral]
        return BoundarySample(
            to_jax(np.concatenate([np.asarray(p.points) for p in parts])),
            to_jax(np.concatenate([np.asarray(p.normals) for p in parts])),
        )

    def _distance(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch"]:
        t = x[..., -1:]
        return r_and_all([self.space._distance(x[..., :-1]), self.time._distance(t)])

    @property
    def parts(self) -> tuple[str, ...]:
        return ("initial", "final") + self.space.parts

    @property
    def part_groups(self) -> dict[str, tuple[str, ...]]:
        groups = {"lateral": self.space.parts}
        for name, members in self.space.part_groups.items():
            groups.setdefault(name, members)
        return groups

    def _part_distance(self, name: str, x: Float[Array, "*batch d"]) -> Float[Array, "*batch"]:
        if name == "initial":
            return half_space(x, self.dim - 1, self.time.t0, 1.0)
        if name == "final":
            return half_space(x, self.dim - 1, self.time.t1, -1.0)
        return self.space._part_distance(name, x[..., :-1])

    def _part_measure(self, name: str) -> float | None:
        if name in ("initial", "final"):
            return self.space.measure
        space = self.space._part_measure(name)
        return None if space is None else space * self.time.duration

    def _junctions(self) -> tuple[tuple[str, str, np.ndarray], ...]:
        out = []
        # the slices meet every lateral part along the space boundary
        pts, _ = self.space._boundary_grid(64)
        pts = np.asarray(pts)
        labels = np.asarray(self.space.part_index(to_jax(pts))) if len(pts) else []
        for slice_name, t in (("initial", self.time.t0), ("final", self.time.t1)):
            for i, part in enumerate(self.space.parts):
                on = pts[np.asarray(labels) == i]
                if len(on):
                    out.append((slice_name, part, _grid_with_time(on, [t])))
        levels = self.time.t0 + self.time.duration * cell_centres(5)
        for a, b, corner in self.space._junctions():
            out.append((a, b, _grid_with_time(corner, levels)))
        return tuple(out)

    def sample_initial(
        self, n: int, *, key: PRNGKeyArray, method: SampleMethod = "uniform"
    ) -> Float[Array, "n d"]:
        """Points of the initial slice $\\Omega \\times \\{t_0\\}$, shape ``(n, d)``.

        The last coordinate is $t_0$. Arguments are those of `sample_interior` of the space
        domain.
        """
        xs = self.space.sample_interior(n, key=key, method=method)
        return _append_time(xs, jnp.asarray(self.time.t0, xs.dtype))

    def sample_lateral(
        self, n: int, *, key: PRNGKeyArray, method: SampleMethod = "uniform"
    ) -> BoundarySample:
        """Points of $\\partial\\Omega \\times [t_0, t_1]$, uniform w.r.t. its measure.

        Normals are the space normals with a zero time component. Arguments are those of
        `sample_boundary`; a ``"grid"`` is a boundary grid of the space domain repeated at
        cell-centred time levels, with about equal spacing in space and time.
        """
        n = positive_int("n", n)
        method = check_method(method)
        if method == "grid":
            return self._lateral_grid(n)
        points, normals = sample_proposal(self, "lateral", n, key=key, method=method)
        return BoundarySample(points, normals)
