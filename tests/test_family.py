"""Parametric-family tooling: the separable surrogate, its cached grid query, the shared
script helpers (held-out errors, query timing, save/load) and the Poisson family."""

import importlib.util
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import tree_allclose

from fieldpde import SIREN
from fieldpde.app import grid_points, held_out_errors, load_surrogate, save_surrogate, time_query
from fieldpde.constraints import (
    BoxDistance,
    Dirichlet,
    Residual,
    WithParameterPairs,
    WithParameters,
)
from fieldpde.domains import Box
from fieldpde.nn import BasisSurrogate, GridQuery
from fieldpde.ops import value_grad_laplacian
from fieldpde.problem import ParametricProblem
from fieldpde.reference import GridSolution, poisson_fd
from fieldpde.train import fit

# separable-form and pair-derivative identities to 1e-12: float64
pytestmark = pytest.mark.x64
SQUARE = Box([-1.0, -1.0], [1.0, 1.0])
ROOT = Path(__file__).resolve().parent.parent


def _model(key, *, boundary=None, dtype=None):
    return BasisSurrogate.init(
        2,
        16,
        1,
        depth=3,
        rank=5,
        mu_lo=[0.5, -1.0],
        mu_hi=[2.0, 1.0],
        distance=BoxDistance(SQUARE.lo, SQUARE.hi),
        boundary=boundary,
        key=key,
        first_omega=3.0,
        hidden_omega=3.0,
        dtype=dtype,
    )


def _points(key, n=9):
    kx, km = jax.random.split(key)
    x = jax.random.uniform(kx, (n, 2), minval=-1.0, maxval=1.0)
    mu = jax.random.uniform(km, (n, 2), minval=jnp.array([0.5, -1.0]), maxval=jnp.array([2, 1]))
    return jnp.concatenate([x, mu], axis=1)


# eager op-by-op dispatch of these small models costs seconds; compile each call once
_call = eqx.filter_jit(lambda f, *args: f(*args))
_vgl = eqx.filter_jit(value_grad_laplacian)


def _load_script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "problems" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- BasisSurrogate -----------------------------------------------------------------------


def test_basis_surrogate_is_the_separable_form(key):
    lift = lambda x: 1.0 + x[0] * x[1]  # noqa: E731
    model = _model(key, boundary=lift)
    p = _points(jax.random.key(1))
    x, mu = p[:, :2], p[:, 2:]
    psi = _call(model.basis, x)
    K = _call(model.coefficients, mu)
    assert psi.shape == (9, 6) and K.shape == (9, 6, 1)
    # psi = D [phi, 1]: its last column is the distance itself
    D = jax.vmap(BoxDistance(SQUARE.lo, SQUARE.hi))(x)
    assert np.allclose(psi[:, -1], D, atol=1e-15)
    expected = 1.0 + x[:, :1] * x[:, 1:] + jnp.einsum("nr,nrm->nm", psi, K)
    assert np.allclose(_call(model, p), expected, atol=1e-14)
    # the coefficient net sees mu mapped to [-1, 1]^P; its output is [C; c] row-major
    lo, hi = jnp.array(model.mu_lo), jnp.array(model.mu_hi)
    raw = model.nif.parameter_net(2 * (mu[0] - lo) / (hi - lo) - 1)
    assert np.allclose(K[0], raw.reshape(6, 1), atol=1e-15)
    # the hard constraint: u = g on every wall, for any mu
    walls = jnp.array([[-1.0, 0.3, 1.2, 0.1], [0.4, 1.0, 0.7, -0.9], [1.0, -1.0, 2.0, 1.0]])
    assert np.allclose(_call(model, walls)[:, 0], jax.vmap(lift)(walls[:, :2]), atol=1e-14)
    # a single point and a batch agree
    assert np.allclose(_call(model, p[3]), _call(model, p)[3], atol=1e-14)


