"""Method-of-lines reference solvers: convergence orders, conservation, datasets, errors.

Each convergence test solves on a sequence of grids with tight time tolerances (so the
spatial error dominates), measures the maximum nodal error against an exact solution at the
final time, and fits the slope of log(error) against log(h): second-order finite differences
must give a slope of 2 (within 0.15), spectral methods an error at the time-stepping level.
"""

import jax.numpy as jnp
import numpy as np
import pytest

from fieldpde.reference import (
    GridSolution,
    advection,
    allen_cahn,
    burgers,
    heat,
    space_time_solution,
    wave,
)

TIGHT = dict(rtol=1e-11, atol=1e-13)


def slope(hs, errors):
    return float(np.polyfit(np.log(hs), np.log(errors), 1)[0])


def final_error(ds, exact, var="u"):
    mesh = np.meshgrid(*[ds[n].values for n in ds[var].dims[1:]], indexing="ij")
    t = float(ds.time[-1])
    return float(np.max(np.abs(ds[var].isel(time=-1).values - exact(*mesh, t))))


# -- heat ------------------------------------------------------------------------------------


def heat_exact_1d(x, t):
    return np.exp(-(np.pi**2) * t) * np.cos(np.pi * x)


def test_heat_1d_time_dependent_dirichlet_converges_at_second_order():
    # u = exp(-pi^2 t) cos(pi x) takes the time-dependent values +-exp(-pi^2 t) at x = 0, 1
    def g(x, t):
        return jnp.exp(-(jnp.pi**2) * t) * jnp.cos(jnp.pi * x)

    hs, errors = [], []
    for n in (11, 21, 41):
        ds = heat(
            lambda x: np.cos(np.pi * x),
            bounds=[(0.0, 1.0)],
            shape=n,
            times=[0.05, 0.1],
            boundary_value=g,
            **TIGHT,
        )
        hs.append(1.0 / (n - 1))
        errors.append(final_error(ds, heat_exact_1d))
        # the edge nodes carry the boundary data exactly
        np.testing.assert_allclose(ds.u.values[:, 0], np.exp(-(np.pi**2) * ds.time.values))
    assert ds.u.dims == ("time", "x") and ds.sizes["time"] == 2
    assert abs(slope(hs, errors) - 2.0) < 0.15, errors


@pytest.mark.slow
def test_heat_2d_converges_at_second_order():
    def exact(x, y, t):
        return np.exp(-2 * np.pi**2 * 0.5 * t) * np.sin(np.pi * x) * np.sin(np.pi * y)

    hs, errors = [], []
    for n in (9, 17, 33):
        ds = heat(
            lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y),
            bounds=[(0.0, 1.0), (0.0, 1.0)],
            shape=n,
            times=[0.1],
            diffusivity=0.5,
            **TIGHT,
        )
        hs.append(1.0 / (n - 1))
        errors.append(final_error(ds, exact))
    assert ds.u.dims == ("time", "x", "y")
    assert abs(slope(hs, errors) - 2.0) < 0.15, errors


def test_heat_2d_periodic_spectral_is_exact_and_conserves_mass():
    # periodic box [0, 2pi]^2: the Fourier method is exact for a trigonometric polynomial
    ds = heat(
        lambda x, y: np.sin(x) * np.cos(2 * y),
        bounds=[(0.0, 2 * np.pi), (0.0, 2 * np.pi)],
        shape=(16, 12),
        times=[0.3],
        boundary="periodic",
        method="spectral",
        **TIGHT,
    )
    err = final_error(ds, lambda x, y, t: np.exp(-5 * t) * np.sin(x) * np.cos(2 * y))
    assert err < 1e-9
    # heat on a periodic box conserves the mean exactly (the k = 0 mode has zero rate)
    mass = ds.u.sum(("x", "y")).values
    np.testing.assert_allclose(mass, 0.0, atol=1e-10)


def test_heat_periodic_fd_conserves_mass():
    ds = heat(
        lambda x: 1.0 + np.exp(np.sin(x)),
        bounds=[(0.0, 2 * np.pi)],
        shape=64,
        times=np.linspace(0.1, 1.0, 4),
        boundary="periodic",
        **TIGHT,
    )
    u0 = 1.0 + np.exp(np.sin(ds.x.values))
    mass = ds.u.sum("x").values
    np.testing.assert_allclose(mass, u0.sum(), rtol=1e-10)
    # and diffuses: the variance falls
    assert np.all(np.diff(ds.u.var("x").values) < 0)


# -- advection -------------------------------------------------------------------------------


