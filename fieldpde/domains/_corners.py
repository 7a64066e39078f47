r"""Reentrant corners: where two boundary parts meet at an interior angle above $\pi$.

At such a corner the solution of an elliptic problem behaves like $r^{\pi/\alpha}$ (the
L-shape's $r^{2/3}$), while a distance function vanishes like $r$, so the free network of a
hard field $u = g + \phi N$ has to be singular there ($N \sim r^{\pi/\alpha - 1}$). The
default recipe keeps Dirichlet data soft on such domains (see `fieldpde.app.choose`).

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
