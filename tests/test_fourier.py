"""Random Fourier features, Hyper-RFF and their Bayesian priors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_close
from numpyro import handlers
from scipy import stats

from fieldpde.nn import (
    MLP,
    BayesianRandomKitchenSinks,
    BayesianRBFFourierFeatures,
    ConditionedRFFNet,
    HyperFourierFeatures,
    RandomKitchenSinks,
    RBFFourierFeatures,
)

# formulas and reference draws compared to tight tolerances: float64
pytestmark = pytest.mark.x64


def test_rff_inner_products_approximate_the_rbf_kernel(key):
    """phi(x).phi(x') = mean_m cos(w_m.(x - x')/l): each term has variance <= 1/2, so with
    M = 20000 the Monte-Carlo error has s.d. <= 0.005 and 0.03 is a 6-sigma bound."""
    ell = 0.7
    rff = RBFFourierFeatures.init(2, 20000, key=key, lengthscale=ell)
    x = jax.random.uniform(jax.random.key(1), (6, 2), minval=-1, maxval=1)
    phi = rff(x)
    assert phi.shape == (6, 40000)
    gram = phi @ phi.T
    sq = jnp.sum((x[:, None] - x[None]) ** 2, -1)
    assert_close(gram, jnp.exp(-sq / (2 * ell**2)), rtol=0, atol=0.03)
    assert_close(jnp.diag(gram), jnp.ones(6), rtol=1e-12, atol=1e-12)  # cos^2 + sin^2
    assert float(rff.lengthscale) == pytest.approx(ell)


def test_rff_frequencies_are_fixed_and_lengthscale_learns(key):
    rff = RBFFourierFeatures.init(1, 8, key=key)
    x = jnp.linspace(-1, 1, 5)[:, None]
    g = eqx.filter_grad(lambda m: jnp.sum(m(x) ** 3))(rff)
    assert float(jnp.abs(g.W).max()) == 0.0
    assert float(jnp.abs(g.log_lengthscale)) > 0


def test_random_kitchen_sinks_least_squares_head(key):
    """The head is linear: solving least squares for it fits a smooth function closely."""
    rks = RandomKitchenSinks.init(RBFFourierFeatures.init(1, 64, key=key, lengthscale=0.5), 1)
    x = jnp.linspace(-1, 1, 200)[:, None]
    y = jnp.sin(3 * x) + 0.5 * x**2
    assert_close(rks(x), jnp.zeros_like(y), rtol=0, atol=0)  # zero head at init
    phi = jnp.concatenate([rks.rff(x), jnp.ones((200, 1))], axis=1)
    sol = jnp.linalg.lstsq(phi, y)[0]
    rks = eqx.tree_at(lambda r: (r.beta, r.bias), rks, (sol[:-1], sol[-1]))
    assert float(jnp.mean((rks(x) - y) ** 2)) < 1e-6


def test_rff_and_kitchen_sinks_through_jit_vmap_grad(key):
    rks = RandomKitchenSinks.init(RBFFourierFeatures.init(1, 16, key=key), 2)
    rks = eqx.tree_at(lambda r: r.beta, rks, jax.random.normal(jax.random.key(1), (32, 2)))
    x = jnp.linspace(-1, 1, 6)[:, None]

    @eqx.filter_jit
    def run(m):
        g = eqx.filter_grad(lambda m: jnp.sum(m(x) ** 2))(m)
        return m(x), jax.vmap(m)(x), g

    y, y_vmap, g = run(rks)
    assert y.shape == (6, 2)
    assert_close(y_vmap, y, rtol=1e-12, atol=1e-12)
    assert_close(y, rks.rff(x) @ rks.beta + rks.bias, rtol=1e-12, atol=1e-12)
    assert float(jnp.abs(g.beta).max()) > 0 and float(jnp.abs(g.rff.log_lengthscale)) > 0
    assert float(jnp.abs(g.rff.W).max()) == 0.0


def _hff(key, d=2, m=8, k=3):
    pnet = MLP.init(k, 16, d * m + m + 1, depth=2, key=key, activation="tanh")
    return HyperFourierFeatures.init(parameter_net=pnet, in_features=d, n_features=m, cond_dim=k)


def test_hyper_fourier_features_formula_and_both_modes(key):
    hff = _hff(key)
    x = jax.random.normal(jax.random.key(1), (5, 2))
    zs = jax.random.normal(jax.random.key(2), (5, 3))
    shared, per_point = hff(x, zs[0]), hff(x, zs)
    assert shared.shape == per_point.shape == (5, 16)
    for i in range(5):
        flat = hff.parameter_net(zs[i])
        W, b, ell = flat[:16].reshape(2, 8), flat[16:24], jnp.exp(flat[24])
        arg = x[i] @ W / ell + b
        expected = jnp.concatenate([jnp.cos(arg), jnp.sin(arg)]) / jnp.sqrt(8.0)
        assert_close(per_point[i], expected, rtol=1e-12, atol=1e-12)
    assert_close(shared, hff(x, jnp.tile(zs[0], (5, 1))), rtol=1e-12, atol=1e-12)
    assert hff(x[0], zs[0]).shape == (16,)
    assert hff(x.reshape(5, 1, 2), zs.reshape(5, 1, 3)).shape == (5, 1, 16)


def test_conditioned_rff_net_is_features_times_readout(key):
    hff = _hff(key)
    net = ConditionedRFFNet.init(feat=hff, out_features=2, key=jax.random.key(3))
    x = jax.random.normal(jax.random.key(1), (5, 2))
    z = jax.random.normal(jax.random.key(2), (5, 3))
    expected = hff(x, z) @ net.readout.weight.T + net.readout.bias
    assert_close(net(x, z), expected, rtol=1e-12, atol=1e-12)
    assert net.cond_dim == 3

    @eqx.filter_jit
    def run(m):
        g = eqx.filter_grad(lambda m: jnp.sum(m(x, z) ** 2))(m)
        return m(x, z), jax.vmap(m)(x, z), g

    y, y_vmap, g = run(net)
    assert_close(y_vmap, y, rtol=1e-12, atol=1e-12)
    assert float(jnp.abs(g.feat.parameter_net.layers[0].W).max()) > 0
    assert float(jnp.abs(g.readout.weight).max()) > 0


def test_hyper_rff_errors(key):
    hff = _hff(key)
    bad = HyperFourierFeatures.init(
        parameter_net=lambda z: jnp.zeros(7), in_features=2, n_features=8, cond_dim=3
    )
    with pytest.raises(ValueError, match=r"must output size .* = 25, got output shape \(7,\)"):
        bad(jnp.ones((4, 2)), jnp.ones(3))
    with pytest.raises(ValueError, match="must output size"):
        bad(jnp.ones((4, 2)), jnp.ones((4, 3)))
    with pytest.raises(ValueError, match="must match the `cond_dim`"):
        hff(jnp.ones((4, 2)), jnp.ones(4))
    with pytest.raises(ValueError, match="one per point"):
        hff(jnp.ones((4, 2)), jnp.ones((2, 4, 3)))
    with pytest.raises(TypeError, match="`parameter_net` must be callable"):
        HyperFourierFeatures.init(parameter_net=3, in_features=1, n_features=2, cond_dim=1)
    with pytest.raises(ValueError, match="`lengthscale` must be > 0"):
        RBFFourierFeatures.init(1, 4, key=key, lengthscale=0.0)
    with pytest.raises(ValueError, match="`x` passed to RBFFourierFeatures"):
        RBFFourierFeatures.init(1, 4, key=key)(jnp.ones((3, 2)))


def test_bayesian_rff_sites_prior_and_maths(key):
    rff = BayesianRBFFourierFeatures.init(2, 6, lengthscale=0.5, pyrox_name="rff")
    rks = BayesianRandomKitchenSinks.init(rff, 1, prior_std=0.3, pyrox_name="rks")
    x = jax.random.normal(jax.random.key(1), (4, 2))
    with handlers.seed(rng_seed=0), handlers.trace() as tr:
        y = rks(x)
    assert y.shape == (4, 1)
    assert sorted(tr) == ["rff.W", "rff.lengthscale", "rks.beta", "rks.bias"]
    W, ell = tr["rff.W"]["value"], tr["rff.lengthscale"]["value"]
    beta, bias = tr["rks.beta"]["value"], tr["rks.bias"]["value"]
    assert W.shape == (2, 6) and beta.shape == (12, 1) and bias.shape == (1,)
    # the same feature map as the deterministic layer holding those values
    det = RBFFourierFeatures(W=W, log_lengthscale=jnp.log(ell))
    assert_close(y, det(x) @ beta + bias, rtol=1e-12, atol=1e-12)
    # log prior by hand: N(0,1) frequencies, LogNormal(log 0.5, 1) lengthscale, N(0, 0.3) head
    lp = sum(float(s["fn"].log_prob(s["value"]).sum()) for s in tr.values())
    hand = (
        stats.norm(0, 1).logpdf(np.asarray(W)).sum()
        + stats.lognorm(s=1.0, scale=0.5).logpdf(float(ell))
        + stats.norm(0, 0.3).logpdf(np.asarray(beta)).sum()
        + stats.norm(0, 0.3).logpdf(np.asarray(bias)).sum()
    )
    assert lp == pytest.approx(hand, rel=1e-10)

    # prior draws differ between seeds; jit and vmap over seeds
    def draw(seed):
        with handlers.seed(rng_seed=seed):
            return rks(x)

    draws = jax.jit(jax.vmap(draw))(jnp.arange(4))
    assert draws.shape == (4, 4, 1) and float(jnp.std(draws, axis=0).min()) > 0
    # gradient w.r.t. the site values (as a MAP fit needs) matches d/dbeta = phi
    values = {"rff.W": W, "rff.lengthscale": ell, "rks.beta": beta, "rks.bias": bias}

    def out(v):
        with handlers.substitute(data=v):
            return jnp.sum(rks(x))

    g = jax.grad(out)(values)
    assert_close(g["rks.beta"][:, 0], jnp.sum(det(x), axis=0), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="`prior_std`"):
        BayesianRandomKitchenSinks.init(rff, 1, prior_std=-1.0)


def test_rff_without_key_samples_frequencies_and_lengthscale():
    """The reference API: W ~ N(0, I) and l ~ LogNormal(log l0, 1) are numpyro sites."""
    rff = RBFFourierFeatures.init(2, 6, lengthscale=0.5, pyrox_name="f")
    assert rff.sampled and (rff.in_features, rff.n_features) == (2, 6)
    x = jax.random.normal(jax.random.key(1), (4, 2))
    with handlers.seed(rng_seed=0), handlers.trace() as tr:
        phi = rff(x)
    assert sorted(tr) == ["f.W", "f.lengthscale"]
    W, ell = tr["f.W"]["value"], tr["f.lengthscale"]["value"]
    det = RBFFourierFeatures(W=W, log_lengthscale=jnp.log(ell))
    assert_close(phi, det(x), rtol=1e-12, atol=1e-12)
    lp = sum(float(s["fn"].log_prob(s["value"]).sum()) for s in tr.values())
    hand = stats.norm(0, 1).logpdf(np.asarray(W)).sum() + stats.lognorm(1.0, scale=0.5).logpdf(
        float(ell)
    )
    assert lp == pytest.approx(hand, rel=1e-10)
    # prior draws differ between seeds; a kitchen sink on sampled features works too
    with handlers.seed(rng_seed=1):
        assert not np.allclose(rff(x), phi)
    rks = RandomKitchenSinks.init(rff, 1)
    with handlers.seed(rng_seed=0):
        assert rks(x).shape == (4, 1)
    with pytest.raises(ValueError, match="samples its lengthscale"):
        _ = rff.lengthscale
    with pytest.raises(ValueError, match="either fixed frequencies"):
        RBFFourierFeatures(W=None, log_lengthscale=None)


def test_dense_reparameterization_sites_prior_and_errors():
    from fieldpde.nn import DenseReparameterization

    layer = DenseReparameterization.init(3, 2, prior_scale=0.5, pyrox_name="d")
    x = jax.random.normal(jax.random.key(1), (5, 3))
    with handlers.seed(rng_seed=0), handlers.trace() as tr:
        y = layer(x)
    W, b = tr["d.weight"]["value"], tr["d.bias"]["value"]
    assert W.shape == (3, 2) and b.shape == (2,)
    assert_close(y, x @ W + b, rtol=1e-12, atol=1e-12)
    lp = sum(float(s["fn"].log_prob(s["value"])) for s in tr.values())
    hand = stats.norm(0, 0.5).logpdf(np.asarray(W)).sum() + stats.norm(0, 0.5).logpdf(b).sum()
    assert lp == pytest.approx(hand, rel=1e-10)
    no_bias = DenseReparameterization(3, 2, bias=False)
    with handlers.seed(rng_seed=0), handlers.trace() as tr:
        no_bias(x)
    assert list(tr) == ["DenseReparameterization.weight"]
    with pytest.raises(ValueError, match="`in_features`"):
        DenseReparameterization(0, 2)
    with pytest.raises(ValueError, match="`prior_scale`"):
        DenseReparameterization.init(3, 2, prior_scale=0.0)
    with pytest.raises(ValueError, match="`x` passed to DenseReparameterization"):
        with handlers.seed(rng_seed=0):
            layer(jnp.ones((5, 4)))