def test_advection_periodic_fd_second_order_spectral_exact():
    def exact(x, t):
        return np.sin(2 * np.pi * (x - 0.5 * t))

    hs, errors = [], []
    for n in (16, 32, 64):
        ds = advection(
            lambda x: np.sin(2 * np.pi * x),
            bounds=[(0.0, 1.0)],
            shape=n,
            times=[0.5],
            velocity=0.5,
            **TIGHT,
        )
        hs.append(1.0 / n)
        errors.append(final_error(ds, exact))
        np.testing.assert_allclose(ds.u.sum("x").values, 0.0, atol=1e-10)  # mass
    assert abs(slope(hs, errors) - 2.0) < 0.15, errors
    ds = advection(
        lambda x: np.sin(2 * np.pi * x),
        bounds=[(0.0, 1.0)],
        shape=16,
        times=[0.5],
        velocity=0.5,
        method="spectral",
        **TIGHT,
    )
    assert final_error(ds, exact) < 1e-9


@pytest.mark.slow
def test_advection_dirichlet_inflow_converges_at_second_order():
    def exact(x, t):
        return np.sin(2 * np.pi * (x + 0.7 * t))

    def g(x, t):
        return jnp.sin(2 * jnp.pi * (x + 0.7 * t))

    hs, errors = [], []
    for n in (17, 33, 65, 129):
        # velocity < 0: the inflow boundary is the right end
        ds = advection(
            lambda x: np.sin(2 * np.pi * x),
            bounds=[(0.0, 1.0)],
            shape=n,
            times=[0.4],
            velocity=-0.7,
            boundary="dirichlet",
            boundary_value=g,
            **TIGHT,
        )
        hs.append(1.0 / (n - 1))
        errors.append(final_error(ds, exact))
    assert abs(slope(hs, errors) - 2.0) < 0.2, errors


# -- Burgers ---------------------------------------------------------------------------------

NU, A, K = 0.1, 0.5, np.pi


def cole_hopf(x, t, shift=0.0):
    r"""Exact Burgers solution from $\phi = 1 + a e^{-\nu k^2 t}\cos(kx)$, $u = -2\nu\phi_x/\phi$,
    moved to mean `shift` by Galilean invariance: $u(x - ct, t) + c$ is again a solution."""
    xi = x - shift * t
    e = A * np.exp(-NU * K**2 * t)
    return shift + 2 * NU * K * e * np.sin(K * xi) / (1 + e * np.cos(K * xi))


def test_burgers_periodic_fd_second_order_spectral_exact_and_mass_conserved():
    hs, errors = [], []
    for n in (32, 64, 128):
        ds = burgers(
            lambda x: cole_hopf(x, 0.0, 0.5),
            bounds=[(-1.0, 1.0)],
            shape=n,
            times=[0.25, 0.5],
            viscosity=NU,
            boundary="periodic",
            **TIGHT,
        )
        hs.append(2.0 / n)
        errors.append(final_error(ds, lambda x, t: cole_hopf(x, t, 0.5)))
        # the flux form conserves sum(u) h = 2 * 0.5 exactly
        np.testing.assert_allclose(ds.u.sum("x").values * 2.0 / n, 1.0, rtol=1e-10)
    assert abs(slope(hs, errors) - 2.0) < 0.15, errors
    ds = burgers(
        lambda x: cole_hopf(x, 0.0, 0.5),
        bounds=[(-1.0, 1.0)],
        shape=64,
        times=[0.5],
        viscosity=NU,
        boundary="periodic",
        method="spectral",
        **TIGHT,
    )
    assert final_error(ds, lambda x, t: cole_hopf(x, t, 0.5)) < 1e-9


@pytest.mark.slow
def test_burgers_dirichlet_fd_converges_and_matches_periodic_spectral():
    # the Cole-Hopf solution with zero mean is odd and vanishes at x = +-1
    hs, errors = [], []
    for n in (33, 65, 129, 257):
        ds = burgers(
            lambda x: cole_hopf(x, 0.0),
            bounds=[(-1.0, 1.0)],
            shape=n,
            times=[0.5],
            viscosity=NU,
            **TIGHT,
        )
        hs.append(2.0 / (n - 1))
        errors.append(final_error(ds, cole_hopf))
    assert abs(slope(hs, errors) - 2.0) < 0.15, errors
    # the Raissi initial condition: Dirichlet FD and periodic spectral solve the same problem
    common = dict(bounds=[(-1.0, 1.0)], times=[0.3], viscosity=0.05, **TIGHT)
    fd = burgers(lambda x: -np.sin(np.pi * x), shape=257, **common)
    sp = burgers(
        lambda x: -np.sin(np.pi * x), shape=128, boundary="periodic", method="spectral", **common
    )
    diff = fd.u.values[-1, :-1:2] - sp.u.values[-1]
    assert np.max(np.abs(diff)) < 2e-3


# -- wave ------------------------------------------------------------------------------------


