"""Systems of PDEs: per-component boundary data and hard constraints, the pressure gauge,
residuals of several equations reported one by one, and named outputs through to netCDF."""

import importlib.util
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fieldpde import SIREN, Problem, ops
from fieldpde.constraints import Dirichlet, Gauge, HardDirichlet, Neumann, Residual
from fieldpde.domains import Box
from fieldpde.problem import enforce_hard
from fieldpde.train import Adam, InitialNormalization, fit

BOX = Box([0.0, 0.0], [1.0, 1.0])


def _problem_module(name):
    path = Path(__file__).resolve().parents[1] / "problems" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_problem_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _uvp(key):
    return SIREN.init(2, 16, 3, depth=3, key=key, first_omega=3.0, hidden_omega=3.0)


@pytest.mark.x64
def test_per_component_hard_field_holds_the_velocity_exactly_and_leaves_pressure_free(key):
    net = _uvp(key)
    g = lambda x: jnp.stack([jnp.sin(x[0]) + x[1], x[0] * x[1]])  # noqa: E731
    field = HardDirichlet.on(BOX, net, boundary=g, components=(0, 1))
    t = jnp.linspace(0.0, 1.0, 7)
    edge = jnp.concatenate(
        [jnp.stack([t, 0 * t], 1), jnp.stack([t, 1 + 0 * t], 1), jnp.stack([0 * t, t], 1)]
    )
    out = eqx.filter_jit(lambda f, e: f(e))(field, edge)
    want = jax.vmap(g)(edge)
    np.testing.assert_array_equal(out[:, :2], want)  # D is exactly 0 on the faces
    # the pressure is the network's own output, not pinned on the wall
    assert np.array_equal(out[:, 2], net(edge)[:, 2])
    assert float(jnp.std(out[:, 2])) > 1e-3
    # the one-pass derivatives of the per-component field agree with autodiff
    x = jnp.array([[0.3, 0.4], [0.7, 0.2]])
    fast = eqx.filter_jit(ops.value_grad_laplacian)(field, x)
    slow = eqx.filter_jit(ops.value_grad_laplacian)(field, x, method="autodiff")
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.x64
def test_enforce_hard_moves_component_dirichlet_data_into_the_field(key):
    problem = Problem(
        {
            "pde": Residual(lambda x, d: d.laplacian, BOX),
            "walls": Dirichlet(lambda x: jnp.stack([x[1], 0.0 * x[0]]), BOX, components=(0, 1)),
            "gauge": Gauge(BOX, component=2, point=(0.0, 0.0)),
        },
        outputs=("u", "v", "p"),
    )
    split = enforce_hard(problem, _uvp(key))
    assert split.hard == ("walls",)
    assert sorted(split.problem.constraints) == ["gauge", "pde"]
    assert split.problem.outputs == ("u", "v", "p")
    pts = BOX.sample_boundary(64, key=key)[0]
    np.testing.assert_allclose(split.field(pts)[:, :2], jnp.stack([pts[:, 1], 0 * pts[:, 0]], 1),
                               atol=1e-12)  # fmt: skip
    wall = split.problem.constraints["gauge"].loss(split.field, Gauge(BOX, component=2,
        point=(0.0, 0.0)).sample(key))  # fmt: skip
    assert float(wall) > 0  # the pressure is not held at the corner: the gauge trains it


def test_enforce_hard_refuses_hard_data_on_different_components(key):
    problem = Problem(
        {
            "pde": Residual(lambda x, d: d.laplacian, BOX),
            "velocity": Dirichlet(0.0, BOX, part="xmin", components=(0, 1)),
            "pressure": Dirichlet(0.0, BOX, part="xmax", components=(2,)),
        }
    )
    with pytest.raises(ValueError, match="different output components"):
        enforce_hard(problem, _uvp(key))


def test_component_dirichlet_and_neumann_see_only_their_components(key):
    uvp = lambda x: jnp.stack([x[..., 0], 2.0 * x[..., 1], 5.0 + x[..., 0] ** 2], -1)  # noqa: E731
    bc = Dirichlet(lambda x: jnp.stack([x[0], 2.0 * x[1]]), BOX, components=(0, 1))
    assert float(bc.loss(uvp, bc.sample(key))) == 0.0
    p_only = Dirichlet(5.0, BOX, components=2, part="xmin")
    assert float(p_only.loss(uvp, p_only.sample(key))) == 0.0
    assert float(Dirichlet(0.0, BOX, components=2).loss(uvp, bc.sample(key))) > 1.0
    # du/dn on x = 1 is 1, dv/dn is 0 there
    flux = Neumann(lambda x: jnp.array([1.0, 0.0]), BOX, part="xmax", components=(0, 1))
    assert float(flux.loss(uvp, flux.sample(key))) < 1e-12
    with pytest.raises(ValueError, match="name outputs the field lacks"):
        Dirichlet(0.0, BOX, components=(3,)).loss(uvp, bc.sample(key))
    with pytest.raises(ValueError, match="distinct output indices"):
        Dirichlet(0.0, BOX, components=(1, 1))


