r"""`GridSolution`: node values of a reference solution on a tensor grid, with interpolation."""

from collections.abc import Sequence
from typing import Literal, TypeAlias, final

import equinox as eqx
import numpy as np
from jaxtyping import ArrayLike, Bool, Float
from scipy.interpolate import NdBSpline, make_interp_spline

Method: TypeAlias = Literal["linear", "cubic", "quintic"]
_DEGREE = {"linear": 1, "cubic": 3, "quintic": 5}


@final
class GridSolution(eqx.Module):
    r"""Values $u_{j_1 \dots j_d}$ of a solution at the nodes of a tensor grid.

    ``u[j1, j2]`` is the value at ``(coords[0][j1], coords[1][j2])`` (``indexing="ij"``):
    axis $i$ of ``u`` runs along coordinate $i$. Boundary nodes hold the Dirichlet data.
    Nodes outside a masked domain hold the Dirichlet data evaluated there (an extension
    that keeps interpolation near the boundary well defined); ``mask`` tells them apart.

    The solution is also a field: ``sol(points)`` interpolates it at points of shape
    ``(..., d)`` (see `GridSolution.interpolate`), so it can stand in for an exact solution
    when a neural field is compared at scattered points.

    Attributes:
        coords: one strictly increasing 1-D array of node coordinates per axis.
        u: node values, shape ``tuple(c.size for c in coords)``.
        mask: ``True`` at nodes of the closed domain (everywhere for a box).
        interior: ``True`` at nodes where the PDE was solved; the rest of ``mask`` holds
            Dirichlet data.

    Example:
        >>> import numpy as np
        >>> x, y = np.linspace(0, 1, 5), np.linspace(0, 2, 9)
        >>> sol = GridSolution((x, y), np.add.outer(x, 2 * y))
        >>> sol.u.shape, sol.spacing
        ((5, 9), (0.25, 0.25))
        >>> float(sol(np.array([0.3, 0.7])))  # u = x + 2y is interpolated exactly
        1.7
    """

    coords: tuple[np.ndarray, ...]
    u: np.ndarray
    mask: np.ndarray
    interior: np.ndarray

    def __init__(
        self,
        coords: Sequence[Float[ArrayLike, " _"]],
        u: Float[ArrayLike, "..."],
        *,
        mask: Bool[ArrayLike, "..."] | None = None,
        interior: Bool[ArrayLike, "..."] | None = None,
    ):
        if isinstance(coords, np.ndarray) or not isinstance(coords, Sequence) or not coords:
            raise ValueError(
                "`coords` must be a non-empty sequence of 1-D coordinate arrays, one per axis, "
                f"got {type(coords).__name__}"
            )
        self.coords = tuple(np.asarray(c, dtype=np.float64) for c in coords)
        for i, c in enumerate(self.coords):
            if c.ndim != 1 or c.size < 2 or not np.all(np.diff(c) > 0):
                raise ValueError(
                    f"`coords[{i}]` must be a strictly increasing 1-D array of at least 2 "
                    f"points, got shape {c.shape}"
                )
        shape = tuple(c.size for c in self.coords)
        self.u = np.asarray(u, dtype=np.float64)
        if self.u.shape != shape:
            raise ValueError(f"`u` must have shape {shape} to match `coords`, got {self.u.shape}")
        self.mask = self._flags("mask", mask, shape, default=True)
        self.interior = self._flags("interior", interior, shape, default=False)

    @staticmethod
    def _flags(name, value, shape, *, default: bool) -> np.ndarray:
        if value is None:
            return np.full(shape, default)
        value = np.asarray(value)
        if value.shape != shape or value.dtype != np.bool_:
            raise ValueError(
                f"`{name}` must be a boolean array of shape {shape}, got {value.dtype} "
                f"array of shape {value.shape}"
            )
        return value

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions $d$."""
        return len(self.coords)

    @property
    def x(self) -> np.ndarray:
        """Node coordinates along the first axis."""
        return self.coords[0]

    @property
    def y(self) -> np.ndarray:
        """Node coordinates along the second axis (2-D and 3-D grids)."""
        return self._axis(1)

    @property
    def z(self) -> np.ndarray:
        """Node coordinates along the third axis (3-D grids)."""
        return self._axis(2)

    def _axis(self, i: int) -> np.ndarray:
        if i >= self.ndim:
            raise AttributeError(f"a {self.ndim}-D GridSolution has no axis {i}; use `coords`")
        return self.coords[i]

    @property
    def bounds(self) -> tuple[tuple[float, float], ...]:
        """The box $(lo, hi)$ per axis."""
        return tuple((float(c[0]), float(c[-1])) for c in self.coords)

    @property
    def spacing(self) -> tuple[float, ...]:
        """Grid spacing $h_i$ per axis (the mean spacing if a grid is not uniform)."""
        return tuple(float((c[-1] - c[0]) / (c.size - 1)) for c in self.coords)

    def mesh(self) -> tuple[np.ndarray, ...]:
        """Coordinate arrays of every node, ``np.meshgrid(*coords, indexing="ij")``."""
        return tuple(np.meshgrid(*self.coords, indexing="ij"))

    def points(self) -> np.ndarray:
        """Every node as a point, shape ``(*u.shape, d)``."""
        return np.stack(self.mesh(), axis=-1)

    def interpolate(
        self, points: Float[ArrayLike, "*batch d"], *, method: Method = "cubic"
    ) -> Float[np.ndarray, "*batch"]:
        r"""Interpolate the node values at ``points`` of shape ``(..., d)``; returns ``(...)``.

        The interpolant is the tensor-product spline of degree 1, 3 or 5 through the node
        values (not-a-knot ends), fitted exactly by one banded solve per axis and evaluated
        with `scipy.interpolate.NdBSpline`. ``"cubic"`` (the default) has an $O(h^4)$ error,
        well below the $O(h^2)$ error of a second-order solver, so comparing a field with the
        interpolant measures the solver's error, not the interpolation's. ``"linear"`` is
        $O(h^2)$ and local: prefer it near a re-entrant corner or wherever the solution is not
        smooth, since a spline spreads a kink over the whole grid line. Points must lie in
        the grid's box (boundary included).

        Example:
            >>> import numpy as np
            >>> x = np.linspace(0, 1, 11)
            >>> sol = GridSolution((x,), x**3)
            >>> sol.interpolate(np.array([[0.55], [1.0]])).round(6).tolist()
            [0.166375, 1.0]
        """
        if method not in _DEGREE:
            raise ValueError(f"`method` must be one of {tuple(_DEGREE)}, got {method!r}")
        degree = _DEGREE[method]
        need = degree + 1
        if min(c.size for c in self.coords) < need:
            raise ValueError(
                f"`method`={method!r} needs at least {need} nodes per axis, the grid has "
                f"shape {self.u.shape}; use method='linear'"
            )
        pts = np.array(points, dtype=np.float64)  # a copy: clipped below
        if pts.ndim == 0 or pts.shape[-1] != self.ndim:
            raise ValueError(
                f"`points` must have last axis {self.ndim} (shape (..., {self.ndim})) for a "
                f"{self.ndim}-D grid, got shape {pts.shape}"
            )
        flat = pts.reshape(-1, self.ndim)
        for i, (lo, hi) in enumerate(self.bounds):
            # One rounding error of slack so that points built as lo + k*h on the edge pass.
            tol = 4 * np.finfo(np.float64).eps * max(abs(lo), abs(hi), 1.0)
            outside = (flat[:, i] < lo - tol) | (flat[:, i] > hi + tol)
            if np.any(outside) or not np.all(np.isfinite(flat[:, i])):
                raise ValueError(
                    f"`points` must lie in the grid's box: coordinate {i} must be in "
                    f"[{lo}, {hi}], got values in [{flat[:, i].min()}, {flat[:, i].max()}]"
                )
            flat[:, i] = np.clip(flat[:, i], lo, hi)
        # The tensor-product interpolation problem separates: solve along one axis at a time.
        coefficients, knots = self.u, []
        for axis, c in enumerate(self.coords):
            spline = make_interp_spline(c, coefficients, k=degree, axis=axis)
            coefficients = np.moveaxis(spline.c, 0, axis)
            knots.append(spline.t)
        return NdBSpline(tuple(knots), coefficients, degree)(flat).reshape(pts.shape[:-1])

    def __call__(
        self, points: Float[ArrayLike, "*batch d"], *, method: Method = "cubic"
    ) -> Float[np.ndarray, "*batch"]:
        """Same as `GridSolution.interpolate`."""
        return self.interpolate(points, method=method)