def test_wave_dirichlet_converges_and_conserves_energy():
    def exact(x, t):
        return np.sin(np.pi * x) * np.cos(np.pi * t)

    hs, errors = [], []
    for n in (17, 33, 65):
        ds = wave(
            lambda x: np.sin(np.pi * x),
            bounds=[(0.0, 1.0)],
            shape=n,
            times=np.linspace(0.25, 1.5, 6),
            **TIGHT,
        )
        hs.append(1.0 / (n - 1))
        errors.append(final_error(ds, exact))
    assert ds.v.dims == ("time", "x")
    assert abs(slope(hs, errors) - 2.0) < 0.15, errors
    # discrete energy 1/2 sum(v^2 + c^2 (du/h)^2) h of the semi-discrete system is invariant
    h = 1.0 / (n - 1)
    u, v = ds.u.values, ds.v.values
    energy = 0.5 * (np.sum(v**2, axis=1) * h + np.sum(np.diff(u, axis=1) ** 2, axis=1) / h)
    u0 = np.sin(np.pi * ds.x.values)
    e0 = 0.5 * np.sum(np.diff(u0) ** 2) / h
    np.testing.assert_allclose(energy, e0, rtol=1e-8)
    np.testing.assert_allclose(e0, np.pi**2 / 4, rtol=1e-3)  # the continuous energy


def test_wave_periodic_spectral_travelling_and_moving_boundary_data():
    # d'Alembert: u0 = sin x, v0 = -c cos x gives the right-moving wave sin(x - c t)
    c = 2.0
    ds = wave(
        np.sin,
        initial_velocity=lambda x: -c * np.cos(x),
        speed=c,
        bounds=[(0.0, 2 * np.pi)],
        shape=16,
        times=[0.7],
        boundary="periodic",
        method="spectral",
        **TIGHT,
    )
    assert final_error(ds, lambda x, t: np.sin(x - c * t)) < 1e-9
    assert final_error(ds, lambda x, t: -c * np.cos(x - c * t), var="v") < 1e-8
    # Dirichlet data that move: u = sin(x - t) on [0, 1] (c = 1), v = u_t at the ends
    ds = wave(
        np.sin,
        initial_velocity=lambda x: -np.cos(x),
        bounds=[(0.0, 1.0)],
        shape=65,
        times=[0.5],
        boundary_value=lambda x, t: jnp.sin(x - t),
        **TIGHT,
    )
    assert final_error(ds, lambda x, t: np.sin(x - t)) < 1e-5
    np.testing.assert_allclose(ds.v.values[-1, [0, -1]], -np.cos(np.array([0.0, 1.0]) - 0.5))


# -- datasets as references ------------------------------------------------------------------


# -- Allen-Cahn -------------------------------------------------------------------------------


def test_allen_cahn_keeps_its_stationary_kink_at_second_order():
    # u = tanh(a x) with a = sqrt(kappa / (2 eps)) solves eps u'' + kappa (u - u^3) = 0
    eps, kappa = 0.01, 1.0
    a = np.sqrt(kappa / (2 * eps))
    hs, errors = [], []
    for n in (41, 81, 161):
        ds = allen_cahn(lambda x: np.tanh(a * x), bounds=[(-1.0, 1.0)], shape=n,
                        times=[0.0, 0.5], diffusivity=eps, reaction=kappa,
                        boundary="dirichlet", boundary_value=lambda x, t: jnp.tanh(a * x),
                        method="fd", **TIGHT)  # fmt: skip
        hs.append(2.0 / (n - 1))
        errors.append(final_error(ds, lambda x, t: np.tanh(a * x)))
    assert abs(slope(hs, errors) - 2.0) < 0.15, errors
    assert ds.attrs["equation"] == "allen_cahn" and ds.attrs["reaction"] == kappa


def test_allen_cahn_periodic_spectral_converges_spectrally():
    def solve(n):
        ds = allen_cahn(lambda x: 0.3 * np.sin(np.pi * x), bounds=[(-1.0, 1.0)], shape=n,
                        times=[0.0, 0.5], diffusivity=0.01, reaction=1.0, **TIGHT)  # fmt: skip
        return ds.u.isel(time=-1).values

    coarse, fine = solve(32), solve(64)[::2]
    assert np.abs(coarse - fine).max() < 1e-9
    # the reaction pushes the field to the stable states: its amplitude grows
    assert np.abs(fine).max() > 0.3
    with pytest.raises(ValueError, match="`reaction` must be a positive number"):
        allen_cahn(0.0, bounds=[(-1.0, 1.0)], shape=16, times=[0.1], reaction=0.0)


