r"""Second-order finite differences for Poisson and Helmholtz problems with Dirichlet data.

On a uniform grid with spacings $h_i$ (see `fieldpde.reference` for the grid) the Laplacian
is the $(2d+1)$-point stencil, the 5-point stencil in 2-D,

$$(\Delta_h u)_j = \sum_{i=1}^{d} \frac{u_{j+e_i} - 2 u_j + u_{j-e_i}}{h_i^2}
  = \Delta u(x_j) + \sum_{i=1}^{d} \frac{h_i^2}{12}\,\partial_i^4 u(x_j) + O(h^4),$$

assembled as the Kronecker sum $\Delta_h = \sum_i I \otimes \dots \otimes D_i \otimes \dots
\otimes I$ of the 1-D second-difference matrices $D_i$. The PDE is imposed at the interior
nodes, the Dirichlet values fill every other node and move to the right-hand side, and the
sparse system is solved by a sparse LU factorisation (SuperLU through `scipy.sparse.linalg`),
which also handles the indefinite Helmholtz matrix. For a smooth solution the nodal error is
$O(h^2)$ in the maximum norm; the discrete maximum principle makes the Poisson scheme stable.

General domains: with ``inside`` the domain is a set of grid nodes (the mask). A node of the
mask whose $2d$ neighbours all lie in the mask is interior; the other mask nodes form the
discrete boundary and take the Dirichlet data. The mask should therefore be *closed*, i.e.
contain the boundary points that fall on grid nodes, and the domain's edges should lie on grid
lines (an L-shape with its re-entrant corner on a node); otherwise the boundary is moved to
the nearest nodes inside, an $O(h)$ error.
"""

from collections.abc import Sequence
from numbers import Real
from typing import Literal

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._grid import GridData, Mask, domain_bounds, eval_data, eval_mask, interior_nodes, make_grid
from ._solution import GridSolution

Form = Literal["-laplace", "laplace"]


def _laplacian(coords: tuple[np.ndarray, ...]) -> sp.csr_array:
    """The $(2d+1)$-point Laplacian on every node of the grid (rows of edge nodes unused)."""
    shape = tuple(c.size for c in coords)
    total = sp.csr_array((int(np.prod(shape)),) * 2, dtype=np.float64)
    for axis, c in enumerate(coords):
        n = c.size
        h = (c[-1] - c[0]) / (n - 1)
        second = sp.diags_array([1.0, -2.0, 1.0], offsets=[-1, 0, 1], shape=(n, n)) / h**2
        before = sp.eye_array(int(np.prod(shape[:axis])))
        after = sp.eye_array(int(np.prod(shape[axis + 1 :])))
        total = total + sp.kron(sp.kron(before, second), after, format="csr")
    return total.tocsr()


def _solve(
    coords: tuple[np.ndarray, ...],
    source: tuple[str, GridData],
    boundary: GridData,
    inside: Mask | None,
    *,
    scale: float,
    shift: float,
) -> GridSolution:
    """Solve $s\\,\\Delta u + c\\,u = r$ at interior nodes, $u = g$ elsewhere."""
    shape = tuple(c.size for c in coords)
    mask = np.ones(shape, dtype=bool) if inside is None else eval_mask(inside, coords)
    interior = interior_nodes(mask)
    if not interior.any():
        raise ValueError(
            f"`inside` leaves no interior node on the {shape} grid (a node is interior when it "
            "and all its neighbours, diagonals included, lie in the mask); refine the grid or "
            "check the mask"
        )
    name, data = source
    rhs = eval_data(name, data, coords)
    if not np.all(np.isfinite(rhs[interior])):
        raise ValueError(f"`{name}` has non-finite values at interior nodes")
    g = eval_data("boundary", boundary, coords)
    on_boundary = mask & ~interior
    if not np.all(np.isfinite(g[on_boundary])):
        raise ValueError("`boundary` has non-finite values at boundary nodes of the domain")

    unknown = np.flatnonzero(interior)
    known = np.flatnonzero(~interior)
    rows = _laplacian(coords)[unknown]
    # Stencils of interior nodes only reach mask nodes, so g outside the mask is never used.
    g_known = np.where(mask, g, 0.0).ravel()[known]
    matrix = scale * rows[:, unknown] + shift * sp.eye_array(unknown.size)
    b = rhs.ravel()[unknown] - scale * (rows[:, known] @ g_known)
    try:
        # The matrix is structurally symmetric, where minimum degree on A^T + A fills in
        # about half as much as the default COLAMD ordering.
        lu = spla.splu(sp.csc_array(matrix), permc_spec="MMD_AT_PLUS_A")
        values = lu.solve(b)
    except RuntimeError as error:  # SuperLU: "Factor is exactly singular"
        raise ValueError(
            f"the discrete operator is singular on this grid ({error}); for Helmholtz, k^2 is "
            "an eigenvalue of the discrete Dirichlet Laplacian: change `k` or `shape`"
        ) from None
    if not np.all(np.isfinite(values)):
        raise ValueError(
            "the sparse solve returned non-finite values; the discrete operator is singular or "
            "nearly so (for Helmholtz, k^2 is close to a discrete Dirichlet eigenvalue)"
        )
    u = g.copy()
    u.ravel()[unknown] = values
    return GridSolution(coords, u, mask=mask, interior=interior)


