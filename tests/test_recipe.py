"""The default recipe: a problem file that states only the physics is solved, saved, reloaded."""

import textwrap
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

from fieldpde.app import Settings, choose, load_problem_file, load_solution, run
from fieldpde.cli import main

pytestmark = pytest.mark.x64

# -u'' = pi^2 sin(pi x) on [0, 1] with u(0) = u(1) = 0: u = sin(pi x).
PHYSICS_ONLY = textwrap.dedent(
    """
    import jax.numpy as jnp
    from fieldpde import Problem
    from fieldpde.constraints import Dirichlet, Residual
    from fieldpde.domains import Box

    LINE = Box([0.0], [1.0])

    def problem(points: int = 64) -> Problem:
        pde = Residual(lambda x, d: -d.laplacian - jnp.pi**2 * jnp.sin(jnp.pi * x[0]), LINE,
                       num_points=points)
        return Problem({"pde": pde, "bc": Dirichlet(0.0, LINE)}, domain=LINE,
                       exact=lambda x: jnp.sin(jnp.pi * x[0]), name="line")
    """
)


@pytest.fixture
def physics_file(tmp_path):
    path = tmp_path / "line.py"
    path.write_text(PHYSICS_ONLY)
    return path


def stand_in(problem, path):
    """A problem file as `choose` reads it: its `path`, no `field`, and `problem()`."""
    return SimpleNamespace(path=path, field=None, problem=lambda points=None: problem)


def test_a_file_with_only_problem_is_solved_saved_and_reloaded(physics_file, tmp_path):
    r = run(
        physics_file,
        steps=300,
        lbfgs_steps=100,
        width=16,
        depth=3,
        grid=33,
        out=tmp_path / "out",
        progress=False,
        verbose=False,
    )
    # Hard Dirichlet data, a 16x3 SIREN on [-1, 1]: well below 1e-3 of a sine in 400 steps.
    assert r.status == "completed" and r.relative_l2 < 1e-3
    assert r.plan.hard == ("bc",)
    ds = xr.open_dataset(r.netcdf)
    assert ds.attrs["recipe_network"] == "siren 16x3"
    assert ds.attrs["saved_field"] == "line.eqx"
    field, meta = load_solution(r.saved)
    x = jnp.linspace(0.0, 1.0, 17)[:, None]
    np.testing.assert_array_equal(np.asarray(field(x)), np.asarray(r.result.field(x)))
    assert meta["problem"] == "line" and meta["architecture"]["width"] == 16
    assert abs(float(field(jnp.zeros((1, 1)))[0, 0])) < 1e-12  # the hard zero survives


def test_predict_evaluates_a_saved_solution(physics_file, tmp_path):
    r = run(physics_file, steps=5, lbfgs_steps=0, width=8, depth=2, grid=5,
            out=tmp_path / "out", progress=False, verbose=False)  # fmt: skip
    out = tmp_path / "fine.nc"
    assert main(["predict", str(r.saved), "--out", str(out), "--grid", "9"]) == 0
    ds = xr.open_dataset(out)
    x = jnp.asarray(ds["x"].values)[:, None]
    field, _ = load_solution(r.saved)
    name = next(iter(ds.data_vars))
    np.testing.assert_allclose(ds[name].values.ravel(), np.asarray(field(x)).ravel(), rtol=1e-6)


def test_settings_override_the_recipe_and_are_checked(physics_file):
    pf = load_problem_file(physics_file)
    plan = choose(pf, Settings(width=24, depth=2, omega=(5.0,), hard=False))
    assert plan.hard == () and plan.choices["network"] == "siren 24x2"
    assert plan.settings.omega == (5.0,) and "bc" in plan.train_problem.constraints
    net = plan.build(jax.random.key(0), jnp.float64)
    assert net.network.layers[0].omega == 5.0
    with pytest.raises(ValueError, match="`omega` gives 2 frequencies but the domain has 1"):
        choose(pf, Settings(omega=(3.0, 4.0)))


