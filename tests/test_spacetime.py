"""Space-time problems: initial constraints, the problem files, causal weights, a short fit."""

import importlib.util
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fieldpde import SIREN, Problem
from fieldpde.constraints import Initial, Residual
from fieldpde.domains import Interval, SpaceTime, TimeInterval
from fieldpde.io import evaluate_on_grid
from fieldpde.train import Causal, fit

# exact-derivative and reference comparisons to tight tolerances: float64
pytestmark = pytest.mark.x64

ROOT = Path(__file__).resolve().parents[1]


def load(name):
    spec = importlib.util.spec_from_file_location(
        f"problem_{name}", ROOT / "problems" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def heat_module():
    return load("heat")


@pytest.fixture(scope="module")
def wave_module():
    return load("wave")


class Exact(eqx.Module):
    """The exact solution of a problem file as a field ``(..., d) -> (..., 1)``."""

    fn: object = eqx.field(static=True)

    def __call__(self, x):
        flat = x.reshape(-1, x.shape[-1])
        return jax.vmap(self.fn)(flat).reshape(*x.shape[:-1], 1)


@pytest.mark.parametrize("name", ["heat", "wave"])
def test_constraints_vanish_on_the_exact_solution(name, request, key):
    module = request.getfixturevalue(f"{name}_module")
    # heat's default field holds the initial data exactly; hard=False trains them instead
    problem = module.problem(points=256, **({"hard": False} if name == "heat" else {}))
    exact = Exact(module.exact)
    batches = problem.sample(key)
    for cname, constraint in problem.constraints.items():
        r = constraint.residual(exact, batches[cname])
        assert float(jnp.max(jnp.abs(r))) < 1e-11, cname
    # and the initial constraint is not trivially zero: a shifted field violates it
    wrong = Exact(lambda x: module.exact(x) + 0.1 * x[0])
    r = problem.constraints["initial"].residual(wrong, batches["initial"])
    assert float(jnp.max(jnp.abs(r))) > 1e-2
    # the velocity part of the wave's initial constraint sees u_t
    if name == "wave":
        moving = Exact(lambda x: module.exact(x) + x[1] * jnp.sin(jnp.pi * x[0]))
        r = problem.constraints["initial"].residual(moving, batches["initial"])
        np.testing.assert_allclose(
            r[:, 1], jnp.sin(jnp.pi * batches["initial"].points[:, 0]), atol=1e-12
        )


@pytest.mark.parametrize("name", ["burgers", "heat"])
def test_hard_fields_meet_initial_and_boundary_data_exactly(name, key):
    module = load(name)
    u = module.field(key, width=16, depth=2)
    lo, hi = (float(b[0]) for b in module.DOMAIN.bounding_box())
    x = jnp.linspace(lo, hi, 9)
    at_start = u(jnp.stack([x, jnp.zeros_like(x)], -1))[:, 0]
    expected = jax.vmap(module.initial)(x[:, None]) if name == "heat" else module.initial(x)
    np.testing.assert_allclose(at_start, expected, atol=1e-12)
    t = jnp.linspace(0.0, 1.0, 5)
    for side in (lo, hi):
        edge = u(jnp.stack([jnp.full_like(t, side), t], -1))[:, 0]
        np.testing.assert_allclose(edge, 0.0, atol=1e-12)


def test_burgers_reference_is_cached_and_matches_the_dirichlet_fd_solver(tmp_path, monkeypatch):
    burgers = load("burgers")
    monkeypatch.setenv("FIELDPDE_CACHE", str(tmp_path))
    ds = burgers.reference_dataset(modes=128, save_times=5)
    (cached,) = tmp_path.glob("burgers_*.nc")
    again = burgers.reference_dataset(modes=128, save_times=5)  # read back from the cache
    np.testing.assert_array_equal(again.u.values, ds.u.values)
    # at t = 0.25, before the shock steepens, a Dirichlet FD solution on 257 nodes agrees
    from fieldpde.reference import burgers as solve_burgers
    from fieldpde.reference import space_time_solution

    fd = solve_burgers(
        burgers.initial,
        bounds=[(-1.0, 1.0)],
        shape=257,
        times=[0.25],
        viscosity=burgers.NU,
        rtol=1e-9,
        atol=1e-11,
    )
    sol = space_time_solution(again)
    pts = np.stack([fd.x.values, np.full(257, 0.25)], -1)
    np.testing.assert_allclose(sol(pts), fd.u.values[0], atol=5e-3)
    assert cached.exists()


# -- causal weights --------------------------------------------------------------------------

CYL = SpaceTime(Interval(0.0, 1.0), TimeInterval(0.0, 2.0))


def test_causal_chunk_losses_and_weights_match_the_formula(key):
    pde = Residual(lambda x, d: d.value[0] - 1.0, CYL, num_points=512, method="uniform")
    causal = Causal(epsilon=3.0, chunks=4)
    batch = pde.sample(key)
    # u = t: the residual is t - 1, so chunk i holds the mean of (t - 1)^2 over its points
    field = lambda x: x[..., 1:2]  # noqa: E731
    chunk, weights = causal.chunk_losses(pde, field, batch)
    t = np.asarray(batch.points[:, 1])
    idx = np.minimum((t / 2.0 * 4).astype(int), 3)
    expected = np.array([np.mean((t[idx == i] - 1.0) ** 2) for i in range(4)])
    np.testing.assert_allclose(chunk, expected, rtol=1e-12)
    cum = np.concatenate([[0.0], np.cumsum(expected)[:-1]])
    np.testing.assert_allclose(weights, np.exp(-3.0 * cum), rtol=1e-12)
    loss = causal.loss(pde, field, batch)
    np.testing.assert_allclose(loss, CYL.measure * np.mean(np.exp(-3.0 * cum) * expected))


def test_causal_loss_under_jit_vmap_grad_treats_weights_as_constants(key):
    pde = Residual(lambda x, d: d.grad[0, 1] - d.laplacian[0], CYL, laplacian_dims=(0,))
    causal = Causal(epsilon=1.0, chunks=8)
    batch = pde.sample(key)
    net = SIREN.init(2, 8, 1, depth=2, key=key)
    grads = jax.jit(jax.grad(lambda n: causal.loss(pde, n, batch)))(net)

    def frozen(n):  # the same loss with the weights computed outside differentiation
        chunk, _ = causal.chunk_losses(pde, n, batch)
        _, w = causal.chunk_losses(pde, net, batch)
        return CYL.measure * jnp.mean(w * chunk)

    expected = jax.grad(frozen)(net)
    for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)
    # an ensemble of fields: vmap over members gives each member's own causal loss
    nets = eqx.filter_vmap(lambda k: SIREN.init(2, 8, 1, depth=2, key=k, first_omega=2.0))(
        jax.random.split(key, 3)
    )
    losses = eqx.filter_vmap(lambda n: causal.loss(pde, n, batch))(nets)
    for i in range(3):
        member = jax.tree.map(lambda a, i=i: a[i] if eqx.is_array(a) else a, nets)
        np.testing.assert_allclose(losses[i], causal.loss(pde, member, batch), rtol=1e-12)


