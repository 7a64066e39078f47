"""Finite-difference reference solvers against manufactured solutions.

Convergence tests solve on a sequence of grids, take the maximum nodal error $e(h)$ against the
exact solution and fit the slope of $\\log e$ against $\\log h$; a second-order scheme gives 2.
Measured slopes (max norm): Poisson sine 2.00 in 1-D and 2-D, 2.01 in 3-D; exp-cos with
non-zero Dirichlet data on an anisotropic grid 2.00; Helmholtz 2.01 (k = 1) and 2.05 (k = 10,
indefinite). L-shape with the corner singularity $r^{2/3}\\sin(2\\psi/3)$: 0.65 in the max norm
(theory 2/3: the singularity caps it) and 1.24 in the root-mean-square over nodes (tending to
4/3; the local slope between the two finest grids is 1.29).
"""

import numpy as np
import pytest
from helpers import assert_close

from fieldpde.reference import GridSolution, helmholtz_fd, poisson_fd

PI = np.pi
UNIT_SQUARE = ((0.0, 1.0), (0.0, 1.0))
SQUARE = ((-1.0, 1.0), (-1.0, 1.0))


def slope(hs, errors):
    return np.polyfit(np.log(hs), np.log(errors), 1)[0]


def max_error(sol, exact):
    return np.max(np.abs(sol.u - exact(*sol.mesh()))[sol.mask])


def sines(*coords):
    return np.prod([np.sin(PI * c) for c in coords], axis=0)


# --- Poisson on a box ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "dim, sizes", [(1, (17, 33, 65, 129)), (2, (17, 33, 65, 129)), (3, (9, 13, 17))]
)
def test_poisson_sine_is_second_order(dim, sizes):
    # -Δ prod sin(pi x_i) = d pi^2 prod sin(pi x_i)
    f = lambda *c: dim * PI**2 * sines(*c)  # noqa: E731
    hs, errors = [], []
    for n in sizes:
        sol = poisson_fd(f, bounds=((0.0, 1.0),) * dim, shape=n)
        assert sol.u.shape == (n,) * dim
        hs.append(1.0 / (n - 1))
        errors.append(max_error(sol, sines))
    assert np.all(np.diff(errors) < 0)
    assert 1.8 <= slope(hs, errors) <= 2.2


def exp_cos(x, y):
    return np.exp(x) * np.cos(2 * y) + x * y


def test_poisson_nonzero_dirichlet_anisotropic_grid_is_second_order():
    # Δ(e^x cos 2y + xy) = -3 e^x cos 2y; spacings h_y = 1.5 h_x.
    f = lambda x, y: 3 * np.exp(x) * np.cos(2 * y)  # noqa: E731
    hs, errors = [], []
    for n in (17, 33, 65, 129):
        sol = poisson_fd(
            f, bounds=((0.0, 1.0), (-1.0, 2.0)), shape=(n, 2 * n - 1), boundary=exp_cos
        )
        assert sol.u.shape == (n, 2 * n - 1)
        assert_close(sol.spacing, (1 / (n - 1), 1.5 / (n - 1)), rtol=1e-12, atol=0, what="h")
        # Boundary nodes hold the Dirichlet data exactly.
        edge = ~sol.interior
        assert_close(sol.u[edge], exp_cos(*sol.mesh())[edge], rtol=0, atol=0, what="edge")
        hs.append(1.0 / (n - 1))
        errors.append(max_error(sol, exp_cos))
    assert 1.8 <= slope(hs, errors) <= 2.2


def test_poisson_form_laplace_flips_the_sign():
    f = lambda x, y: 2 * PI**2 * sines(x, y)  # noqa: E731
    minus = poisson_fd(f, bounds=UNIT_SQUARE, shape=21)
    plus = poisson_fd(lambda x, y: -f(x, y), bounds=UNIT_SQUARE, shape=21, form="laplace")
    assert_close(plus.u, minus.u, rtol=1e-12, atol=1e-14, what="u")


