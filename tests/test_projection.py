"""`ResidualProjection`: least-squares (LSPG) coefficients of a `BasisSurrogate` from the PDE.

The checks do not rely on training: an untrained basis is a fixed set of functions, so
the projection must reproduce any solution in its span exactly, and its coefficients
must equal an independent least-squares solve assembled from autodiff derivatives of the
basis.
"""

import importlib.util
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fieldpde.app import held_out_errors, time_query
from fieldpde.constraints import BoxDistance, Dirichlet, Residual
from fieldpde.domains import Box
from fieldpde.nn import BasisSurrogate, GridQuery
from fieldpde.problem import ParametricProblem
from fieldpde.reference import GridSolution
from fieldpde.surrogate import ResidualProjection

LINE = Box([-1.0], [1.0])
ROOT = Path(__file__).resolve().parent.parent


def _model(key, *, rank=6, boundary=None):
    return BasisSurrogate.init(
        1,
        16,
        1,
        depth=3,
        rank=rank,
        mu_lo=[1.0],
        mu_hi=[2.0],
        distance=lambda x: 1.0 - x[0] ** 2,
        boundary=boundary,
        key=key,
        first_omega=3.0,
        hidden_omega=3.0,
    )


def _helmholtz(p, d):  # u'' + k^2 u = cos(x), k = mu
    return d.laplacian + p[1] ** 2 * d.value - jnp.cos(p[0])


_coefficients = eqx.filter_jit(lambda proj, mu: proj.coefficients(mu))


@pytest.mark.x64
def test_solution_in_the_span_is_recovered_exactly(key):
    # u'' = -2 mu, u(+-1) = 0: u = mu (1 - x^2) = mu * D(x), the basis's constant column
    family = ParametricProblem(
        {"pde": Residual(lambda p, d: d.laplacian + 2.0 * p[1], LINE)},
        parameters=Box([1.0], [2.0]),
        exact=lambda x, mu: mu[0] * (1.0 - x[0] ** 2),
    )
    proj = ResidualProjection.init(
        _model(key), family.problem.constraints["pde"], jnp.linspace(-0.99, 0.99, 40)[:, None]
    )
    x = jnp.linspace(-1.0, 1.0, 33)[:, None]
    for mu in (1.3, 1.8):
        # an untrained parameter net is O(1) off; the projection is exact up to round-off
        assert family.relative_l2(proj, x, mu) < 1e-10
        assert family.relative_l2(proj.model, x, mu) > 1e-2
    K = _coefficients(proj, jnp.array([1.3]))
    assert np.allclose(K[:-1], 0.0, atol=1e-9) and np.isclose(K[-1, 0], 1.3, rtol=1e-10)
    # held-out errors of a projection go through its grid query
    nodes = np.linspace(-1.0, 1.0, 17)
    ref = lambda mu: GridSolution((nodes,), mu[0] * (1.0 - nodes**2))  # noqa: E731
    errors = held_out_errors(family, proj, [1.3, 1.8], reference=ref)
    assert max(errors.values()) < 1e-10


@pytest.mark.x64
def test_coefficients_equal_an_independent_least_squares_solve(key):
    g = lambda x: 0.5 * x[0]  # noqa: E731  (a lift: u(-1) = -0.5, u(1) = 0.5)
    model = _model(key, boundary=g)
    x = jnp.linspace(-0.95, 0.95, 50)[:, None]
    proj = ResidualProjection.init(model, Residual(_helmholtz, LINE), x)
    k = 1.7
    # assemble A_ij = psi_j'' + k^2 psi_j and b = g'' + k^2 g - cos x by autodiff, per point
    psi = lambda xi: model.basis(xi)  # noqa: E731
    lift = lambda xi: model.lift(xi)[0]  # noqa: E731
    second = jax.vmap(jax.hessian(psi))(x)[:, :, 0, 0]
    A = second + k**2 * jax.vmap(psi)(x)
    g2 = jax.vmap(jax.hessian(lift))(x)[:, 0, 0]
    b = g2 + k**2 * jax.vmap(lift)(x) - jnp.cos(x[:, 0])
    want = np.linalg.lstsq(np.asarray(A), -np.asarray(b), rcond=None)[0]
    got = _coefficients(proj, jnp.array([k]))
    assert got.shape == (model.rank + 1, 1)
    assert np.allclose(got[:, 0], want, rtol=1e-7, atol=1e-9)
    # a batch of mu is the stack of single answers
    batch = _coefficients(proj, jnp.array([[k], [1.2]]))
    assert batch.shape == (2, model.rank + 1, 1)
    assert np.allclose(batch[0], got, rtol=1e-10, atol=1e-12)
    assert np.allclose(batch[1], _coefficients(proj, jnp.array([1.2])), rtol=1e-10, atol=1e-12)