def test_causal_selects_space_time_residuals_and_rejects_bad_settings():
    pde = Residual(lambda x, d: d.grad[0, 1], CYL)
    ic = Initial(0.0, CYL)
    problem = Problem({"pde": pde, "ic": ic})
    assert Causal().select(problem) == ("pde",)
    assert Causal(constraints=("pde", "ic")).select(problem) == ("pde", "ic")
    with pytest.raises(ValueError, match="`epsilon` must be > 0"):
        Causal(epsilon=0.0)
    with pytest.raises(ValueError, match="`chunks` must be an integer >= 1"):
        Causal(chunks=0)
    with pytest.raises(ValueError, match="'bc', which is not one of the problem's"):
        Causal(constraints=("bc",)).select(problem)
    flat = Problem({"pde": Residual(lambda x, d: d.value[0], Interval(0.0, 1.0))})
    with pytest.raises(ValueError, match="needs a PDE residual on a SpaceTime domain"):
        Causal().select(flat)
    with pytest.raises(TypeError, match="causal weights need a constraint on a SpaceTime"):
        Causal(constraints=("pde",)).select(flat)


def test_causal_weights_a_parametric_space_time_residual_by_its_own_time():
    from fieldpde.constraints import WithParameters
    from fieldpde.domains import Box

    pde = Residual(lambda x, d: d.value[0] - 1.0, CYL, num_points=256, method="uniform")
    wrapped = WithParameters(pde, Box([5.0], [6.0]), space_dim=2)
    batch = wrapped.sample(jax.random.key(0))
    # the time is coordinate 1 of (x, t, mu), not the trailing mu
    np.testing.assert_array_equal(wrapped.times(batch), batch.points[:, 1])
    assert wrapped.time_span == (0.0, 2.0)
    chunk, _ = Causal(chunks=4).chunk_losses(wrapped, lambda p: p[..., 1:2], batch)
    assert chunk.shape == (4,) and bool(jnp.all(chunk > 0))


# -- a short space-time fit ------------------------------------------------------------------


def test_short_space_time_fit_end_to_end_with_and_without_causal_weights(heat_module):
    problem = heat_module.problem(points=256)
    field = heat_module.field(jax.random.key(0), width=16, depth=2)
    errors = {}
    for causal in (None, Causal(epsilon=1.0, chunks=8)):
        result = fit(
            problem,
            field,
            key=jax.random.key(1),
            steps=300,
            learning_rate=5e-3,
            lbfgs_steps=100,
            causal=causal,
            progress=False,
        )
        assert result.status == "completed"
        ds = evaluate_on_grid(problem, result.field, shape=(21, 11))
        errors[causal is None] = ds.attrs["relative_l2"]
    initial_error = evaluate_on_grid(problem, field, shape=(21, 11)).attrs["relative_l2"]
    assert ds.u.dims == ("time", "x") and ds.sizes == {"time": 11, "x": 21}
    # 400 steps on a 16-wide network: from O(1) down to under 15% either way (measured:
    # 6e-2 plain, 9e-2 causal)
    assert initial_error > 0.3
    assert errors[True] < 0.15 and errors[False] < 0.15, errors
    with pytest.raises(TypeError, match="`causal` must be a Causal instance"):
        fit(problem, field, key=jax.random.key(1), steps=1, causal=1.0, progress=False)


def test_heat_problem_solves_through_the_cli(tmp_path):
    from fieldpde.app import run

    out = run(ROOT / "problems" / "heat.py", steps=50, lbfgs_steps=10, points=128, grid=17,
              out=tmp_path, progress=False)  # fmt: skip
    import xarray as xr

    with xr.open_dataset(out.netcdf) as ds:
        assert set(ds.data_vars) == {"u", "reference", "error"}
        assert ds.u.dims == ("time", "x")
    assert np.isfinite(out.relative_l2)