@pytest.mark.parametrize(
    "bounds, exact, f",
    [
        # The stencil is exact for cubics (its error is h^2/12 u'''' + ...).
        (((-1.0, 2.0),), lambda x: x**3 - x, lambda x: -6 * x),
        (((0.0, 1.0), (-1.0, 1.0)), lambda x, y: x**3 - 3 * x * y**2 + x * y, 0.0),
        (((0.0, 1.0),) * 3, lambda x, y, z: x**2 + y**2 - 2 * z**2 + x * y * z, 0.0),
    ],
)
def test_poisson_exact_for_cubics(bounds, exact, f):
    sol = poisson_fd(f, bounds=bounds, shape=(7, 9, 5)[: len(bounds)], boundary=exact)
    assert max_error(sol, exact) < 1e-12


def test_array_data_and_constant_data():
    x = np.linspace(0, 1, 17)
    xx, yy = np.meshgrid(x, x, indexing="ij")
    from_callable = poisson_fd(1.0, bounds=UNIT_SQUARE, shape=17, boundary=lambda x, y: x + y)
    from_arrays = poisson_fd(np.ones((17, 17)), bounds=UNIT_SQUARE, shape=17, boundary=xx + yy)
    assert_close(from_arrays.u, from_callable.u, rtol=0, atol=1e-14, what="u")
    # A callable that returns a constant broadcasts to the grid.
    assert_close(
        poisson_fd(lambda x, y: 1.0, bounds=UNIT_SQUARE, shape=17, boundary=xx + yy).u,
        from_callable.u,
        rtol=0,
        atol=1e-14,
        what="u",
    )


# --- Helmholtz ----------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1.0, 10.0])  # k = 10: k^2 > pi^2/2, the matrix is indefinite
def test_helmholtz_is_second_order(k):
    a1, a2 = 1, 4

    def exact(x, y):
        return np.sin(a1 * PI * x) * np.sin(a2 * PI * y)

    q = lambda x, y: (k**2 - (a1**2 + a2**2) * PI**2) * exact(x, y)  # noqa: E731
    hs, errors = [], []
    for n in (33, 65, 129, 257):
        sol = helmholtz_fd(q, k, bounds=SQUARE, shape=n)
        hs.append(2.0 / (n - 1))
        errors.append(max_error(sol, exact))
    assert errors[-1] < 5e-3  # pollution: the error grows like k^4 h^2
    assert 1.8 <= slope(hs, errors) <= 2.2


def test_helmholtz_k_zero_is_poisson_laplace_form():
    q = lambda x, y: np.cos(x) * y  # noqa: E731
    a = helmholtz_fd(q, 0.0, bounds=SQUARE, shape=(15, 19), boundary=exp_cos)
    b = poisson_fd(q, bounds=SQUARE, shape=(15, 19), boundary=exp_cos, form="laplace")
    assert_close(a.u, b.u, rtol=1e-12, atol=1e-13, what="u")


def test_helmholtz_singular_operator_raises():
    # One interior node with h = 1: the matrix is -4 + k^2 = 0.
    with pytest.raises(ValueError, match="singular"):
        helmholtz_fd(1.0, 2.0, bounds=((0, 2), (0, 2)), shape=3)


# --- L-shaped domain ----------------------------------------------------------------------


def lshape(points):
    """[-1, 1]^2 minus the open quadrant (0, 1] x (0, 1]: closed, re-entrant corner at 0."""
    x, y = points[..., 0], points[..., 1]
    return ~((x > 0) & (y > 0))


def corner(x, y):
    """r^{2/3} sin(2 psi / 3), psi in [0, 3 pi / 2] the angle from the +y axis: harmonic,
    zero on both edges of the re-entrant corner, with a singular gradient there."""
    psi = np.mod(np.arctan2(-x, y), 2 * PI)
    return np.hypot(x, y) ** (2 / 3) * np.sin(2 * psi / 3)