def test_forward_laplacian_matches_autodiff(key):
    model = _model(key, boundary=lambda x: jnp.sin(x[0]) * x[1] ** 2)
    p = _points(jax.random.key(2))
    # space derivatives only (what WithParameters asks for): the separable fast path
    fast = _vgl(model, p, dims=(0, 1), method="forward")
    slow = _vgl(model, p, dims=(0, 1), method="autodiff")
    for a, b in zip(fast, slow, strict=True):
        assert np.allclose(a, b, atol=1e-12, rtol=1e-12)
    # derivatives along mu as well: the general path, still exact
    fast = _vgl(model, p, method="forward")
    slow = _vgl(model, p, method="autodiff")
    for a, b in zip(fast, slow, strict=True):
        assert np.allclose(a, b, atol=1e-12, rtol=1e-12)


def test_basis_surrogate_through_jit_vmap_grad(key):
    model = _model(key)
    p = _points(jax.random.key(3))
    assert np.allclose(eqx.filter_jit(lambda m, q: m(q))(model, p), model(p), atol=1e-14)
    assert np.allclose(jax.vmap(model)(p), model(p), atol=1e-14)
    grads = eqx.filter_grad(lambda m: jnp.sum(m(p) ** 2))(model)
    leaves = jax.tree.leaves(eqx.filter(grads, eqx.is_array))
    assert leaves and all(np.all(np.isfinite(g)) for g in leaves)
    assert any(float(jnp.max(jnp.abs(g))) > 0 for g in leaves)


def test_grid_query_equals_the_uncached_model(key):
    model = _model(key, boundary=lambda x: x[0] + 2.0)
    x = jnp.asarray(grid_points([(-1.0, 1.0), (-1.0, 1.0)], 17))
    query = _call(model.on_grid, x)
    assert isinstance(query, GridQuery) and query.basis.shape == (17**2, 6)
    mus = jnp.array([[0.6, -0.3], [1.9, 0.8], [1.2, 0.0]])
    for mu in mus:
        full = _call(model, jnp.concatenate([x, jnp.broadcast_to(mu, (x.shape[0], 2))], axis=1))
        assert np.allclose(_call(query, mu), full, atol=1e-13, rtol=0)
    batch = _call(query, mus)
    assert batch.shape == (3, 17**2, 1)
    assert np.allclose(batch[1], _call(query, mus[1]), atol=1e-14)
    # a grid kept in its (n, n, d) shape answers in that shape
    assert _call(model.on_grid, x.reshape(17, 17, 2))(mus[0]).shape == (17, 17, 1)
    # float32 and jitted, as the benchmark runs it: same values to float32 rounding
    m32 = _model(key, dtype=jnp.float32)
    x32, mu32 = x.astype(jnp.float32), mus[0].astype(jnp.float32)
    q32 = eqx.filter_jit(lambda m, pts: m.on_grid(pts))(m32, x32)
    got = eqx.filter_jit(lambda q, mu: q(mu))(q32, mu32)
    want = _call(m32, jnp.concatenate([x32, jnp.broadcast_to(mu32, (x.shape[0], 2))], axis=1))
    assert got.dtype == jnp.float32
    assert float(jnp.max(jnp.abs(got - want))) <= 1e-5 * float(jnp.max(jnp.abs(want)))


def test_surrogate_errors_name_the_argument(key):
    model = _model(key)
    with pytest.raises(TypeError, match="`nif` must be a LastLayerNIF"):
        BasisSurrogate(SIREN.init(2, 4, 1, depth=2, key=key), space_dim=2, mu_lo=0, mu_hi=1)
    with pytest.raises(ValueError, match="`mu_lo` and `mu_hi`"):
        BasisSurrogate(model.nif, space_dim=2, mu_lo=[1.0, 0.0], mu_hi=[0.5, 1.0])
    with pytest.raises(TypeError, match="`distance` must be callable"):
        BasisSurrogate(model.nif, space_dim=2, mu_lo=[0, 0], mu_hi=[1, 1], distance=2.0)
    with pytest.raises(ValueError, match="`p` passed to BasisSurrogate must have last axis 4"):
        model(jnp.zeros((3, 3)))
    with pytest.raises(ValueError, match="`x` passed to BasisSurrogate.on_grid"):
        model.on_grid(jnp.zeros((5, 3)))
    query = model.on_grid(jnp.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"`mu` passed to GridQuery must have shape \(P,\)"):
        query(jnp.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="`mu` passed to BasisSurrogate.coefficients"):
        query(jnp.zeros(3))


