"""`fit_snapshots`: least squares on parametric snapshots, checked against linear algebra."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from fieldpde.nn import HyperSIREN
from fieldpde.train import fit_snapshots


class Features(eqx.Module):
    """u(x; mu) = w . phi(x, mu), linear in w: the least-squares optimum is known exactly."""

    w: jax.Array

    def __call__(self, x, mu):
        phi = jnp.stack(
            [jnp.ones_like(x[:, 0]), x[:, 0], mu[0] * x[:, 0], jnp.sin(mu[0] * x[:, 1])], axis=-1
        )
        return (phi @ self.w)[:, None]


def _data(key):
    k1, k2, k3 = jax.random.split(key, 3)
    coords = jax.random.uniform(k1, (40, 2), minval=-1.0, maxval=1.0)
    mu = jax.random.uniform(k2, (5, 1), minval=0.5, maxval=2.0)
    # a target outside the model class (so the residual is not zero) plus noise
    values = jnp.tanh(mu[:, None, 0] * coords[None, :, 0]) + jnp.cos(coords[None, :, 1])
    values = values + 0.05 * jax.random.normal(k3, values.shape)
    return coords, mu, values


def _lstsq(coords, mu, values):
    """The least-squares weights, from the design matrix of every (snapshot, point) row."""
    columns = [
        np.concatenate([np.asarray(Features(jnp.asarray(e))(coords, m))[:, 0] for m in mu])
        for e in np.eye(4)
    ]
    w, *_ = np.linalg.lstsq(np.stack(columns, axis=-1), np.asarray(values).ravel(), rcond=None)
    return w


@pytest.mark.x64
def test_full_batch_reaches_the_least_squares_solution(key):
    coords, mu, values = _data(key)
    schedule = optax.cosine_decay_schedule(0.05, 1000, alpha=1e-3)
    fitted, losses = fit_snapshots(
        Features(jnp.zeros(4)), coords, mu, values,
        steps=1000, optimizer=optax.adam(schedule), key=key,
    )  # fmt: skip
    w = _lstsq(coords, mu, values)
    # a strongly convex quadratic and a step that decays to 5e-5: Adam lands on the optimum
    np.testing.assert_allclose(np.asarray(fitted.w), w, atol=1e-3)
    # the first recorded loss is the mean squared error of the initial model (w = 0)
    np.testing.assert_allclose(float(losses[0]), float(jnp.mean(values**2)), rtol=1e-12)
    assert losses.shape == (1000,)


def test_mini_batches_reach_it_under_a_decaying_rate(key):
    coords, mu, values = _data(key)
    schedule = optax.cosine_decay_schedule(0.05, 2000, alpha=1e-3)
    fitted, _ = fit_snapshots(
        Features(jnp.zeros(4)), coords, mu, values,
        steps=2000, batch_size=8, optimizer=optax.adam(schedule), key=key,
    )  # fmt: skip
    # stochastic gradients: within a few percent of the optimum, not to round-off
    np.testing.assert_allclose(np.asarray(fitted.w), _lstsq(coords, mu, values), atol=3e-2)


def test_scalar_and_vector_values_agree(key):
    coords, mu, values = _data(key)
    kwargs = dict(steps=5, batch_size=16, learning_rate=0.01, key=key)
    a, la = fit_snapshots(Features(jnp.zeros(4)), coords, mu, values, **kwargs)
    b, lb = fit_snapshots(Features(jnp.zeros(4)), coords, mu, values[..., None], **kwargs)
    np.testing.assert_allclose(np.asarray(la), np.asarray(lb), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(a.w), np.asarray(b.w), rtol=1e-12)


def test_hypersiren_learns_a_family(key):
    # u(x; mu) = sin(mu x): a HyperSIREN's loss falls by two orders of magnitude in 200 steps
    x = jnp.linspace(-1.0, 1.0, 64)[:, None]
    mu = jnp.linspace(-1.0, 1.0, 4)[:, None]
    values = jnp.sin(2.0 * (mu[:, None, :] + 2.0) * x)
    net = HyperSIREN(1, 16, 1, depth=2, cond_dim=1, parameter_net=jnp.tanh, key=key,
                     first_omega=5.0, init_scale=0.5)  # fmt: skip
    fitted, losses = fit_snapshots(net, x, mu, values, steps=200, learning_rate=1e-2, key=key)
    assert float(losses[-1]) < 1e-2 * float(losses[0])
    pred = jax.vmap(lambda m: fitted(x, m))(mu)
    assert float(jnp.mean((pred - values) ** 2)) < 1e-2 * float(losses[0])


def test_bad_shapes_are_named(key):
    coords, mu, values = _data(key)
    net = Features(jnp.zeros(4))
    with pytest.raises(ValueError, match="`coords` must have shape"):
        fit_snapshots(net, coords[:, 0], mu, values, steps=1, key=key)
    with pytest.raises(ValueError, match="`mu` must have shape"):
        fit_snapshots(net, coords, mu[:, 0], values, steps=1, key=key)
    with pytest.raises(ValueError, match="`values` must have shape"):
        fit_snapshots(net, coords, mu, values[:, :-1], steps=1, key=key)
    with pytest.raises(ValueError, match="`values` must have shape"):
        fit_snapshots(net, coords, mu[:-1], values, steps=1, key=key)
    with pytest.raises(ValueError, match="batch_size"):
        fit_snapshots(net, coords, mu, values, steps=1, batch_size=0, key=key)
    with pytest.raises(ValueError, match="steps"):
        fit_snapshots(net, coords, mu, values, steps=0, key=key)