def test_lshape_mask_and_interior_nodes():
    sol = poisson_fd(0.0, bounds=SQUARE, shape=9, boundary=corner, inside=lshape)
    xx, yy = sol.mesh()
    assert np.array_equal(sol.mask, ~((xx > 0) & (yy > 0)))
    # Nodes on the re-entrant edges are boundary nodes, the ones next to them unknowns.
    zero = 4  # x[4] = 0
    assert not sol.interior[zero, zero:].any() and not sol.interior[zero:, zero].any()
    assert sol.interior[zero - 1, 1:-1].all() and sol.interior[1:-1, zero - 1].all()
    assert sol.interior.sum() == 7 * 7 - 3 * 3 - 2 * 3 - 1  # 33
    # Every node outside the unknowns holds the Dirichlet data.
    assert_close(sol.u[~sol.interior], corner(xx, yy)[~sol.interior], rtol=0, atol=0, what="g")


def test_lshape_exact_for_harmonic_cubic_with_array_mask():
    def exact(x, y):
        return x**3 - 3 * x * y**2 + x**2 - y**2

    by_callable = poisson_fd(0.0, bounds=SQUARE, shape=17, boundary=exact, inside=lshape)
    x = np.linspace(-1, 1, 17)
    mask = lshape(np.stack(np.meshgrid(x, x, indexing="ij"), axis=-1))
    by_array = poisson_fd(0.0, bounds=SQUARE, shape=17, boundary=exact, inside=mask)
    assert max_error(by_callable, exact) < 1e-12
    assert_close(by_array.u, by_callable.u, rtol=0, atol=0, what="u")


def test_lshape_corner_singularity_converges_at_the_expected_slower_rate():
    hs, max_errors, rms_errors = [], [], []
    for n in (17, 33, 65, 129):
        sol = poisson_fd(0.0, bounds=SQUARE, shape=n, boundary=corner, inside=lshape)
        err = np.abs(sol.u - corner(*sol.mesh()))[sol.mask]
        hs.append(2.0 / (n - 1))
        max_errors.append(err.max())
        rms_errors.append(np.sqrt(np.mean(err**2)))
    assert np.all(np.diff(max_errors) < 0) and np.all(np.diff(rms_errors) < 0)
    # Max-norm order 2/3 (observed 0.65), RMS tending to 4/3 (observed 1.24).
    assert 0.55 <= slope(hs, max_errors) <= 0.8
    assert 1.1 <= slope(hs, rms_errors) <= 1.5


def test_helmholtz_on_lshape():
    k = 2.0  # k^2 = 4 stays clear of the L-shape's first Dirichlet eigenvalue, about 9.64

    def exact(x, y):
        return np.sin(k * x)  # Δu + k^2 u = 0

    sol = helmholtz_fd(0.0, k, bounds=SQUARE, shape=65, boundary=exact, inside=lshape)
    assert max_error(sol, exact) < 2e-3


# --- interpolation ------------------------------------------------------------------------


def test_interpolation_reproduces_polynomials_of_its_degree():
    x, y = np.linspace(-1, 1, 9), np.linspace(0, 3, 13)
    xx, yy = np.meshgrid(x, y, indexing="ij")
    rng = np.random.default_rng(0)
    points = rng.uniform([-1, 0], [1, 3], size=(5, 7, 2))
    px, py = points[..., 0], points[..., 1]

    def cubic(x, y):
        return x**3 - 2 * x * y**2 + y**3 + 1

    def bilinear(x, y):
        return 2 * x - y + 0.5 * x * y

    sol = GridSolution((x, y), cubic(xx, yy))
    assert_close(sol.interpolate(points), cubic(px, py), rtol=0, atol=1e-12, what="cubic")
    assert_close(sol(points), sol.interpolate(points), rtol=0, atol=0, what="__call__")
    sol = GridSolution((x, y), bilinear(xx, yy))
    got = sol.interpolate(points, method="linear")
    assert_close(got, bilinear(px, py), rtol=0, atol=1e-12, what="linear")
    # One point in, one value out; nodes on the edge of the box are fine.
    assert sol.interpolate(np.array([1.0, 3.0]), method="linear").shape == ()
    assert_close(sol(np.array([1.0, 3.0])), bilinear(1.0, 3.0), rtol=0, atol=1e-12, what="edge")