def test_physics_informed_basis_surrogate_learns_a_family(key):
    # -u'' = mu on [0, 1], u(0) = u(1) = 0: u = mu x (1 - x) / 2, exactly rank one
    line = Box([0.0], [1.0])
    family = ParametricProblem(
        [Residual(lambda p, d: d.laplacian + p[1], line, num_points=128)],
        parameters=Box([1.0], [3.0]),
        exact=lambda x, mu: mu[0] * x[0] * (1.0 - x[0]) / 2.0,
    )
    model = BasisSurrogate.init(
        1,
        16,
        1,
        depth=3,
        rank=3,
        mu_lo=[1.0],
        mu_hi=[3.0],
        distance=BoxDistance((0.0,), (1.0,)),
        parameter_hidden=16,
        key=key,
        first_omega=2.0,
        hidden_omega=2.0,
    )
    result = fit(family.problem, model, key=key, steps=600, learning_rate=5e-3, progress=False)
    assert result.ok
    x = jnp.linspace(0.0, 1.0, 41)[:, None]
    # a field ignoring mu (the mu = 2 solution) would be 40% and 31% off at these values
    for mu in (1.2, 2.9):
        assert family.relative_l2(result.field, x, mu) < 2e-2


def test_pair_derivatives_equal_the_derivatives_at_each_pair(key):
    model = _model(key, boundary=lambda x: x[0] * x[1])
    p = _points(jax.random.key(5), n=6)
    x, mu = p[:, :2], p[:4, 2:]
    d = _call(lambda m, a, b: m.pair_derivatives(a, b), model, x, mu)
    pairs = jnp.concatenate(
        [jnp.repeat(x, 4, axis=0), jnp.tile(mu, (6, 1))], axis=1
    )  # point-major, as the pairs are laid out
    want = _vgl(model, pairs, dims=(0, 1), method="autodiff")
    assert d.value.shape == (6, 4, 1) and d.grad.shape == (6, 4, 1, 2)
    for a, b in zip(d, want, strict=True):
        assert np.allclose(a.reshape(b.shape), b, atol=1e-12, rtol=1e-12)


def test_parameter_pairs_residual_equals_the_per_point_residual(key):
    def pde(p, d):
        return d.laplacian + p[2] * d.value - jnp.sin(p[0] + p[3])

    mus = Box([0.5, -1.0], [2.0, 1.0])
    inner = Residual(pde, SQUARE, num_points=8)
    pairs = WithParameterPairs(inner, mus, 2, num_parameters_per_batch=3)
    assert pairs.measure == pytest.approx(4.0 * 3.0) and pairs.num_points == 8
    assert pairs.with_num_points(5).sample(key).points.shape == (5, 2)
    batch = pairs.sample(key)
    assert batch.points.shape == (8, 2) and batch.extra.shape == (3, 2)
    x, mu = batch.points, batch.extra
    flat = jnp.concatenate([jnp.repeat(x, 3, axis=0), jnp.tile(mu, (8, 1))], axis=1)
    per_point = WithParameters(inner, mus, 2)
    model = _model(key)
    want = eqx.filter_jit(per_point.residual)(model, type(batch)(flat))
    got = eqx.filter_jit(pairs.residual)(model, batch)
    assert got.shape == (24, 1)
    assert np.allclose(got, want, atol=1e-12)
    # a field without pair_derivatives is evaluated at the concatenated pairs
    net = SIREN.init(4, 8, 1, depth=2, key=key, first_omega=2.0, hidden_omega=2.0)
    got = eqx.filter_jit(pairs.residual)(net, batch)
    assert np.allclose(got, eqx.filter_jit(per_point.residual)(net, type(batch)(flat)))
    # ParametricProblem builds it for its Residual constraints
    fam = ParametricProblem(
        {"pde": inner, "walls": Dirichlet(0.0, SQUARE, num_points=4)},
        parameters=mus,
        parameters_per_batch=3,
    )
    assert isinstance(fam.problem.constraints["pde"], WithParameterPairs)
    assert isinstance(fam.problem.constraints["walls"], WithParameters)
    with pytest.raises(TypeError, match="`constraint` must be a Residual"):
        WithParameterPairs(Dirichlet(0.0, SQUARE), mus, 2, num_parameters_per_batch=3)
    with pytest.raises(ValueError, match="`num_parameters_per_batch` must be an integer"):
        WithParameterPairs(inner, mus, 2, num_parameters_per_batch=0)


