r"""Balls $\{x : |x - c| \le r\}$ in any dimension, and disks."""

import math
from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtri
from jaxtyping import Array, Bool, Float

from .._checks import positive_float
from ._base import (
    AbstractDomain,
    BoundarySample,
    Proposal,
    as_coordinates,
    bounding_box_grid,
    candidates,
    to_jax,
)
from ._distance import ball_distance
from ._sampling import cell_centres


def _direction_unit_dim(d: int) -> int:
    """Unit-cube coordinates used to draw a direction on the sphere $S^{d-1}$."""
    return {1: 1, 2: 1, 3: 2}.get(d, d)


def _directions(v: Array, d: int) -> Array:
    """Map ``v`` in $[0, 1)^k$ to unit vectors, uniformly distributed on $S^{d-1}$.

    1-D: a sign; 2-D: an angle; 3-D: Archimedes' equal-area map (height and angle);
    higher: normalised Gaussians from the inverse normal CDF.
    """
    if d == 1:
        return jnp.where(v[:, :1] < 0.5, -1.0, 1.0).astype(v.dtype)
    if d == 2:
        theta = 2 * jnp.pi * v[:, 0]
        return jnp.stack([jnp.cos(theta), jnp.sin(theta)], axis=-1)
    if d == 3:
        z = 1.0 - 2.0 * v[:, 0]
        phi = 2 * jnp.pi * v[:, 1]
        s = jnp.sqrt(jnp.clip(1.0 - z * z, 0.0))
        return jnp.stack([s * jnp.cos(phi), s * jnp.sin(phi), z], axis=-1)
    g = ndtri(jnp.clip(v, jnp.finfo(v.dtype).tiny, None))
    return g / jnp.linalg.norm(g, axis=-1, keepdims=True)


def unit_ball_volume(d: int) -> float:
    """$\\pi^{d/2} / \\Gamma(d/2 + 1)$, the volume of the unit ball in $\\mathbb{R}^d$."""
    return math.pi ** (d / 2) / math.gamma(d / 2 + 1)


@final
class Ball(AbstractDomain):
    r"""The closed ball $\{x \in \mathbb{R}^d : |x - c| \le r\}$, $d \ge 1$.

    Volume $\pi^{d/2} r^d / \Gamma(d/2+1)$, surface $d$ times that over $r$. Interior
    points use radius $r u^{1/d}$ times a uniform direction; directions come from an angle
    (2-D), Archimedes' equal-area map (3-D) or normalised Gaussians (higher $d$), so
    quasi-random input stays evenly spread. A boundary ``"grid"`` is $n$ equally spaced
    angles in 2-D and an equal-area grid in (height, angle) in 3-D; it is not available for
    $d \ge 4$.

    Attributes:
        center: the centre $c$, one float per axis.
        radius: $r > 0$.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> ball = Ball([0.0, 0.0, 0.0], 2.0)
        >>> round(ball.measure, 6) == round(4 / 3 * 3.141592653589793 * 8, 6)
        True
        >>> pts, normals = ball.sample_boundary(64, key=jr.key(0))
        >>> bool(jnp.allclose(jnp.linalg.norm(pts, axis=-1), 2.0))
        True
    """

    center: tuple[float, ...] = eqx.field(static=True)
    radius: float = eqx.field(static=True)

    def __init__(self, center: Any, radius: float):
        """Build a ball.

        Args:
            center: the centre, shape ``(d,)``.
            radius: the radius, a finite number > 0.

        Raises:
            ValueError: if `center` is not a finite 1-D coordinate array, or `radius` <= 0.
        """
        self.center = tuple(float(c) for c in as_coordinates("center", center, "Ball"))
        self.radius = positive_float("radius", radius)

    @property
    def dim(self) -> int:
        return len(self.center)

    @property
    def measure(self) -> float:
        return unit_ball_volume(self.dim) * self.radius**self.dim

    @property
    def boundary_measure(self) -> float:
        return self.dim * unit_ball_volume(self.dim) * self.radius ** (self.dim - 1)

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        c = np.asarray(self.center)
        return c - self.radius, c + self.radius

    def _contains(self, x: Float[Array, "*batch d"], tol: float) -> Bool[Array, "*batch"]:
        r = jnp.linalg.norm(x - jnp.asarray(self.center, x.dtype), axis=-1)
        return r <= self.radius + tol

    def _interior_proposal(self) -> Proposal:
        d = self.dim

        def propose(u):
            radius = self.radius * u[:, :1] ** (1.0 / d)
            pts = jnp.asarray(self.center, u.dtype) + radius * _directions(u[:, 1:], d)
            return pts, jnp.ones(u.shape[0], bool)

        return Proposal(1 + _direction_unit_dim(d), self.measure, propose)

    def _on_sphere(self, normals: Array) -> BoundarySample:
        center = jnp.asarray(self.center, normals.dtype)
        return BoundarySample(center + self.radius * normals, normals)

    def _boundary_proposal(self) -> Proposal:
        def propose(u):
            return self._on_sphere(_directions(u, self.dim)), jnp.ones(u.shape[0], bool)

        return Proposal(_direction_unit_dim(self.dim), self.boundary_measure, propose)

    def _interior_grid(self, n: int) -> Array:
        return bounding_box_grid(self, n)

    def _distance(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch"]:
        return ball_distance(x, self.center, self.radius)

    @property
    def parts(self) -> tuple[str, ...]:
        return ("sphere",)

    @property
    def part_groups(self) -> dict[str, tuple[str, ...]]:
        return {}

    def _part_distance(self, name: str, x: Float[Array, "*batch d"]) -> Float[Array, "*batch"]:
        return self._distance(x)

    def _part_measure(self, name: str) -> float | None:
        return self.boundary_measure

    def _junctions(self) -> tuple[tuple[str, str, np.ndarray], ...]:
        return ()

    def _boundary_grid(self, n: int) -> BoundarySample:
        d = self.dim
        if d == 1:
            v = np.array([[0.25], [0.75]])
        elif d == 2:
            v = cell_centres(n)[:, None]
        elif d == 3:
            # Cells of equal area: equal steps in height z and angle, about square at the equator.
            nz = max(1, round(math.sqrt(n / math.pi)))
            nphi = max(1, round(n / nz))
            zz, pp = np.meshgrid(cell_centres(nz), cell_centres(nphi), indexing="ij")
            v = np.stack([zz.ravel(), pp.ravel()], axis=-1)
        else:
            raise ValueError(
                f"`method`='grid' is not available on the boundary of a {d}-dimensional Ball; "
                "use 'uniform', 'sobol' or 'halton'"
            )
        return candidates(self, "boundary", to_jax(v))[0]


def Disk(center: Any, radius: float) -> Ball:
    """The closed disk of the given `center` (2 coordinates) and `radius`, a 2-D `Ball`.

    Args:
        center: the centre, 2 coordinates.
        radius: the radius, a positive number.

    Returns:
        A 2-D `Ball`.

    Example:
        >>> disk = Disk((0.0, 0.0), 1.0)
        >>> round(disk.measure, 10), round(disk.boundary_measure, 10)
        (3.1415926536, 6.2831853072)
    """
    arr = as_coordinates("center", center, "Disk")
    if arr.size != 2:
        raise ValueError(
            f"`center` of a Disk must have 2 coordinates, got {arr.size}; "
            "use Ball for other dimensions"
        )
    return Ball(arr, radius)
