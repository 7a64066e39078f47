"""Physics-informed ensembles: randomised MAP over a Problem against exact posteriors."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import optax
import pytest
from helpers import assert_close

from fieldpde.bayes import PhysicsEnsemble, ensemble_fit, log_prior_fn, prior_init_fn
from fieldpde.constraints import Dirichlet, Observations, Residual
from fieldpde.domains import Interval
from fieldpde.nn import BayesianSIREN
from fieldpde.problem import Problem


class Line(eqx.Module):
    a: jax.Array
    b: jax.Array

    def __call__(self, x):
        return self.a + self.b * x[..., :1]


def _adam(steps=1500):
    # a decaying step so that Adam settles on the optimum of these convex problems
    return optax.adam(optax.cosine_decay_schedule(0.05, steps, alpha=1e-3))


def _line_init(key):
    ka, kb = jax.random.split(key)
    return Line(jax.random.normal(ka), jax.random.normal(kb))


SIGMA = 0.1
X_OBS = np.linspace(0.0, 0.3, 6)


def _line_problem():
    # data y = 1 + 2x + noise on [0, 0.3]; physics: the slope equals the coefficient s
    y = 1.0 + 2.0 * X_OBS + SIGMA * np.asarray(jax.random.normal(jax.random.key(7), (6,)))
    return Problem(
        {
            "slope": Residual(
                lambda x, d, p: d.grad[0, 0] - p["s"], Interval(0.0, 1.0), num_points=8
            ),
            "data": Observations(X_OBS[:, None], y, noise_scale=SIGMA),
        },
        params={"s": 0.0},
    ), y


def test_members_are_exact_posterior_samples_of_a_linear_model():
    # flat priors: the posterior of (a, b) is N(OLS, sigma^2 (A^T A)^-1) and the slope
    # coefficient follows b (its only term is the physics, zero at s = b); randomised MAP
    # draws exactly from it
    problem, y = _line_problem()
    e = 256
    ens = ensemble_fit(
        problem,
        _line_init,
        ensemble_size=e,
        steps=1500,
        seed=0,
        residual_scale=1.0,
        optimizer=_adam(),
        resample_every=1500,
    )
    assert isinstance(ens, PhysicsEnsemble) and ens.losses.shape == (e, 1500)
    A = np.stack([np.ones(6), X_OBS], 1)
    cov = SIGMA**2 * np.linalg.inv(A.T @ A)
    ols = np.linalg.solve(A.T @ A, A.T @ y)
    a, b = np.asarray(ens.fields.a), np.asarray(ens.fields.b)
    # means within 4 standard errors; stds within 4 x the relative error 1/sqrt(2e) ~ 4.4%
    for est, mu, var in ((a, ols[0], cov[0, 0]), (b, ols[1], cov[1, 1])):
        assert abs(est.mean() - mu) < 4 * math.sqrt(var / e)
        assert abs(est.std() / math.sqrt(var) - 1) < 4 / math.sqrt(2 * e)
    s = ens.param_summary(quantiles=(0.05, 0.95))["s"]
    assert_close(np.asarray(ens.params["s"]), b, rtol=0, atol=0.02, what="s follows b")
    assert abs(float(s["std"]) / math.sqrt(cov[1, 1]) - 1) < 4 / math.sqrt(2 * e)
    # the band widens away from the data as sqrt([1, x] cov [1, x]^T)
    xt = jnp.array([[0.15], [1.0]])
    summary = ens.summary(xt)
    exact_sd = np.sqrt(
        np.einsum(
            "ij,jk,ik->i",
            np.stack([np.ones(2), [0.15, 1.0]], 1),
            cov,
            np.stack([np.ones(2), [0.15, 1.0]], 1),
        )
    )
    assert_close(summary["std"][:, 0], exact_sd, rtol=4 / math.sqrt(2 * e), atol=0)
    assert summary["std"][1, 0] > 4 * summary["std"][0, 0]
    assert ens.predict(xt).shape == (e, 2, 1)


@pytest.mark.x64
def test_without_randomisation_members_collapse():
    problem, _ = _line_problem()
    ens = ensemble_fit(
        problem,
        _line_init,
        ensemble_size=8,
        steps=1500,
        seed=0,
        residual_scale=1.0,
        optimizer=_adam(),
        randomize=False,
        resample_every=1500,
    )
    assert float(jnp.std(ens.fields.b)) < 0.01  # one MAP (the posterior sd of b is ~0.5)


def test_bayesian_siren_ensemble_with_param_prior_and_dirichlet():
    # u'' = -k^2 sin(k x)... here simply u'' + pi^2 sin(pi x) = 0, u(0) = u(1) = 0, a few data
    dom = Interval(0.0, 1.0)
    xo = jnp.array([[0.25], [0.5]])
    problem = Problem(
        {
            "pde": Residual(
                lambda x, d, p: d.laplacian + p["k"] ** 2 * jnp.sin(jnp.pi * x[0]),
                dom,
                num_points=32,
            ),
            "bc": Dirichlet(0.0, dom, num_points=2),
            "data": Observations(xo, jnp.sin(jnp.pi * xo[:, 0]), noise_scale=0.05),
        },
        params={"k": 1.0},
    )
    m = BayesianSIREN.init(1, 8, 1, depth=3, first_omega=3.0, hidden_omega=3.0, pyrox_name="u")
    ens = ensemble_fit(
        problem,
        prior_init_fn(m),
        ensemble_size=4,
        steps=60,
        seed=1,
        residual_scale={"pde": 0.1, "bc": 0.01},
        log_prior=log_prior_fn(m),
        param_prior={"k": dist.LogNormal(1.0, 0.5)},
        resample_every=30,
    )
    k = np.asarray(ens.params["k"])
    assert k.shape == (4,) and len(set(np.round(k, 6))) == 4  # independent draws of k
    losses = np.asarray(ens.losses)
    assert np.all(losses[:, -5:].mean(1) < losses[:, :5].mean(1))
    assert set(ens.terms) == {"pde", "bc", "data"}
    field0, params0 = ens.member(0)
    assert field0(jnp.zeros((3, 1))).shape == (3, 1) and params0["k"].shape == ()


def test_ensemble_fit_errors():
    problem, _ = _line_problem()
    kw = dict(ensemble_size=2, steps=2, seed=0)
    with pytest.raises(TypeError, match="`problem` must be a fieldpde Problem"):
        ensemble_fit("p", _line_init, **kw)
    with pytest.raises(ValueError, match="no scale for constraint 'slope'"):
        ensemble_fit(problem, _line_init, residual_scale={}, **kw)
    with pytest.raises(ValueError, match="names constraints the problem lacks"):
        ensemble_fit(problem, _line_init, residual_scale={"slope": 1.0, "pde": 1.0}, **kw)
    with pytest.raises(ValueError, match=r"`residual_scale\['slope'\]` must be > 0"):
        ensemble_fit(problem, _line_init, residual_scale=-1.0, **kw)
    with pytest.raises(ValueError, match="`param_prior` must hold one numpyro distribution"):
        ensemble_fit(problem, _line_init, param_prior={"q": dist.Normal()}, **kw)


class _Line(eqx.Module):
    a: jax.Array
    b: jax.Array

    def __call__(self, x):
        return self.a + self.b * x[..., :1]


def test_a_member_that_fails_is_reported_and_the_others_are_unaffected():
    x = jnp.linspace(0.0, 1.0, 11)[:, None]
    problem = Problem({"data": Observations(x, 1.0 + 2.0 * x[:, 0], noise_scale=0.1)})
    init_keys = jax.random.split(jax.random.split(jax.random.key(0), 3)[0], 6)
    poisoned = jax.random.key_data(init_keys[4])

    def init(k, poison):
        a, b = jax.random.normal(k, (2,))
        bad = poison & jnp.all(jax.random.key_data(k) == poisoned)
        return _Line(jnp.where(bad, jnp.nan, a), b)

    kw = dict(ensemble_size=6, steps=200, seed=0, learning_rate=0.05)
    clean = ensemble_fit(problem, lambda k: init(k, False), **kw)
    with pytest.warns(RuntimeWarning, match=r"1 of 6 members stopped: member 4 \(nan at step 0\)"):
        ens = ensemble_fit(problem, lambda k: init(k, True), **kw)
    assert ens.status[4] == "nan" and clean.status == ("completed",) * 6
    assert ens.failed_at[4] == 0 and ens.stuck()[0] == (4,)
    others = np.arange(6) != 4
    np.testing.assert_array_equal(
        np.asarray(ens.fields.a)[others], np.asarray(clean.fields.a)[others]
    )
    np.testing.assert_array_equal(np.asarray(ens.losses)[others], np.asarray(clean.losses)[others])
