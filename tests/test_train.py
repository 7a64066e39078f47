"""fit: accuracy on a small problem, NaN/divergence safety, exact resume, inverse problems."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from helpers import tree_allclose

from fieldpde import SIREN, Problem, fit
from fieldpde.constraints import Dirichlet, Observations, Residual
from fieldpde.domains import Interval
from fieldpde.train import AdaptiveSampling

UNIT = Interval(0.0, 1.0)


def poisson_1d():
    """-u'' = pi^2 sin(pi x) on [0, 1], u(0) = u(1) = 0; exact u = sin(pi x)."""
    return Problem(
        {
            "pde": Residual(
                lambda x, d: d.laplacian + jnp.pi**2 * jnp.sin(jnp.pi * x[0]), UNIT, num_points=64
            ),
            "bc": Dirichlet(0.0, UNIT, num_points=2, method="grid"),
        },
        exact=lambda x: jnp.sin(jnp.pi * x[0]),
        name="poisson-1d",
    )


def small_siren(key):
    return SIREN.init(1, 24, 1, depth=3, key=key, first_omega=3.0, hidden_omega=3.0)


def test_fit_solves_1d_poisson(key):
    problem = poisson_1d()
    result = fit(
        problem,
        small_siren(key),
        key=jax.random.key(1),
        steps=1500,
        learning_rate=3e-3,
        progress=False,
    )
    assert result.status == "completed" and result.ok
    assert result.steps == 1500
    assert set(result.history) == {"loss", "phase", "pde", "bc"}
    assert result.history["loss"].shape == (1500,)
    np.testing.assert_allclose(
        result.history["pde"] + result.history["bc"], result.history["loss"], rtol=1e-10
    )
    err = problem.relative_l2(result.field, jnp.linspace(0, 1, 201)[:, None])
    assert err < 1e-2, err


def test_lbfgs_polish_lowers_the_loss(key):
    result = fit(
        poisson_1d(),
        small_siren(key),
        key=jax.random.key(1),
        steps=300,
        learning_rate=3e-3,
        lbfgs_steps=100,
        lbfgs_points=128,
        progress=False,
    )
    assert result.status == "completed"
    phase = result.history["phase"]
    assert (phase == 1).sum() == 100
    adam_end = result.history["loss"][phase == 0][-1]
    assert result.history["loss"][-1] < 0.1 * adam_end


class Sqrt(eqx.Module):
    a: jax.Array

    def __call__(self, x):
        return jnp.sqrt(self.a) * jnp.ones(x.shape[:-1] + (1,))


def test_nan_stops_and_keeps_last_good_parameters():
    x = jnp.zeros((4, 1))
    problem = Problem([Observations(x, -jnp.ones(4))])  # unreachable: drives a below 0
    result = fit(
        problem,
        Sqrt(jnp.array(1.0)),
        key=jax.random.key(0),
        steps=500,
        optimizer=optax.sgd(0.3),
        progress=False,
    )
    assert result.status == "nan"
    assert "non-finite" in result.message
    assert 0 < result.steps < 500
    assert np.all(np.isfinite(result.history["loss"]))
    assert float(result.field.a) >= 0.0  # the last parameters whose loss was finite
    assert np.isfinite(float(problem.loss(result.field, problem.sample(jax.random.key(0)))))


def test_divergence_is_detected():
    x = jnp.zeros((4, 1))
    problem = Problem([Observations(x, jnp.zeros(4))])
    field = Sqrt(jnp.array(1.0))
    result = fit(
        problem,
        field,
        key=jax.random.key(0),
        steps=200,
        optimizer=optax.sgd(-0.5),
        divergence_factor=10.0,
        progress=False,
    )
    assert result.status == "diverged"
    assert result.history["loss"][-1] <= 10.0 * result.history["loss"].min()


def test_checkpoint_resume_reproduces_uninterrupted_run(key, tmp_path):
    problem = poisson_1d()
    kwargs = dict(key=jax.random.key(3), steps=400, resample_every=100, progress=False)
    full = fit(problem, small_siren(key), **kwargs)
    path = tmp_path / "run.ckpt"
    stop_at_200 = lambda step, field, params, losses: step >= 200  # noqa: E731
    first = fit(problem, small_siren(key), checkpoint=str(path), callbacks=[stop_at_200], **kwargs)
    assert first.status == "stopped" and first.steps == 200
    resumed = fit(problem, small_siren(key), resume=str(path), **kwargs)
    assert resumed.steps == 400
    assert tree_allclose(
        eqx.filter(resumed.field, eqx.is_array),
        eqx.filter(full.field, eqx.is_array),
        rtol=0,
        atol=0,
    )
    np.testing.assert_array_equal(resumed.history["loss"], full.history["loss"])
    # a corrupt or foreign file is refused with a clear error
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="not a readable fieldpde checkpoint"):
        fit(problem, small_siren(key), resume=str(path), **kwargs)
    other = SIREN.init(1, 8, 1, depth=3, key=key)
    good = tmp_path / "good.ckpt"
    fit(problem, small_siren(key), checkpoint=str(good), callbacks=[stop_at_200], **kwargs)
    with pytest.raises(ValueError, match="not a readable fieldpde checkpoint"):
        fit(problem, other, resume=str(good), **kwargs)
    # a checkpoint of another phase layout names `resume` and both layouts
    with pytest.raises(ValueError, match=r"`resume`: .* phases \[\['Adam', 400\]\].*"):
        fit(problem, small_siren(key), resume=str(good), **{**kwargs, "steps": 500})


def test_inverse_problem_recovers_wavenumber(key):
    """u'' + k^2 u = 0 with u = sin(2x) observed on [0, pi]: k = 2 from a guess of 1.4.

    The guess is a Python float, as users write it: `fit` must train it like an array.
    """
    domain = Interval(0.0, jnp.pi)
    x_obs = jnp.linspace(0.0, jnp.pi, 25)[:, None]
    problem = Problem(
        {
            "pde": Residual(
                lambda x, d, p: d.laplacian + p["k"] ** 2 * d.value, domain, num_points=128
            ),
            "data": Observations(x_obs, jnp.sin(2 * x_obs[:, 0]), noise_scale=0.1),
        },
        params={"k": 1.4},
    )
    net = SIREN.init(1, 32, 1, depth=3, key=key, first_omega=2.0, hidden_omega=2.0)
    result = fit(
        problem, net, key=jax.random.key(2), steps=2500, learning_rate=5e-3, progress=False
    )
    assert result.status == "completed"
    assert abs(float(result.params["k"]) - 2.0) < 1e-2, result.params


def test_adaptive_sampling_concentrates_where_residual_is_large(key):
    res = Residual(lambda x, d: x[:1] ** 4, UNIT, num_points=2000, method="uniform")
    batch = AdaptiveSampling(pool_factor=8, k=1.0, c=0.0).resample(
        res, small_siren(key), None, jax.random.key(0)
    )
    # density proportional to x^4 on [0, 1] has mean 5/6
    assert batch.points.shape == (2000, 1)
    assert float(jnp.mean(batch.points)) == pytest.approx(5 / 6, abs=0.03)
    result = fit(
        poisson_1d(),
        small_siren(key),
        key=key,
        steps=200,
        adaptive=AdaptiveSampling(),
        progress=False,
    )
    assert result.status == "completed"


def test_fit_errors(key):
    problem = poisson_1d()
    with pytest.raises(TypeError, match="`problem` must be a fieldpde Problem"):
        fit("poisson", small_siren(key), key=key)
    with pytest.raises(ValueError, match="`steps`"):
        fit(problem, small_siren(key), key=key, steps=-1)
    with pytest.raises(ValueError, match="`resample_every`"):
        fit(problem, small_siren(key), key=key, resample_every=0)
    with pytest.raises(ValueError, match="`divergence_factor`"):
        fit(problem, small_siren(key), key=key, divergence_factor=0.5)