class _Shifted(eqx.Module):
    """The Kovasznay pressure plus a trainable constant."""

    c: jax.Array

    def __call__(self, x):
        return jax.vmap(lambda p: self.c + 0.5 * (1.0 - jnp.exp(2.0 * p[0])))(
            x.reshape(-1, 2)
        ).reshape(x.shape[:-1] + (1,))


@pytest.mark.parametrize("point", [(0.0, 0.0), None])
def test_the_gauge_fixes_the_pressure_constant(key, point):
    p = lambda x: 0.5 * (1.0 - jnp.exp(2.0 * x[0]))  # noqa: E731
    grad_only = Residual(lambda x, d: d.grad[0] - jnp.array([-jnp.exp(2.0 * x[0]), 0.0]), BOX,
                         num_points=64)  # fmt: skip
    target = p(jnp.zeros(2)) if point is not None else 0.0
    gauge = Gauge(BOX, component=0, point=point, value=float(target), num_points=4096)
    batch = gauge.sample(key)
    # p + c solves grad p = f for every c: only the gauge tells them apart
    for c in (0.0, 0.3):
        assert float(grad_only.loss(_Shifted(jnp.asarray(c)), grad_only.sample(key))) < 1e-10
    mean = float(jnp.mean(jax.vmap(p)(batch.points))) if point is None else 0.0
    field = _Shifted(jnp.asarray(0.7 - mean))
    result = fit(Problem({"pde": grad_only, "gauge": gauge}), field,
                 phases=(Adam(300, learning_rate=0.05),), key=key, progress=False)  # fmt: skip
    got = float(result.field.c)
    assert abs(got - (-mean if point is None else 0.0)) < 1e-3, got


@pytest.mark.x64
def test_each_kovasznay_equation_vanishes_on_the_exact_flow(key):
    kov = _problem_module("kovasznay")
    problem = kov.problem(points=512)
    pde = problem.constraints["pde"]
    exact = lambda x: jax.vmap(kov.exact)(x.reshape(-1, 2)).reshape(x.shape[:-1] + (3,))  # noqa: E731
    batch = pde.sample(key)
    residual = pde.residual(exact, batch)
    assert residual.shape == (512, 3)
    assert float(jnp.max(jnp.abs(residual))) < 1e-10
    # a wrong viscosity leaves the momentum equations unbalanced, not continuity
    wrong = jax.vmap(kov.navier_stokes(nu=0.06))(
        batch.points, ops.value_grad_laplacian(exact, batch.points)
    )
    assert (
        float(jnp.max(jnp.abs(wrong[:, :2]))) > 1e-2
        and float(jnp.max(jnp.abs(wrong[:, 2]))) < 1e-10
    )
    for name, c in problem.constraints.items():
        assert float(c.loss(exact, c.sample(key))) < 1e-20, name


@pytest.mark.parametrize("balancing", [None, InitialNormalization()])
def test_equations_are_reported_one_by_one_and_sum_to_the_loss(key, balancing):
    kov = _problem_module("kovasznay")
    problem = kov.problem(points=64)
    result = fit(problem, _uvp(key), phases=(Adam(5, learning_rate=1e-3),), key=key,
                 progress=False, balancing=balancing)  # fmt: skip
    names = ["pde[momentum_x]", "pde[momentum_y]", "pde[continuity]", "walls", "gauge"]
    h = result.history
    assert all(n in h for n in names), sorted(h)
    assert "pde" not in h
    np.testing.assert_allclose(sum(h[n] for n in names), h["loss"], rtol=1e-5)


def test_equation_weights_and_bad_equations():
    two = lambda x, d: jnp.stack([d.value[0] - 1.0, d.value[1] - 1.0])  # noqa: E731
    pde = Residual(two, BOX, num_points=16, equations={"a": 1.0, "b": 9.0})
    zero = lambda x: jnp.zeros(x.shape[:-1] + (2,))  # noqa: E731
    batch = pde.sample(jax.random.key(0))
    parts = pde.equation_losses(zero, batch)
    assert {k: round(float(v), 6) for k, v in parts.items()} == {"a": 1.0, "b": 9.0}
    assert float(pde.loss(zero, batch)) == pytest.approx(10.0)
    with pytest.raises(ValueError, match="'l2' norm"):
        Residual(two, BOX, equations=("a", "b"), norm="l2")
    with pytest.raises(ValueError, match="distinct"):
        Residual(two, BOX, equations=("a", "a"))
    with pytest.raises(ValueError, match="returns 2 value"):
        Residual(two, BOX, equations=("a", "b", "c")).residual(zero, batch)