def test_interpolated_solution_matches_exact_at_scattered_points():
    f = lambda x, y: 2 * PI**2 * sines(x, y)  # noqa: E731
    sol = poisson_fd(f, bounds=UNIT_SQUARE, shape=65)
    points = np.random.default_rng(1).uniform(0, 1, size=(500, 2))
    exact = sines(points[:, 0], points[:, 1])
    nodal = max_error(sol, sines)
    # Cubic interpolation adds O(h^4): the scattered error is the solver's nodal error.
    assert np.max(np.abs(sol(points) - exact)) < 1.05 * nodal
    # Linear interpolation adds its own O(h^2) error, of the same order (pi^2 h^2 / 8).
    assert np.max(np.abs(sol(points, method="linear") - exact)) < nodal + PI**2 / 64**2 / 4


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(bounds=UNIT_SQUARE, shape=(2, 5)), r"`shape\[0\]` must be an integer >= 3"),
        (dict(bounds=UNIT_SQUARE, shape=2), r"`shape\[0\]` must be an integer >= 3"),
        (dict(bounds=UNIT_SQUARE, shape=(5, 5.0)), r"`shape\[1\]`"),
        (dict(bounds=UNIT_SQUARE, shape="5"), "`shape` must be an int"),
        (dict(bounds=((0, 1), (1, 1)), shape=5), r"`bounds\[1\]` must satisfy lo < hi"),
        (dict(bounds=((2, 1),), shape=5), r"`bounds\[0\]` must satisfy lo < hi"),
        (dict(bounds=((0, 1), (0, np.inf)), shape=5), r"`bounds\[1\]` hi must be a finite number"),
        (dict(bounds=UNIT_SQUARE, shape=(5, 5, 5)), "`bounds` has 2 .* `shape` has 3"),
        (dict(bounds=((0, 1), (0, 1), (0, 1)), shape=(5, 5)), "`bounds` has 3 .* `shape` has 2"),
        (dict(bounds=(0, 1, 0, 1), shape=5), r"`bounds\[0\]` must be a \(lo, hi\) pair"),
        (dict(bounds=(), shape=5), "`bounds` must be a sequence"),
        (dict(bounds=UNIT_SQUARE, shape=5, form="+"), "`form` must be '-laplace'"),
        (dict(bounds=UNIT_SQUARE, shape=5, inside=lambda p: p[..., 0] > 2), "no interior node"),
        (dict(bounds=UNIT_SQUARE, shape=5, inside=np.ones((4, 5), bool)), "`inside` must be a"),
        (dict(bounds=UNIT_SQUARE, shape=5, inside=np.ones((5, 5))), "`inside` must give bool"),
        (dict(bounds=UNIT_SQUARE, shape=5, inside=lambda p: True), "`inside` must map points"),
        (dict(bounds=UNIT_SQUARE, shape=5, boundary=np.zeros(3)), "`boundary` must be a number"),
        (dict(bounds=UNIT_SQUARE, shape=5, boundary=lambda x, y: np.nan), "`boundary` has non"),
    ],
)
def test_poisson_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        poisson_fd(1.0, **kwargs)


def test_bad_source_and_k():
    box = dict(bounds=UNIT_SQUARE, shape=5)
    with pytest.raises(ValueError, match="`f` returned shape"):
        poisson_fd(lambda x, y: np.ones(3), **box)
    with pytest.raises(ValueError, match="`f` has non-finite"):
        poisson_fd(lambda x, y: np.where(x > 0.5, np.inf, 1.0), **box)
    with pytest.raises(ValueError, match="`q` has values of dtype"):
        helmholtz_fd("1", 1.0, **box)
    for k in (np.inf, np.nan, 1j, True, None):
        with pytest.raises(ValueError, match="`k` must be a finite real number"):
            helmholtz_fd(0.0, k, **box)