def test_a_time_axis_where_nothing_oscillates_gets_the_base_frequency():
    # The heat problem of the issue: sin(20 pi x) sin(pi y) initial data, t in [0, 5].
    from fieldpde import Problem
    from fieldpde.constraints import Dirichlet, Initial, Residual
    from fieldpde.domains import Box, SpaceTime, TimeInterval

    cyl = SpaceTime(Box([0.0, 0.0], [1.0, 1.0]), TimeInterval(0.0, 5.0))
    p = Problem(
        {
            "pde": Residual(lambda x, d: d.grad[0, 2] - d.laplacian, cyl, laplacian_dims=(0, 1)),
            "ic": Initial(lambda x: jnp.sin(20 * jnp.pi * x[0]) * jnp.sin(jnp.pi * x[1]), cyl),
            "walls": Dirichlet(0.0, cyl, part="lateral"),
        },
        domain=cyl,
    )

    plan = choose(stand_in(p, "heat.py"), Settings(steps=1, lbfgs_steps=0))
    kx, ky, kt = plan.settings.omega
    # rms wavenumbers 20 pi and pi on the unit box mapped to [-1, 1]: 10 pi and pi / 2,
    # the latter below the base frequency 3; nothing along time.
    assert 0.85 * 10 * np.pi < kx < 1.1 * 10 * np.pi and ky == 3.0 and kt == 3.0
    assert plan.hard == ("ic", "walls") and plan.choices["network"].startswith("siren")


def test_a_reentrant_corner_gets_a_weighted_distance_or_soft_data():
    # The L-shape's inner corner: u ~ r^(2/3) while a distance vanishes like r, so the hard
    # field's distance is weighted there (SingularCorners); with Neumann data on part of
    # the boundary the weighting does not apply and the Dirichlet data stay soft.
    from fieldpde import Problem
    from fieldpde.constraints import Dirichlet, Neumann, Residual, SingularCorners

    pf = load_problem_file("poisson_lshape")
    plan = choose(pf, Settings(steps=1, lbfgs_steps=0))
    assert plan.hard == ("bc",) and "like the solution at (0, 0)" in plan.choices["hard"]
    assert isinstance(plan.build(jax.random.key(0), jnp.float64).distance, SingularCorners)
    assert choose(load_problem_file("poisson_2d_c"), Settings(steps=1)).hard == ("sides", "holes")
    domain = pf.module.DOMAIN
    mixed = Problem(
        {
            "pde": Residual(lambda x, d: d.laplacian + 1.0, domain),
            "wall": Dirichlet(0.0, domain, part=("edge0", "edge1", "edge2", "edge3")),
            "free": Neumann(0.0, domain, part=("edge4", "edge5")),
        },
        domain=domain,
    )

    plan = choose(stand_in(mixed, "mixed.py"), Settings(steps=1, lbfgs_steps=0))
    assert plan.hard == () and "do not cover the whole boundary" in plan.choices["hard"]


def test_the_second_phase_is_ssbroyden_in_float64_and_lbfgs_otherwise(physics_file):
    from fieldpde.app._recipe import DENSE_MAX, parameter_count
    from fieldpde.train import SSBroyden

    pf = load_problem_file(physics_file)
    plan = choose(pf, Settings(steps=10, lbfgs_steps=7))
    adam, second = plan.settings.phases
    # float64 by default, a 32x4 SIREN (four layers: 2209 parameters in 1-D), SSBroyden on
    # twice the points
    assert plan.settings.x64 and plan.choices["network"] == "siren 32x4"
    assert isinstance(second, SSBroyden) and (adam.steps, second.steps) == (10, 7)
    assert second.points == 2 * plan.settings.points
    template = plan.build(jax.random.key(0), jnp.float64)
    assert parameter_count(template) == (1 * 32 + 32) + 2 * (32 * 32 + 32) + (32 + 1)
    # float32, or a network whose dense inverse Hessian would be too large: L-BFGS
    for settings in (Settings(x64=False), Settings(width=96)):
        plan = choose(pf, settings)
        assert plan.settings.phases is None and plan.settings.lbfgs_steps == 4000
        assert "L-BFGS" in plan.choices["phases"]
    assert (
        parameter_count(choose(pf, Settings(width=96)).build(jax.random.key(0), None)) > DENSE_MAX
    )
    assert choose(pf, Settings(x64=False)).choices["network"] == "siren 64x4"