def test_projection_solves_a_helmholtz_family_to_basis_accuracy(key):
    # u'' + k^2 u = cos x on [-1, 1], u(+-1) = 0:
    # u = cos(x)/(k^2 - 1) - cos(1) cos(k x) / ((k^2 - 1) cos k); k in [1.2, 1.45]
    def exact(x, k):
        return jnp.cos(x) / (k**2 - 1) - jnp.cos(1.0) * jnp.cos(k * x) / ((k**2 - 1) * jnp.cos(k))

    model = BasisSurrogate.init(
        1,
        24,
        1,
        depth=3,
        rank=12,
        mu_lo=[1.2],
        mu_hi=[1.45],
        distance=lambda x: 1.0 - x[0] ** 2,
        key=key,
        first_omega=2.0,
        hidden_omega=2.0,
    )
    x = jnp.linspace(-1.0, 1.0, 101)[:, None]
    proj = ResidualProjection.init(model, Residual(_helmholtz, LINE), x)
    grid = jnp.linspace(-1.0, 1.0, 57)[:, None]
    query = proj.on_grid(grid)
    assert isinstance(query, GridQuery)
    for k in (1.25, 1.4):
        u = eqx.filter_jit(lambda q, m: q(m))(query, jnp.array([k]))[:, 0]
        truth = exact(grid[:, 0], k)
        # 12 random smooth functions times (1 - x^2) hold this even solution to ~1e-6;
        # the untrained parameter net is off by O(1)
        assert jnp.linalg.norm(u - truth) / jnp.linalg.norm(truth) < 1e-4


def test_nonlinear_residual_is_refused(key):
    burgers_like = Residual(lambda p, d: d.laplacian - d.value * d.grad[0, 0], LINE)
    with pytest.raises(ValueError, match="not affine in the field"):
        ResidualProjection.init(_model(key), burgers_like, jnp.linspace(-1, 1, 20)[:, None])


def test_errors_name_the_argument(key):
    model = _model(key)
    pde = Residual(_helmholtz, LINE)
    x = jnp.linspace(-1.0, 1.0, 20)[:, None]
    with pytest.raises(TypeError, match="`model` must be a BasisSurrogate"):
        ResidualProjection.init(lambda p: p, pde, x)
    with pytest.raises(TypeError, match="`constraint` must be a Residual"):
        ResidualProjection.init(model, Dirichlet(0.0, LINE), x)
    with pytest.raises(ValueError, match="`points`"):
        ResidualProjection.init(model, pde, jnp.zeros((20, 2)))
    with pytest.raises(ValueError, match="n >= R \\+ 1"):
        ResidualProjection.init(model, pde, x[:5])
    proj = ResidualProjection.init(model, pde, x)
    with pytest.raises(ValueError, match="`mu`"):
        proj.coefficients(jnp.zeros(3))


def test_time_query_accepts_a_projection(key):
    model = BasisSurrogate.init(
        2,
        8,
        1,
        depth=2,
        rank=3,
        mu_lo=[1.0],
        mu_hi=[2.0],
        distance=BoxDistance((-1.0, -1.0), (1.0, 1.0)),
        key=key,
    )
    pde = Residual(lambda p, d: d.laplacian + p[2] ** 2 * d.value - 1.0, Box([-1, -1], [1, 1]))
    x = jax.random.uniform(key, (32, 2), minval=-1.0, maxval=1.0)
    proj = ResidualProjection.init(model, pde, x)
    t = time_query(proj, [(-1.0, 1.0), (-1.0, 1.0)], [1.2, 1.7], lambda mu, n: None, n=8)
    assert t.cached > 0 and t.uncached > 0 and t.cache_setup > 0


def test_helmholtz_family_script_projects(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "helmholtz_family", ROOT / "problems" / "helmholtz_family.py"
    )
    hf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hf)
    argv = ["--model", "basis", "--steps", "10", "--lbfgs-steps", "0", "--points", "64"]
    argv += ["--pairs", "4", "--fd-shape", "17", "--query-grid", "16"]
    argv += ["--coefficients", "projection", "--projection-points", "64"]
    out = hf.main(argv, out=str(tmp_path))
    assert isinstance(out["answer"], ResidualProjection)
    assert set(out["errors"]) == set(out["errors_net"]) == set(hf.HELD_OUT)
    assert all(np.isfinite(e) for e in out["errors"].values())
    with pytest.raises(ValueError, match="needs a BasisSurrogate and a family"):
        hf.main(
            [
                "--model",
                "siren",
                "--steps",
                "1",
                "--lbfgs-steps",
                "0",
                "--points",
                "16",
                "--fd-shape",
                "9",
                "--query-grid",
                "8",
                "--coefficients",
                "projection",
            ],
            out=str(tmp_path),
        )
