"""Second-order phases: natural gradient (Gauss-Newton) and dense self-scaled quasi-Newton.

Each is tested against the maths it rests on: one natural-gradient step on a linear
least-squares residual is the Gauss-Newton (least-squares) solution; BFGS-family updates
with a near-exact line search minimise an n-dimensional convex quadratic in n + 1 steps;
every accepted quasi-Newton step satisfies the strong Wolfe conditions; a breakdown is
reported with its status and the last good parameters; a run resumed from a checkpoint
inside a phase repeats the uninterrupted run bit for bit.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import tree_allclose
from jax.flatten_util import ravel_pytree

from fieldpde import SIREN, Problem, fit
from fieldpde.constraints import Dirichlet, Observations, Periodic, Residual
from fieldpde.domains import Box, Interval
from fieldpde.train import (
    RESULTS,
    SSBFGS,
    Adam,
    Engine,
    LossObjective,
    NaturalGradient,
    ProblemObjective,
    Record,
    SSBroyden,
    TrainState,
)
from fieldpde.train._objective import trainable_split
from fieldpde.train._residuals import forward_jacobian

pytestmark = pytest.mark.x64
UNIT = Interval(0.0, 1.0)


class Polynomial(eqx.Module):
    """$u(x) = \\sum_j w_j x^j$: linear in its weights."""

    w: jax.Array

    def __call__(self, x):
        powers = x[..., :1] ** jnp.arange(self.w.shape[0], dtype=x.dtype)
        return (powers @ self.w)[..., None]


class Constant(eqx.Module):
    """A field that ignores its one weight: its residual Jacobian is zero."""

    w: jax.Array

    def __call__(self, x):
        return 0.0 * self.w + jnp.ones(x.shape[:-1] + (1,), x.dtype)


def _poisson():
    return Problem(
        {
            "pde": Residual(
                lambda x, d: d.laplacian + jnp.pi**2 * jnp.sin(jnp.pi * x[0]), UNIT, num_points=32
            ),
            "bc": Dirichlet(0.0, UNIT, num_points=2, method="grid"),
        }
    )


def _net(key=0):
    return SIREN.init(1, 12, 1, depth=2, key=jax.random.key(key), first_omega=3.0)


@pytest.mark.parametrize("points, degree", [(40, 6), (5, 9)], ids=["gram", "woodbury"])
def test_one_natural_gradient_step_on_a_linear_residual_is_the_gauss_newton_solution(
    points, degree
):
    x = jnp.linspace(-1.0, 1.0, points)[:, None]
    y = jnp.cos(2.0 * x[:, 0])
    problem = Problem({"data": Observations(x, y)})
    w0 = 0.1 * jnp.arange(1.0, degree + 1.0)
    out = fit(problem, Polynomial(w0), key=0, progress=False,
              phases=[NaturalGradient(1, damping=1e-14)])  # fmt: skip
    A = np.asarray(x[:, 0])[:, None] ** np.arange(degree)
    # Gauss-Newton from w0 for r = A w - y: w0 + pinv(A) (y - A w0) (least squares for
    # N > P; for N < P the minimum-norm step, as the Woodbury form gives)
    expected = np.asarray(w0) + np.linalg.pinv(A) @ (np.asarray(y) - A @ np.asarray(w0))
    assert out.status == "completed"
    np.testing.assert_allclose(out.field.w, expected, rtol=1e-6, atol=1e-8)


def test_residuals_square_to_the_loss_and_both_jacobians_agree():
    box = Box([0.0, 0.0], [1.0, 1.0])
    problem = Problem(
        {
            "pde": Residual(
                lambda x, d, p: d.laplacian + p["k"] * d.value - 1.0, box, num_points=16
            ),  # fmt: skip
            "bc": Dirichlet(0.0, box, num_points=8, weight=3.0),
            "periodic": Periodic(box, 0, num_points=5),
        },
        params={"k": 2.0},
    )
    net = SIREN.init(2, 8, 1, depth=2, key=jax.random.key(0))
    trainable, static = trainable_split((net, {"k": jnp.asarray(2.0)}))
    objective = ProblemObjective(problem, static)
    batch = problem.sample(jax.random.key(1))
    loss, _ = objective(trainable, batch, None)
    r = objective.residuals(trainable, batch, None)
    np.testing.assert_allclose(r @ r, loss, rtol=1e-12)
    r_point, J_point = objective.residuals_and_jacobian(trainable, batch, None)
    r_fwd, J_fwd = forward_jacobian(lambda p: objective.residuals(p, batch, None), trainable)
    assert J_point.shape == (16 + 8 + 2 * 5, ravel_pytree(trainable)[0].size)
    np.testing.assert_allclose(r_point, r, rtol=1e-12)
    np.testing.assert_allclose(J_point, J_fwd, rtol=1e-9, atol=1e-9)
    # the gradient of the loss is 2 J^T r, the trainable coefficient's column included
    grad = jax.grad(lambda p: objective(p, batch, None)[0])(trainable)
    np.testing.assert_allclose(ravel_pytree(grad)[0], 2 * J_point.T @ r, rtol=1e-9, atol=1e-9)


def test_natural_gradient_refuses_what_has_no_residual_vector():
    problem = Problem({"pde": Residual(lambda x, d: d.laplacian, UNIT, num_points=8, norm="l1")})
    with pytest.raises(
        ValueError, match="squared-norm terms, but constraint 'pde' has `norm`='l1'"
    ):
        fit(problem, _net(), key=0, progress=False, phases=[NaturalGradient(2)])
    loss = LossObjective(lambda w: jnp.sum(w**2), None)
    engine = Engine((loss,), (NaturalGradient(2),))
    with pytest.raises(TypeError, match="LossObjective is not a sum of squared residuals"):
        engine.run(engine.start(jnp.ones(2)), Record(()))


@pytest.mark.parametrize("phase", [SSBFGS, SSBroyden])
def test_self_scaled_quasi_newton_minimises_a_quadratic_in_n_plus_one_steps(phase):
    n = 8
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    A = Q @ np.diag(np.logspace(0, 2, n)) @ Q.T  # condition number 100
    b = rng.normal(size=n)
    solution = np.linalg.solve(A, b)
    minimum = -0.5 * b @ solution
    A_, b_ = jnp.asarray(A), jnp.asarray(b)
    loss = LossObjective(lambda w: 0.5 * w @ A_ @ w - b_ @ w - minimum, None)
    # a small curvature constant makes the Wolfe search (near) exact, as the theorem needs
    engine = Engine((loss,), (phase(n + 1, wolfe=(1e-4, 1e-3)),), divergence_factor=None)
    state, why = engine.run(engine.start(jnp.zeros(n)), Record(()))
    assert why == "completed"
    np.testing.assert_allclose(state.params, solution, rtol=0, atol=1e-9)
    # far from done after n - 2 steps: termination comes from the conjugate directions
    engine = Engine((loss,), (phase(n - 2, wolfe=(1e-4, 1e-3)),), divergence_factor=None)
    early, _ = engine.run(engine.start(jnp.zeros(n)), Record(()))
    assert np.abs(np.asarray(early.params) - solution).max() > 1e-4


@pytest.mark.parametrize("phase", [SSBFGS, SSBroyden])
def test_every_accepted_step_satisfies_the_strong_wolfe_conditions(phase):
    problem = _poisson()
    trainable, static = trainable_split((_net(), None))
    objective = ProblemObjective(problem, static)
    batch = problem.sample(jax.random.key(3))
    phase = phase(40)
    c1, c2 = phase.wolfe

    def value_and_grad(p):
        return jax.value_and_grad(lambda q: objective(q, batch, None)[0])(p)

    update = eqx.filter_jit(lambda p, s: phase.update(objective, p, s, batch, None))
    params, state = trainable, phase.init(trainable)
    accepted = 0
    for _ in range(40):
        _, _, _, new, state, breakdown = update(params, state)
        assert breakdown == RESULTS.running
        f0, g0 = value_and_grad(params)
        f1, g1 = value_and_grad(new)
        step = ravel_pytree(new)[0] - ravel_pytree(params)[0]
        if np.any(step != 0):
            accepted += 1
            slope0, slope1 = ravel_pytree(g0)[0] @ step, ravel_pytree(g1)[0] @ step
            assert slope0 < 0
            assert f1 <= f0 + c1 * slope0  # sufficient decrease (alpha is inside the step)
            assert abs(slope1) <= c2 * abs(slope0) * (1 + 1e-9)  # small curvature
        params = new
    assert accepted >= 30


def test_a_breakdown_is_reported_with_its_status_and_the_last_good_parameters():
    x = jnp.linspace(0.0, 1.0, 8)[:, None]
    problem = Problem({"data": Observations(x, jnp.zeros(8))})
    field = Constant(jnp.array([0.5]))
    adam = Adam(5, learning_rate=1e-2)
    before = fit(problem, field, key=0, progress=False, phases=[adam])
    # a zero Jacobian makes the Gramian zero: the Cholesky factorisation breaks down
    out = fit(problem, field, key=0, progress=False, phases=[adam, NaturalGradient(3)])
    assert out.status == "nonfinite_step"
    assert "non-finite step at step 5 (NaturalGradient phase)" in out.message
    assert out.steps == 5
    assert tree_allclose(out.field, before.field, rtol=0, atol=0)
    # a line that descends for ever: no step meets the curvature condition
    descent = LossObjective(lambda w: -jnp.sum(w), None)
    engine = Engine((descent,), (SSBroyden(4),), divergence_factor=None)
    state, why = engine.run(engine.start(jnp.zeros(2)), Record(()))
    assert why == "failed" and state.result == RESULTS.line_search_failed
    np.testing.assert_array_equal(state.params, jnp.zeros(2))


def test_an_uphill_quasi_newton_direction_resets_the_inverse_hessian():
    # rounding can make H indefinite near the precision floor: that is no breakdown
    loss = LossObjective(lambda w: jnp.sum((w - 1.0) ** 2), None)
    phase = SSBroyden(5)
    params = jnp.zeros(3)
    state = phase.init(params)._replace(inverse_hessian=-jnp.eye(3), identity=jnp.array(False))
    _, _, _, new, state, breakdown = phase.update(loss, params, state, None, None)
    assert breakdown == RESULTS.running
    np.testing.assert_array_equal(new, params)
    assert bool(state.identity)
    np.testing.assert_array_equal(state.inverse_hessian, jnp.eye(3))
    # the next step searches along the gradient and is taken
    _, _, _, new, state, breakdown = phase.update(loss, new, state, None, None)
    assert breakdown == RESULTS.running and float(jnp.sum((new - 1.0) ** 2)) < 3.0


def test_the_precision_floor_is_no_failure():
    # near the minimum the loss (about 1) cannot resolve the decrease of any step
    loss = LossObjective(lambda w: jnp.sum(jnp.log(jnp.cosh(3 * (w - 1 / 3)))) + 1.0, None)
    engine = Engine((loss,), (SSBroyden(60),), divergence_factor=None)
    state, why = engine.run(engine.start(jnp.zeros(3)), Record(()))
    assert why == "completed" and bool(state.opt_state.converged)
    np.testing.assert_allclose(state.params, 1 / 3, rtol=0, atol=1e-8)


@pytest.mark.parametrize(
    "second", [NaturalGradient(30, block=10), SSBroyden(30, block=10)], ids=["ng", "ssbroyden"]
)
def test_resume_inside_a_second_order_phase_is_exact(tmp_path, second):
    problem = _poisson()
    phases = [Adam(40, learning_rate=3e-3, resample_every=20), second]
    kw = dict(key=jax.random.key(2), progress=False, phases=phases)
    full = fit(problem, _net(), **kw)
    assert full.status == "completed"
    path = tmp_path / "run.ckpt"
    stop = lambda step, field, params, losses: step >= 50  # noqa: E731 (inside phase 2)
    first = fit(problem, _net(), checkpoint=str(path), callbacks=[stop], **kw)
    assert first.status == "stopped" and first.steps == 50 and first.state.phase == 1
    resumed = fit(problem, _net(), resume=str(path), **kw)
    assert resumed.steps == 70
    assert tree_allclose(resumed.field, full.field, rtol=0, atol=0)
    np.testing.assert_array_equal(resumed.history["loss"], full.history["loss"])


def test_dense_phases_refuse_too_many_parameters_and_point_to_lbfgs():
    with pytest.raises(ValueError, match=r"dense 200 x 200 inverse Hessian .* LBFGS\(7\)"):
        TrainState.init(SSBroyden(7, max_memory=1e5), jnp.zeros(200))
    with pytest.raises(ValueError, match="`wolfe` must satisfy 0 < c1 < c2 < 1"):
        SSBFGS(5, wolfe=(0.9, 0.1))
    with pytest.raises(ValueError, match="`damping`"):
        NaturalGradient(5, damping=0.0)


def test_second_order_phases_train_a_field_in_float32():
    # float32 (the user's default) runs too, if not as far as float64
    with jax.enable_x64(False):
        problem = _poisson()
        for phase in (NaturalGradient(20, damping=1e-6), SSBroyden(40)):
            out = fit(problem, _net(), key=1, progress=False,
                      phases=[Adam(200, learning_rate=5e-3), phase])  # fmt: skip
            # natural gradient reaches float32's floor (a loss of about 1e-10, from 0.42)
            # within its 20 steps; a line search that then finds no smaller loss stops with
            # the last good parameters, which is convergence, not a failure
            floor = "line search" in out.message and out.history["loss"][-1] < 1e-8
            assert out.ok or floor, out.message
            assert out.history["loss"][-1] < out.history["loss"][199]