def poisson_fd(
    f: GridData,
    *,
    bounds: Sequence[Sequence[float]],
    shape: int | Sequence[int],
    boundary: GridData = 0.0,
    inside: Mask | None = None,
    form: Form = "-laplace",
) -> GridSolution:
    r"""Solve the Poisson problem $-\Delta u = f$, $u = g$ on the boundary, by finite differences.

    Sign convention: by default the equation is $-\Delta u = f$, the form whose operator is
    positive definite, so $f > 0$ pushes $u$ up (for $u = \sin\pi x \sin\pi y$ on $[0,1]^2$,
    $f = 2\pi^2 u$). Pass ``form="laplace"`` to solve $\Delta u = f$ instead.

    The domain is the box ``bounds`` or, with ``inside``, the part of it where the mask holds
    (see the module notes: the mask should contain its boundary, and edges should lie on grid
    lines). Works in any dimension. A 2-D grid of $513^2$ nodes solves in seconds; in 3-D the
    LU factors fill in fast, so a direct solve takes seconds at $33^3$ nodes and is
    impractical much beyond.

    Args:
        f: source term: a number, an array of values at the nodes (shape ``shape``), a
            pointwise function ``f(x)`` of one point (jax.numpy, as constraints take), or
            a vectorised callable ``f(x, y)`` (one coordinate array per axis).
        bounds: the box, one ``(lo, hi)`` pair per axis, e.g. ``((0, 1), (0, 1))``, or a
            fieldpde domain: its bounding box, and for a domain that is not a box its
            ``contains`` as the default `inside`.
        shape: nodes per axis including both ends (at least 3), or one int for every axis;
            the spacing is $h_i = (hi_i - lo_i)/(N_i - 1)$ and may differ per axis.
        boundary: Dirichlet data $g$, as for ``f``. Evaluated at every node that is not
            interior; only its values on the domain's boundary nodes enter the solve.
        inside: optional domain mask: a boolean array of shape ``shape``, or a callable
            ``inside(points)`` mapping points of shape ``(n, d)`` to ``n`` booleans (a domain's
            ``contains``).
        form: ``"-laplace"`` for $-\Delta u = f$ (default) or ``"laplace"`` for $\Delta u = f$.

    Returns:
        A `GridSolution` with the node values (Dirichlet data included) and an interpolant.

    Example:
        >>> import numpy as np
        >>> f = lambda x, y: 2 * np.pi**2 * np.sin(np.pi * x) * np.sin(np.pi * y)
        >>> sol = poisson_fd(f, bounds=((0, 1), (0, 1)), shape=(33, 33))
        >>> sol.u.shape
        (33, 33)
        >>> round(float(sol.u[16, 16]), 3)  # exact u(1/2, 1/2) = 1; O(h^2) error
        1.001

        The same from the library's objects: a domain and a pointwise source.

        >>> import jax.numpy as jnp
        >>> from fieldpde.domains import Box
        >>> g = lambda x: 2 * jnp.pi**2 * jnp.sin(jnp.pi * x[0]) * jnp.sin(jnp.pi * x[1])
        >>> again = poisson_fd(g, bounds=Box([0.0, 0.0], [1.0, 1.0]), shape=33)
        >>> bool(np.allclose(again.u, sol.u, atol=1e-12))
        True
    """
    if form not in ("-laplace", "laplace"):
        raise ValueError(
            f"`form` must be '-laplace' (solve -Δu = f) or 'laplace' (solve Δu = f), got {form!r}"
        )
    bounds, mask, _ = domain_bounds(bounds)
    coords = make_grid(bounds, shape)
    scale = -1.0 if form == "-laplace" else 1.0
    return _solve(coords, ("f", f), boundary, mask if inside is None else inside,
                  scale=scale, shift=0.0)  # fmt: skip


def helmholtz_fd(
    q: GridData,
    k: float,
    *,
    bounds: Sequence[Sequence[float]],
    shape: int | Sequence[int],
    boundary: GridData = 0.0,
    inside: Mask | None = None,
) -> GridSolution:
    r"""Solve the Helmholtz problem $\Delta u + k^2 u = q$, $u = g$ on the boundary.

    (The other common form $-\Delta u - k^2 u = f$ is $q = -f$.) Once $k^2$ exceeds the
    smallest Dirichlet eigenvalue of $-\Delta$ the matrix is indefinite; the sparse LU solve
    does not mind, but the problem is ill-posed when $k^2$ is an eigenvalue of the discrete
    Laplacian, and a `ValueError` is raised if the factorisation finds it singular. The error
    grows like $k^4 h^2$ (pollution), so resolve a wavelength $2\pi/k$ by ten or more nodes.

    Args:
        q: source term: a number, an array of values at the nodes, or a vectorised callable
            ``q(x, y)``.
        k: real, finite wavenumber (only $k^2$ enters; $k = 0$ gives $\Delta u = q$).
        bounds, shape, boundary, inside: as in `poisson_fd`.

    Returns:
        A `GridSolution`.

    Example:
        >>> import numpy as np
        >>> k = 1.0
        >>> exact = lambda x, y: np.sin(np.pi * x) * np.sin(4 * np.pi * y)
        >>> q = lambda x, y: (k**2 - 17 * np.pi**2) * exact(x, y)
        >>> sol = helmholtz_fd(q, k, bounds=((-1, 1), (-1, 1)), shape=129)
        >>> bool(np.max(np.abs(sol.u - exact(*sol.mesh()))) < 5e-3)  # about 12.5 h^2
        True
    """
    if isinstance(k, bool) or not isinstance(k, Real) or not np.isfinite(k):
        raise ValueError(f"`k` must be a finite real number (the wavenumber), got {k!r}")
    bounds, mask, _ = domain_bounds(bounds)
    coords = make_grid(bounds, shape)
    inside = mask if inside is None else inside
    return _solve(coords, ("q", q), boundary, inside, scale=1.0, shift=float(k) ** 2)
