r"""Reentrant corners: where two boundary parts meet at an interior angle above $\pi$.

At such a corner the solution of an elliptic problem behaves like $r^{\pi/\alpha}$ (the
L-shape's $r^{2/3}$), while a distance function vanishes like $r$, so the free network of a
hard field $u = g + \phi N$ has to be singular there ($N \sim r^{\pi/\alpha - 1}$). The
hard field built by `fieldpde.constraints.HardDirichlet.on` therefore multiplies its
distance by $r^{\pi/\alpha - 1}$ at each such corner of a 2-D domain
(`fieldpde.constraints.SingularCorners`), with $\alpha$ from `interior_angles`.

A junction point is reentrant when more than half of a small sphere around it lies in the
domain: a quarter for a box's corner, three quarters for the L-shape's inner corner.
"""

import jax.numpy as jnp
import numpy as np

from ._base import AbstractDomain


def _directions(d: int, n: int) -> np.ndarray:
    if d == 2:
        angles = 2 * np.pi * (np.arange(n) + 0.5) / n
        return np.column_stack([np.cos(angles), np.sin(angles)])
    dirs = np.random.default_rng(0).normal(size=(n, d))
    return dirs / np.linalg.norm(dirs, axis=1, keepdims=True)


def reentrant_corners(domain: AbstractDomain, *, threshold: float = 0.55) -> np.ndarray:
    """The junctions of `domain`'s boundary parts that are reentrant corners.

    Args:
        domain: any domain.
        threshold: a junction counts when more than this share of a small sphere around it
            (radius 1e-3 of the bounding box's diagonal) lies inside.

    Returns:
        The corner points, shape ``(k, d)`` (``k = 0`` for a convex or smooth domain).

    Example:
        >>> from fieldpde.domains import Box, Polygon
        >>> L = Polygon([(-1, -1), (1, -1), (1, 0), (0, 0), (0, 1), (-1, 1)])
        >>> reentrant_corners(L).tolist(), reentrant_corners(Box([0, 0], [1, 1])).shape
        ([[0.0, 0.0]], (0, 2))
    """
    lo, hi = (np.asarray(a, np.float64) for a in domain.bounding_box())
    radius = 1e-3 * float(np.linalg.norm(hi - lo))
    dirs = _directions(lo.size, 256)
    found = []
    for _, _, pts in domain._junctions():
        for p in np.asarray(pts, np.float64).reshape(-1, lo.size):
            inside = np.asarray(domain.contains(jnp.asarray(p + radius * dirs), tol=0.0))
            if float(np.mean(inside)) > threshold:
                found.append(p)
    return np.asarray(found, np.float64).reshape(-1, lo.size)


def interior_angles(domain: AbstractDomain, points: np.ndarray) -> np.ndarray:
    r"""The interior angle $\alpha$ of a 2-D domain at each of `points` (its corners).

    The share of a small circle around the point (radius 1e-3 of the bounding box's
    diagonal, 256 directions) that lies in the domain, times $2\pi$.

    Args:
        domain: a 2-D domain.
        points: ``(k, 2)`` points on its boundary, e.g. `reentrant_corners`.

    Returns:
        The angles in radians, shape ``(k,)``.

    Example:
        >>> from fieldpde.domains import Polygon
        >>> L = Polygon([(-1, -1), (1, -1), (1, 0), (0, 0), (0, 1), (-1, 1)])
        >>> (interior_angles(L, reentrant_corners(L)) / np.pi).round(3).tolist()
        [1.5]
    """
    points = np.asarray(points, np.float64).reshape(-1, domain.dim)
    if domain.dim != 2:
        raise ValueError(f"interior angles are defined for 2-D domains, got {domain.dim}-D")
    lo, hi = (np.asarray(a, np.float64) for a in domain.bounding_box())
    radius = 1e-3 * float(np.linalg.norm(hi - lo))
    dirs = _directions(2, 256)
    share = [
        float(np.mean(np.asarray(domain.contains(jnp.asarray(p + radius * dirs), tol=0.0))))
        for p in points
    ]
    return 2 * np.pi * np.asarray(share, np.float64)