# --- shared script helpers ------------------------------------------------------------


def test_grid_points_follow_the_reference_layout():
    sol = poisson_fd(1.0, bounds=((-1.0, 1.0), (0.0, 2.0)), shape=(5, 5))
    assert np.array_equal(grid_points([(-1.0, 1.0), (0.0, 2.0)], 5), sol.points().reshape(-1, 2))
    with pytest.raises(ValueError, match="`n` must be an integer >= 2"):
        grid_points([(0.0, 1.0)], 1)


def test_held_out_errors_against_a_known_error():
    # u(x; a) = sin(pi a x) on [0, 1]; a field off by a factor (1 + a/10) has relative
    # error a/10 exactly, whatever the grid
    x = np.linspace(0.0, 1.0, 33)
    family = ParametricProblem(
        [Dirichlet(0.0, Box([0.0], [1.0]))],
        parameters=Box([0.5], [1.5]),
        reference=lambda mu: GridSolution((x,), np.sin(np.pi * mu[0] * x)),
    )

    def field(p):
        a = p[..., 1:]
        return (1.0 + a / 10) * jnp.sin(jnp.pi * a * p[..., :1])

    errors = held_out_errors(family, field, [0.7, (1.3,)])
    assert errors.keys() == {0.7, (1.3,)}  # keyed as given
    assert errors[0.7] == pytest.approx(0.07, rel=1e-12)
    assert errors[(1.3,)] == pytest.approx(0.13, rel=1e-12)
    bare = ParametricProblem([Dirichlet(0.0, Box([0.0], [1.0]))], parameters=Box([0.5], [1.5]))
    with pytest.raises(ValueError, match="`reference` is needed"):
        held_out_errors(bare, field, [0.7])


def test_time_query_times_every_new_mu_against_the_solver(key):
    calls = []

    def solve(mu, n):
        calls.append((mu, n))
        return poisson_fd(1.0, bounds=((-1.0, 1.0), (-1.0, 1.0)), shape=n)

    mus = [(0.6, 0.1), (1.4, -0.5), (1.9, 0.9)]
    model = _model(key, dtype=jnp.float32)
    t = time_query(model, [(-1.0, 1.0), (-1.0, 1.0)], mus, solve, n=24)
    assert calls == [(mu, 24) for mu in mus]  # each new mu solved once, on the same grid
    assert t.n == 24 and min(t.reference, t.uncached, t.cached, t.cache_setup) > 0
    assert t.speedup_cached == pytest.approx(t.reference / t.cached)
    # a field without a grid cache is timed uncached only
    plain = SIREN.init(4, 8, 1, depth=2, key=key, dtype=jnp.float32)
    t = time_query(plain, [(-1.0, 1.0), (-1.0, 1.0)], mus[:1], lambda mu, n: None, n=8)
    assert t.cached is None and t.speedup_cached is None and t.uncached > 0
    with pytest.raises(ValueError, match="`mus` must hold at least one"):
        time_query(plain, [(-1.0, 1.0), (-1.0, 1.0)], [], solve, n=8)


def test_save_load_round_trip(key, tmp_path):
    trained = _model(key)
    skeleton = _model(jax.random.key(7))  # same architecture, other weights
    path = save_surrogate(tmp_path / "sub" / "s.eqx", trained, meta={"model": "basis"})
    loaded, meta = load_surrogate(path, skeleton)
    assert meta["model"] == "basis" and meta["step"] == 0
    assert tree_allclose(loaded, trained, rtol=0, atol=0)
    p = _points(jax.random.key(4))
    assert np.array_equal(_call(loaded, p), _call(trained, p))
    assert not np.allclose(_call(skeleton, p), _call(trained, p))
    other = BasisSurrogate.init(
        2, 8, 1, depth=3, rank=5, mu_lo=[0.5, -1.0], mu_hi=[2.0, 1.0], key=key
    )
    with pytest.raises(ValueError, match="not a readable fieldpde checkpoint"):
        load_surrogate(path, other)


# --- the Poisson family script --------------------------------------------------------