def test_grid_solution_bad_input():
    x = np.linspace(0, 1, 5)
    with pytest.raises(ValueError, match="`u` must have shape"):
        GridSolution((x, x), np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"`coords\[0\]` must be a strictly increasing"):
        GridSolution((x[::-1],), x)
    with pytest.raises(ValueError, match="`coords` must be a non-empty sequence"):
        GridSolution(x, x)
    with pytest.raises(ValueError, match="`mask` must be a boolean array"):
        GridSolution((x,), x, mask=np.ones(5))
    sol = GridSolution((x, x), np.zeros((5, 5)))
    with pytest.raises(ValueError, match="`points` must have last axis 2"):
        sol(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"coordinate 1 must be in \[0.0, 1.0\]"):
        sol(np.array([[0.5, 1.5]]))
    with pytest.raises(ValueError, match="`method` must be one of"):
        sol(np.zeros(2), method="nearest")
    with pytest.raises(ValueError, match="needs at least 6 nodes per axis"):
        sol(np.zeros(2), method="quintic")
    with pytest.raises(AttributeError, match="no axis 2"):
        _ = sol.z


# -- the library's own objects: domains and pointwise functions ----------------------------


def test_solvers_take_domains_and_pointwise_functions_as_the_constraints_do():
    import jax.numpy as jnp

    from fieldpde.domains import Box, Disk, Interval, SpaceTime, TimeInterval
    from fieldpde.reference import heat

    # a pointwise source of one point (jax.numpy) equals the vectorised one
    per_axis = poisson_fd(
        lambda x, y: 2 * np.pi**2 * np.sin(np.pi * x) * np.sin(np.pi * y),
        bounds=((0.0, 1.0), (0.0, 1.0)),
        shape=17,
    )
    pointwise = poisson_fd(
        lambda p: 2 * jnp.pi**2 * jnp.sin(jnp.pi * p[0]) * jnp.sin(jnp.pi * p[1]),
        bounds=Box([0.0, 0.0], [1.0, 1.0]),
        shape=17,
    )
    np.testing.assert_allclose(pointwise.u, per_axis.u, rtol=0, atol=1e-12)
    # a domain that is not a box masks its nodes: -Δu = 4 on the unit disk, u = 1 - r^2
    disk = poisson_fd(4.0, bounds=Disk([0.0, 0.0], 1.0), shape=41)
    assert not disk.mask[0, 0] and disk.mask[20, 20]
    r2 = sum(m**2 for m in disk.mesh())
    # the staircase boundary moves the circle inwards by up to sqrt(2) h and |u_r| <= 2,
    # so the nodal error is O(h): at most 2 sqrt(2) h < 3 h (h = 0.05)
    h = disk.spacing[0]
    err = np.abs(disk.u - (1.0 - r2))[disk.interior]
    assert err.max() < 3 * h and err.max() > 1e-3  # really the disk, not the square
    # a space-time cylinder gives the bounds and the initial time of a method-of-lines solve
    cyl = SpaceTime(Interval(0.0, 1.0), TimeInterval(0.5, 1.0))
    ds = heat(lambda p: jnp.sin(jnp.pi * p[0]), bounds=cyl, shape=33, times=[0.5, 0.6])
    assert ds.attrs["t0"] == 0.5 and ds.u.dims == ("time", "x")
    exact = np.exp(-(np.pi**2) * 0.1) * np.sin(np.pi * ds.x.values)
    assert float(abs(ds.u.isel(time=-1) - exact).max()) < 1e-3
    with pytest.raises(TypeError, match="pointwise function of one point"):
        poisson_fd(lambda p: np.sin(p), bounds=Box([0.0, 0.0], [1.0, 1.0]), shape=9)
    with pytest.raises(ValueError, match="must be a box"):
        heat(0.0, bounds=Disk([0.0, 0.0], 1.0), shape=9, times=[0.0, 0.1])