def test_space_time_solution_interpolates_dirichlet_and_periodic_datasets():
    times = np.linspace(0.0, 0.2, 41)
    ds = heat(lambda x: np.sin(np.pi * x), bounds=[(0.0, 1.0)], shape=65, times=times, **TIGHT)
    sol = space_time_solution(ds)
    assert isinstance(sol, GridSolution) and [c.size for c in sol.coords] == [65, 41]
    rng = np.random.default_rng(0)
    pts = np.column_stack([rng.uniform(0, 1, 50), rng.uniform(0, 0.2, 50)])
    truth = np.exp(-(np.pi**2) * pts[:, 1]) * np.sin(np.pi * pts[:, 0])
    # FD error ~ pi^2 h^2 / 12 ~ 2e-4, interpolation error below it
    np.testing.assert_allclose(sol(pts), truth, atol=5e-4)

    periodic = advection(
        lambda x: np.sin(2 * np.pi * x),
        bounds=[(0.0, 1.0)],
        shape=32,
        times=np.linspace(0.0, 1.0, 51),
        method="spectral",
        **TIGHT,
    )
    sol = space_time_solution(periodic)
    assert sol.coords[0][-1] == 1.0  # the wrapped node is added back
    pts = np.column_stack([rng.uniform(0, 1, 50), rng.uniform(0, 1, 50)])
    truth = np.sin(2 * np.pi * (pts[:, 0] - pts[:, 1]))
    np.testing.assert_allclose(sol(pts), truth, atol=1e-4)


def test_time_t0_offset_and_saved_initial_state():
    ds = heat(lambda x: np.sin(np.pi * x), bounds=[(0.0, 1.0)], shape=33, times=[1.0, 1.1], t0=1.0)
    np.testing.assert_allclose(ds.u.values[0], np.sin(np.pi * ds.x.values), atol=1e-12)
    assert ds.attrs["t0"] == 1.0 and ds.attrs["equation"] == "heat"


# -- errors ----------------------------------------------------------------------------------

BASE = dict(bounds=[(0.0, 1.0)], shape=17)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(times=[0.2, 0.1]), "`times` must be strictly increasing"),
        (dict(times=[0.5], t0=1.0), "must not start before the initial time `t0`"),
        (dict(times=[0.0]), "must reach past the initial time"),
        (dict(times=[]), "`times` must be a non-empty"),
        (dict(times=[0.1], t0=float("nan")), "`t0` must be a finite number"),
        (dict(times=[0.1], method="spectral"), "needs `boundary`='periodic'"),
        (dict(times=[0.1], boundary="neumann"), "`boundary` must be 'dirichlet' or 'periodic'"),
        (dict(times=[0.1], method="fem"), "`method` must be 'fd' or 'spectral'"),
        (dict(times=[0.1], diffusivity=-1.0), "`diffusivity` must be a positive number"),
        (dict(times=[0.1], shape=(17, 17)), "`shape` must be an int or one int per axis"),
        (dict(times=[0.1], shape=2), r"`shape\[0\]` must be an integer >= 3"),
        (dict(times=[0.1], boundary_value="zero"), "`boundary_value` must be a finite number"),
    ],
)
def test_heat_rejects_inconsistent_times_and_grids(kwargs, match):
    args = {**BASE, **kwargs}
    with pytest.raises(ValueError, match=match):
        heat(lambda x: np.sin(np.pi * x), **args)


def test_other_solvers_reject_bad_arguments():
    with pytest.raises(ValueError, match="one value per grid node"):
        heat(np.zeros(5), times=[0.1], **BASE)
    with pytest.raises(ValueError, match="non-finite"):
        heat(lambda x: np.nan * x, times=[0.1], **BASE)
    with pytest.raises(ValueError, match="at most 1 spatial axes"):
        burgers(0.0, bounds=[(0, 1), (0, 1)], shape=9, times=[0.1], viscosity=0.1)
    with pytest.raises(ValueError, match="`viscosity` must be a positive number"):
        burgers(0.0, times=[0.1], viscosity=0.0, **BASE)
    with pytest.raises(ValueError, match="`velocity` must be a non-zero number"):
        advection(0.0, times=[0.1], velocity=0.0, **BASE)
    with pytest.raises(ValueError, match="`speed` must be a positive number"):
        wave(0.0, times=[0.1], speed=-1.0, **BASE)
    with pytest.raises(ValueError, match=r"`bounds\[0\]` must satisfy lo < hi"):
        wave(0.0, bounds=[(1.0, 0.0)], shape=9, times=[0.1])
    with pytest.raises(RuntimeError, match="raise `max_steps`"):
        heat(lambda x: np.sin(np.pi * x), times=[1.0], max_steps=3, **BASE)
    ds = heat(lambda x: np.sin(np.pi * x), times=[0.1], **BASE)
    with pytest.raises(ValueError, match="`variable` 'v' is not in the dataset"):
        space_time_solution(ds, "v")
    with pytest.raises(ValueError, match="leading 'time' dimension with >= 2 times"):
        space_time_solution(ds)