def test_poisson_family_residual_and_reference():
    pf = _load_script("poisson_family")
    fam = pf.family(points=64, parameters_per_batch=None)
    batch = fam.problem.sample(jax.random.key(0))["pde"]
    assert batch.points.shape == (64, 4)
    # for u = 0 the residual is 0.1 f(x; mu), read at each point's own centre mu
    zero = lambda p: jnp.zeros(p.shape[:-1] + (1,))  # noqa: E731
    r = fam.problem.constraints["pde"].residual(zero, batch)
    p = np.asarray(batch.points)
    assert np.allclose(np.asarray(r)[:, 0], 0.1 * pf.source(p[:, 0], p[:, 1], p[:, 2:].T))
    # the FD reference solves -Laplacian u = f at interior nodes and vanishes on the walls
    mu = pf.HELD_OUT[1]
    ref = pf.reference(mu, shape=33)
    assert pf.reference(mu, shape=33) is ref  # cached
    u, h = ref.u, ref.spacing[0]
    lap = (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1]) / h**2
    X, Y = ref.mesh()
    assert np.allclose(-lap, pf.source(X[1:-1, 1:-1], Y[1:-1, 1:-1], mu), atol=1e-9)
    assert np.all(u[0] == 0) and np.all(u[:, -1] == 0)
    # its maximum sits near the source centre
    i, j = np.unravel_index(np.argmax(u), u.shape)
    assert abs(X[i, j] - mu[0]) < 0.2 and abs(Y[i, j] - mu[1]) < 0.2
    with pytest.raises(ValueError, match="`model` must be one of"):
        pf.field(jax.random.key(0), model="fno")


def test_poisson_family_script_tiny_run(tmp_path):
    pf = _load_script("poisson_family")
    argv = ["--steps", "10", "--lbfgs-steps", "0", "--points", "64", "--pairs", "4"]
    argv += ["--fd-shape", "17", "--query-grid", "16"]
    out = pf.main(argv, out=str(tmp_path))
    assert out["path"] == tmp_path / "poisson_family.eqx" and out["path"].exists()
    assert out["model"] == "basis" and out["result"].steps == 10
    assert set(out["errors"]) == set(pf.HELD_OUT)
    assert all(np.isfinite(e) and e > 0 for e in out["errors"].values())
    assert out["t_cached"] > 0 and out["t_net"] > 0 and out["t_fd"] > 0
    # the saved file reloads to the surrogate that was evaluated
    like = pf.field(jax.random.key(5), dtype=jnp.float32)
    loaded, meta = load_surrogate(out["path"], like)
    assert meta["model"] == "basis" and meta["step"] == 10
    assert tree_allclose(loaded, out["field"], rtol=0, atol=0)
    # in one call, as a later session would: the file says how to build the architecture
    again, _ = load_surrogate(out["path"])
    assert tree_allclose(again, out["field"], rtol=0, atol=0)
    # a parameter value outside the trained box is flagged, refused or masked
    query = again.on_grid(jnp.zeros((3, 2)))
    lo, hi = np.asarray(pf.PARAMETERS.lo), np.asarray(pf.PARAMETERS.hi)
    far = jnp.asarray(hi + 2.0 * (hi - lo), jnp.float32)
    with pytest.warns(UserWarning, match="outside the parameter range it was trained on"):
        query(far)
    with pytest.raises(ValueError, match="outside the parameter range"):
        query(far, outside="raise")
    assert bool(jnp.isnan(query(far, outside="mask")).all())
    inside = jnp.asarray(0.5 * (lo + hi), jnp.float32)
    assert bool(jnp.isfinite(query(jnp.stack([inside, far]), outside="mask")[0]).all())
    fam = pf.family(points=16, parameters_per_batch=None)
    with pytest.raises(ValueError, match="ParametricProblem.bind: mu"):
        fam.bind(again, np.asarray(far), outside="raise")


def test_family_script_help_is_plain_and_shows_defaults():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, str(ROOT / "problems" / "helmholtz_family.py"), "--help"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "$" not in out.stdout and "\\in" not in out.stdout and "k ∈ [0.5, 2]" in out.stdout
    assert "--quick" in out.stdout and "(default: 10000)" in out.stdout