def test_named_outputs_reach_the_netcdf_variables(tmp_path):
    from fieldpde.app._output import write_netcdf
    from fieldpde.io import evaluate_on_grid

    xr = pytest.importorskip("xarray")
    kov = _problem_module("kovasznay")
    problem = kov.problem(points=64)
    exact = lambda x: jax.vmap(kov.exact)(x)  # noqa: E731
    ds = evaluate_on_grid(problem, exact, shape=(5, 6))
    path = write_netcdf(ds, tmp_path / "k.nc")
    back = xr.open_dataset(path)
    assert {"u", "v", "p", "u_reference", "p_error"} <= set(back.data_vars)
    assert back["p"].dims == ("y", "x") and back.attrs["relative_l2_v"] < 1e-6


@pytest.mark.x64
def test_stokes_equations_vanish_on_its_exact_flow(key):
    stokes = _problem_module("stokes")
    problem = stokes.problem(points=256)
    exact = lambda x: jax.vmap(stokes.exact)(x.reshape(-1, 2)).reshape(x.shape[:-1] + (3,))  # noqa: E731
    for name in ("pde", "walls"):
        c = problem.constraints[name]
        assert float(eqx.filter_jit(c.loss)(exact, c.sample(key))) < 1e-20, name
    # the pressure's mean over the square is 0: the mean gauge holds up to sampling error
    gauge = problem.constraints["gauge"].with_num_points(4096)
    assert float(gauge.loss(exact, gauge.sample(key))) < 1e-6


def test_lid_driven_cavity_is_hard_on_the_velocity_and_reads_its_reference(key):
    from fieldpde.app import Settings, choose, load_problem_file

    plan = choose(load_problem_file("lid_driven_cavity"), Settings(points=64))
    assert plan.hard == ("lid", "walls")
    assert sorted(plan.train_problem.constraints) == ["gauge", "pde"]
    field = plan.build(key, None)
    top = jnp.array([[0.25, 1.0], [0.5, 1.0], [0.0, 0.3]])
    np.testing.assert_allclose(field(top)[:, :2], [[0.75, 0.0], [1.0, 0.0], [0.0, 0.0]],
                               atol=1e-6)  # fmt: skip
    ref = plan.problem.reference
    if ref is not None:
        assert ref.values.shape == (10201, 3) and ref.variables == ("u", "v", "p")


def test_node_table_scores_chosen_components():
    from fieldpde.reference import NodeTable

    nodes = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    table = NodeTable(nodes, np.array([[1.0, 0.0, 5.0], [0.0, 1.0, 5.0], [1.0, 1.0, 5.0]]))
    wrong_p = lambda p: np.column_stack([table.values[:, :2], np.zeros(3)])  # noqa: E731
    assert table.relative_l2(wrong_p, components=(0, 1)) == 0.0
    assert table.relative_l2(wrong_p) > 0.5


def test_gauge_errors_name_the_argument(key):
    with pytest.raises(ValueError, match="`component` of Gauge"):
        Gauge(BOX, component=-1)
    with pytest.raises(ValueError, match="`point` of Gauge must have 2 coordinates"):
        Gauge(BOX, component=0, point=(0.0,))
    one = lambda x: jnp.ones(x.shape[:-1] + (1,))  # noqa: E731
    gauge = Gauge(BOX, component=2, point=(0.0, 0.0))
    with pytest.raises(ValueError, match="names an output the field lacks"):
        gauge.loss(one, gauge.sample(key))
    assert gauge.with_num_points(64).num_points == 1
    assert Gauge(BOX, component=0).with_num_points(64).num_points == 64


@pytest.mark.slow  # about 9 s alone, more on a loaded machine: the whole solve path
def test_solve_writes_named_flow_variables_and_the_flow_figure(tmp_path):
    from fieldpde.app import Settings, run

    xr = pytest.importorskip("xarray")
    tiny = Settings(steps=2, lbfgs_steps=0, points=16, grid=5, width=8, depth=2, omega=3.0)
    r = run("kovasznay", settings=tiny, out=tmp_path, progress=False, verbose=False)
    assert r.status == "completed" and r.plan.hard == ("walls",)
    back = xr.open_dataset(r.netcdf)
    assert {"u", "v", "p", "u_error", "v_error", "p_error"} <= set(back.data_vars)
    assert back.attrs["outputs"] == "u, v, p"
    assert r.png is not None and r.png.stat().st_size > 1000
    assert {"pde[momentum_x]", "pde[continuity]", "gauge"} <= set(r.result.history)
