"""BayesianSIREN priors, the numpyro bridge, ensemble_map and the stuck-member remedies."""

import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from helpers import assert_close, tree_allclose
from numpyro import handlers
from scipy import stats

from fieldpde.bayes import (
    ensemble_map,
    ensemble_predict,
    find_stuck,
    log_prior_fn,
    posterior_weights,
    predictive_summary,
    prior_init_fn,
    redraw_stuck,
)
from fieldpde.nn import SIREN, BayesianSIREN

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- BayesianSIREN priors


def test_prior_scales_equal_the_regime_formulas():
    d, h, c, w0, w, s0 = 3, 20, 5.0, 12.0, 7.0, 0.7
    m = BayesianSIREN.init(
        d, h, 2, depth=4, first_omega=w0, hidden_omega=w, c=c, prior_std=s0, pyrox_name="m"
    )
    scales = m.prior_scales()
    # first: a = 1/d; hidden: a = sqrt(c/h)/omega; last: a = sqrt(c/h); sigma = s0 a / sqrt(3)
    expected_w = [s0 / (math.sqrt(3) * d)] + [s0 * math.sqrt(c) / (math.sqrt(3 * h) * w)] * 2
    expected_w += [s0 * math.sqrt(c) / math.sqrt(3 * h)]
    expected_b = [s0 / math.sqrt(3 * d)] + [s0 / math.sqrt(3 * h)] * 3
    assert np.allclose([sw for sw, _ in scales], expected_w, rtol=1e-12)
    assert np.allclose([sb for _, sb in scales], expected_b, rtol=1e-12)
    # prior_std = 1 gives the variance of the deterministic SIREN's uniform init, a^2/3
    net = SIREN.init(d, h, 2, depth=4, key=jax.random.key(0), first_omega=w0, hidden_omega=w, c=c)
    unit = BayesianSIREN.init(
        d, h, 2, depth=4, first_omega=w0, hidden_omega=w, c=c, pyrox_name="u"
    ).prior_scales()
    for layer, (sw, sb) in zip(net.layers, unit, strict=True):
        a = float(jnp.max(jnp.abs(layer.W)))  # close to the half-width for 60+ draws
        assert abs(sw - a / math.sqrt(3)) / sw < 0.1
        assert abs(sb - 1 / math.sqrt(3 * layer.in_features)) < 1e-12


def test_samples_have_the_prior_scales():
    m = BayesianSIREN.init(2, 64, 1, depth=3, first_omega=10.0, hidden_omega=10.0, pyrox_name="s")
    with handlers.seed(rng_seed=0):
        values = m.sample_sites()
    for i, (sw, _) in enumerate(m.prior_scales()):
        w = np.asarray(values[f"s.layer_{i}.W"]).ravel()
        # std of n Normal draws has relative standard error 1/sqrt(2n) (< 9% at n >= 64)
        assert abs(w.std() / sw - 1) < 4 / math.sqrt(2 * w.size)


def test_depth4_trace_has_eight_named_sites():
    m = BayesianSIREN.init(1, 16, 1, depth=4, pyrox_name="siren")
    with handlers.trace() as tr, handlers.seed(rng_seed=0):
        y = m(jnp.zeros((5, 1)))
    names = [n for n, s in tr.items() if s["type"] == "sample"]
    assert names == [f"siren.layer_{i}.{p}" for i in range(4) for p in ("W", "b")]
    assert names == list(m.site_names)
    assert y.shape == (5, 1)
    assert tr["siren.layer_1.W"]["value"].shape == (16, 16)


def test_default_scope_is_stable_and_per_key():
    """Default names are the same in every run; a key gives a per-instance name."""
    assert BayesianSIREN.init(1, 4, 1, depth=2).pyrox_name == "BayesianSIREN"
    a = BayesianSIREN.init(1, 4, 1, depth=2, key=jax.random.key(1))
    b = BayesianSIREN.init(1, 4, 1, depth=2, key=jax.random.key(2))
    again = BayesianSIREN.init(1, 4, 1, depth=2, key=jax.random.key(1))
    assert a.pyrox_name.startswith("BayesianSIREN_") and a.pyrox_name != b.pyrox_name
    assert again.pyrox_name == a.pyrox_name


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_non_positive_prior_std_raises(bad):
    with pytest.raises(ValueError, match="`prior_std`"):
        BayesianSIREN.init(1, 8, 1, depth=3, prior_std=bad)


def test_bad_inputs_raise():
    m = BayesianSIREN.init(2, 8, 1, depth=3, pyrox_name="m")
    with pytest.raises(ValueError, match="`depth`"):
        BayesianSIREN.init(1, 8, 1, depth=1)
    with pytest.raises(ValueError, match=r"`x` passed to BayesianSIREN must have last axis 2"):
        with handlers.seed(rng_seed=0):
            m(jnp.zeros((4, 3)))
    with pytest.raises(ValueError, match="lacks the sites"):
        m.to_siren({})
    with pytest.raises(ValueError, match="must have W of shape"):
        values = {n: jnp.zeros(1) for n in m.site_names}
        m.to_siren(values)
    with pytest.raises(ValueError, match="depth-3 SIREN"):
        m.site_values(SIREN.init(2, 8, 1, depth=4, key=jax.random.key(0)))


# ---------------------------------------------------------------- the numpyro bridge


def test_prior_init_is_the_traced_draw():
    m = BayesianSIREN.init(1, 8, 1, depth=3, first_omega=5.0, hidden_omega=5.0, pyrox_name="s")
    key = jax.random.key(3)
    net = prior_init_fn(m)(key)
    x = jnp.linspace(-1, 1, 7)[:, None]
    with handlers.seed(rng_seed=jax.random.key_data(key)):
        direct = m(x)
    assert isinstance(net, SIREN)
    assert_close(net(x), direct, rtol=1e-12, atol=1e-12, what="spliced SIREN vs model")
    assert tree_allclose(
        m.site_values(m.to_siren(m.site_values(net))), m.site_values(net), rtol=0, atol=0
    )


@pytest.mark.x64
def test_log_prior_equals_hand_summed_normal_densities():
    m = BayesianSIREN.init(2, 6, 1, depth=4, c=4.0, prior_std=0.5, pyrox_name="s")
    net = prior_init_fn(m)(jax.random.key(1))
    expected = 0.0
    for layer, (sw, sb) in zip(net.layers, m.prior_scales(), strict=True):
        expected += stats.norm.logpdf(np.asarray(layer.W), scale=sw).sum()
        expected += stats.norm.logpdf(np.asarray(layer.b), scale=sb).sum()
    lp = log_prior_fn(m)
    assert abs(float(lp(net)) - expected) < 1e-9 * abs(expected)
    assert abs(float(lp(m.site_values(net))) - expected) < 1e-9 * abs(expected)
    # jit and grad: d/dW log N(W; 0, s^2) = -W / s^2
    g = eqx.filter_jit(eqx.filter_grad(lp))(net)
    sw = m.prior_scales()[2][0]
    assert_close(g.layers[2].W, -net.layers[2].W / sw**2, rtol=1e-10, atol=1e-12)


def test_log_prior_rejects_missing_or_unknown_sites():
    m = BayesianSIREN.init(1, 4, 1, depth=2, pyrox_name="s")
    values = m.site_values(prior_init_fn(m)(jax.random.key(0)))
    lp = log_prior_fn(m)
    with pytest.raises(ValueError, match="missing.*s.layer_1.b"):
        lp({k: v for k, v in values.items() if k != "s.layer_1.b"})
    with pytest.raises(ValueError, match="unknown.*nope"):
        lp({**values, "nope": jnp.zeros(1)})
    with pytest.raises(TypeError, match="`params` must be a dict"):
        log_prior_fn(lambda x: x, jnp.zeros(1))(3.0)


# ---------------------------------------------------------------- ensemble_map


def _regression(n=30, seed=0):
    x = jnp.linspace(-1.0, 1.0, n)[:, None]
    y = jnp.sin(3 * x[:, 0]) + 0.05 * jax.random.normal(jax.random.key(seed), (n,))
    return x, y


def test_members_differ_and_each_decreases_its_loss():
    m = BayesianSIREN.init(1, 10, 1, depth=3, first_omega=3.0, hidden_omega=3.0, pyrox_name="s")
    lp = log_prior_fn(m)

    def log_joint(net, xb, yb):
        return -0.5 * jnp.sum((yb - net(xb)[:, 0]) ** 2) / 0.05**2, lp(net)

    x, y = _regression()
    params, losses = ensemble_map(
        log_joint,
        prior_init_fn(m),
        ensemble_size=4,
        num_epochs=200,
        data=(x, y),
        seed=0,
        learning_rate=1e-2,
    )
    assert losses.shape == (4, 200) and params.layers[0].W.shape == (4, 1, 10)
    losses = np.asarray(losses)
    assert np.all(losses[:, -1] < losses[:, 0] - 100.0)  # every member improves a lot
    assert np.all(np.mean(losses[:, -20:], 1) < np.mean(losses[:, :20], 1))
    w0 = np.asarray(params.layers[0].W)
    assert all(not np.allclose(w0[i], w0[j]) for i in range(4) for j in range(i))
    # the recorded loss is the negative log joint of the parameters before each step
    preds = ensemble_predict(params, lambda net, xs: net(xs)[:, 0], x)
    assert preds.shape == (4, 30)
    assert float(jnp.sqrt(jnp.mean((preds.mean(0) - jnp.sin(3 * x[:, 0])) ** 2))) < 0.05


def test_full_batch_map_matches_the_conjugate_posterior_mode():
    # y = w x + noise, w ~ N(0, s^2): the MAP is (x.y / sn^2) / (x.x / sn^2 + 1 / s^2)
    x, y = _regression(40, seed=1)
    sn, s = 0.3, 0.5

    def log_joint(w, xb, yb):
        return -0.5 * jnp.sum((yb - w * xb[:, 0]) ** 2) / sn**2, -0.5 * w**2 / s**2

    w, losses = ensemble_map(
        log_joint,
        lambda k: jax.random.normal(k) * s,
        ensemble_size=3,
        num_epochs=2000,
        data=(x, y),
        seed=2,
        learning_rate=0.02,
    )
    xv, yv = np.asarray(x[:, 0]), np.asarray(y)
    w_map = (xv @ yv / sn**2) / (xv @ xv / sn**2 + 1 / s**2)
    assert_close(w, np.full(3, w_map), rtol=1e-5, atol=1e-6, what="MAP")


def test_minibatch_likelihood_is_scaled_by_n_over_b():
    # ll = sum(y_B) is linear in the data; with frozen parameters every epoch's mean step loss
    # is -(n/|B|) * mean over a partition of sum(y_B) = -sum(y) exactly
    y = jnp.arange(12.0)

    def log_joint(w, yb):
        return jnp.sum(yb) + 0.0 * w, jnp.zeros(())

    _, losses = ensemble_map(
        log_joint,
        lambda k: jnp.zeros(()),
        ensemble_size=2,
        num_epochs=3,
        data=(y,),
        seed=0,
        batch_size=4,
        optimizer=optax.set_to_zero(),
    )
    assert_close(losses, np.full((2, 3), -float(y.sum())), rtol=1e-12, atol=1e-12)


def test_prior_weight_and_vmap_jit_grad_of_predictions():
    def log_joint(w, xb, yb):
        return -0.5 * jnp.sum((yb - w * xb) ** 2), -0.5 * w**2

    x = jnp.ones(4)
    y = 2.0 * jnp.ones(4)
    w0, _ = ensemble_map(
        log_joint,
        lambda k: jnp.zeros(()),
        ensemble_size=2,
        num_epochs=800,
        data=(x, y),
        seed=0,
        learning_rate=0.05,
        prior_weight=0.0,
    )
    w1, _ = ensemble_map(
        log_joint,
        lambda k: jnp.zeros(()),
        ensemble_size=2,
        num_epochs=800,
        data=(x, y),
        seed=0,
        learning_rate=0.05,
        prior_weight=4.0,
    )
    assert_close(w0, [2.0, 2.0], rtol=1e-4, atol=1e-4)  # no prior: least squares
    assert_close(w1, [1.0, 1.0], rtol=1e-4, atol=1e-4)  # 4 (w - 2) = 4 w
    m = BayesianSIREN.init(1, 4, 1, depth=2, pyrox_name="s")
    nets = eqx.filter_vmap(prior_init_fn(m))(jax.random.split(jax.random.key(0), 3))
    f = jax.jit(lambda p, xs: ensemble_predict(p, lambda n, z: n(z)[..., 0], xs))
    xs = jnp.linspace(0, 1, 5)[:, None]
    out = f(nets, xs)
    assert out.shape == (3, 5)
    grad = jax.grad(lambda z: jnp.sum(f(nets, z[:, None])))(xs[:, 0])
    assert grad.shape == (5,) and bool(jnp.all(jnp.isfinite(grad)))


def test_ensemble_map_errors():
    def log_joint(w, xb, yb):
        return jnp.sum(xb) * w, jnp.zeros(())

    def init(k):
        return jnp.zeros(())

    kw = dict(ensemble_size=2, num_epochs=2, seed=0)
    with pytest.raises(ValueError, match="share their first"):
        ensemble_map(log_joint, init, data=(jnp.zeros(5), jnp.zeros(4)), **kw)
    with pytest.raises(ValueError, match="`batch_size` 9 exceeds"):
        ensemble_map(log_joint, init, data=(jnp.zeros(5), jnp.zeros(5)), batch_size=9, **kw)
    with pytest.raises(ValueError, match="`ensemble_size`"):
        ensemble_map(log_joint, init, data=(jnp.zeros(5),), ensemble_size=0, num_epochs=2, seed=0)
    with pytest.raises(ValueError, match="`prior_weight`"):
        ensemble_map(log_joint, init, data=(jnp.zeros(5),), prior_weight=-1.0, **kw)
    with pytest.raises(TypeError, match="`seed`"):
        ensemble_map(
            log_joint, init, data=(jnp.zeros(5),), ensemble_size=2, num_epochs=2, seed="zero"
        )


def test_sharded_and_unsharded_runs_agree(tmp_path):
    script = textwrap.dedent(
        """
        import jax, jax.numpy as jnp, numpy as np
        jax.config.update("jax_enable_x64", True)
        from fieldpde.bayes import ensemble_map, ensemble_predict, log_prior_fn, prior_init_fn
        from fieldpde.nn import BayesianSIREN
        assert jax.device_count() == 4
        m = BayesianSIREN.init(1, 8, 1, depth=3, first_omega=3.0, hidden_omega=3.0,
                               pyrox_name="s")
        lp = log_prior_fn(m)
        x = jnp.linspace(-1, 1, 16)[:, None]; y = jnp.sin(3 * x[:, 0])
        def log_joint(net, xb, yb):
            return -0.5 * jnp.sum((yb - net(xb)[:, 0]) ** 2) / 0.1**2, lp(net)
        out = {}
        for name, devices in (("one", jax.devices()[:1]), ("four", None)):
            params, losses = ensemble_map(log_joint, prior_init_fn(m), ensemble_size=8,
                num_epochs=20, data=(x, y), seed=0, batch_size=8, devices=devices)
            out[name] = (params, losses, ensemble_predict(params, lambda n, z: n(z), x))
        shards = {len(a.sharding.device_set) for a in jax.tree.leaves(out["four"][0])}
        assert shards == {4}, shards
        for a, b in zip(jax.tree.leaves(out["one"]), jax.tree.leaves(out["four"]), strict=True):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12)
        # the physics-informed ensemble shards its members (and their data noise) the same way
        from fieldpde.bayes import ensemble_fit
        from fieldpde.constraints import Observations, Residual
        from fieldpde.domains import Interval
        from fieldpde.problem import Problem
        problem = Problem({"pde": Residual(lambda p, d: d.laplacian, Interval(0.0, 1.0),
                                           num_points=8),
                           "data": Observations(x[:4], y[:4], noise_scale=0.1)})
        small = BayesianSIREN.init(1, 4, 1, depth=2, first_omega=2.0, pyrox_name="t")
        fits = [ensemble_fit(problem, prior_init_fn(small), ensemble_size=4, steps=5, seed=0,
                             log_prior=log_prior_fn(small), devices=d)
                for d in (jax.devices()[:1], None)]
        assert {len(a.sharding.device_set) for a in jax.tree.leaves(fits[1].fields)} == {4}
        for a, b in zip(jax.tree.leaves(fits[0]), jax.tree.leaves(fits[1]), strict=True):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12)
        print("SHARDED-OK")
        """
    )
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": str(ROOT),
    }
    run = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "SHARDED-OK" in run.stdout, run.stderr[-3000:]


# ---------------------------------------------------------------- stuck members


def _double_well():
    # energy (w^2 - 1)^2 + 0.5 (w + 1): a deep well near w = -1 and a shallow one near w = +1
    def log_joint(w, xb):
        return -jnp.sum(xb) * ((w**2 - 1) ** 2 + 0.5 * (w + 1)), jnp.zeros(())

    return log_joint, (jnp.ones(1) * 20.0,)


def test_find_stuck_and_redraw():
    log_joint, data = _double_well()

    def init_fn(k):
        return jax.random.uniform(k, minval=-1.6, maxval=0.6)

    kw = dict(num_epochs=400, data=data, learning_rate=0.02)
    w, losses = ensemble_map(log_joint, init_fn, ensemble_size=12, seed=0, **kw)
    shallow = np.flatnonzero(np.asarray(w) > 0)
    assert 0 < len(shallow) < 12  # some members start in the shallow basin and stay there
    stuck, threshold = find_stuck(losses)
    assert stuck.tolist() == shallow.tolist()  # the excess is 20 * 1 = 20 nats > 10
    w2, losses2, report = redraw_stuck(log_joint, init_fn, w, losses, seed=1, max_rounds=10, **kw)
    assert report.stuck == tuple(shallow.tolist())
    assert report.remaining == () and set(report.replaced) == set(shallow.tolist())
    assert np.all(np.asarray(w2) < 0) and "re-drew" in report.message
    keep = np.setdiff1d(np.arange(12), shallow)
    assert_close(np.asarray(w2)[keep], np.asarray(w)[keep], rtol=0, atol=0)
    assert losses2.shape == losses.shape


@pytest.mark.x64
def test_posterior_weights_and_weighted_summary():
    final = np.array([[3.0], [3.0], [3.0 + math.log(2.0)]])
    w = np.asarray(posterior_weights(final))
    assert_close(w, [0.4, 0.4, 0.2], rtol=1e-12, atol=1e-12)
    samples = jax.random.normal(jax.random.key(0), (4, 6))
    plain = predictive_summary(samples, quantiles=(0.2, 0.8))
    equal = predictive_summary(samples, weights=jnp.ones(4), quantiles=(0.2, 0.8))
    assert_close(equal["mean"], plain["mean"], rtol=1e-12, atol=1e-12)
    assert_close(equal["std"], plain["std"], rtol=1e-12, atol=1e-12)
    # two members with weights (3/4, 1/4): mean and std of the two-point distribution
    s = predictive_summary(jnp.array([[0.0], [4.0]]), weights=jnp.array([3.0, 1.0]))
    assert_close(s["mean"], [1.0], rtol=1e-12, atol=1e-12)
    assert_close(s["std"], [math.sqrt(3.0)], rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="`weights` must have shape"):
        predictive_summary(samples, weights=jnp.ones(3))
    with pytest.raises(ValueError, match="`losses` must have shape"):
        find_stuck(np.zeros(3))


def test_data_noise_makes_members_exact_posterior_samples():
    # y = w x + noise with a flat prior: randomised MAP members are w_OLS + (x.eps_e)/(x.x),
    # i.e. exact draws from N(w_OLS, sn^2 / x.x)
    x, y = _regression(20, seed=3)
    sn, e = 0.2, 256

    def log_joint(w, xb, yb):
        return -0.5 * jnp.sum((yb - w * xb[:, 0]) ** 2) / sn**2, jnp.zeros(())

    w, _ = ensemble_map(
        log_joint,
        lambda k: jnp.zeros(()),
        ensemble_size=e,
        num_epochs=600,
        data=(x, y),
        seed=0,
        learning_rate=0.02,
        data_noise=(None, sn),
    )
    xv = np.asarray(x[:, 0])
    w_ols, sd = xv @ np.asarray(y) / (xv @ xv), sn / math.sqrt(xv @ xv)
    w = np.asarray(w)
    assert abs(w.mean() - w_ols) < 4 * sd / math.sqrt(e)
    assert abs(w.std() / sd - 1) < 4 / math.sqrt(2 * e)
    with pytest.raises(ValueError, match="one scale \\(or None\\) per data array"):
        ensemble_map(
            log_joint,
            lambda k: jnp.zeros(()),
            ensemble_size=2,
            num_epochs=1,
            data=(x, y),
            seed=0,
            data_noise=(0.1,),
        )


def test_anchored_randomised_map_samples_the_conjugate_posterior():
    # y = w x + noise, prior w ~ N(0, s0^2) with s0 small enough to matter: perturbing the
    # data (data_noise) and re-centring the prior on each member's prior draw (anchor)
    # makes member e the minimiser of |y + eps_e - w x|^2 / sn^2 + (w - w0_e)^2 / s0^2,
    # an exact draw from N(m, v), v = 1 / (x.x / sn^2 + 1 / s0^2), m = v x.y / sn^2.
    # Without the anchor the spread is only the likelihood's share, sqrt(v * (x.x/sn^2) v)
    x, y = _regression(20, seed=3)
    sn, s0, e = 0.2, 0.05, 256

    def log_joint(w, xb, yb):
        return -0.5 * jnp.sum((yb - w * xb[:, 0]) ** 2) / sn**2, -0.5 * w**2 / s0**2

    kw = dict(ensemble_size=e, num_epochs=600, data=(x, y), seed=0, learning_rate=0.02)
    draw = lambda k: s0 * jax.random.normal(k)  # noqa: E731  the prior
    w, _ = ensemble_map(log_joint, draw, data_noise=(None, sn), anchor=True, **kw)
    w_data_only, _ = ensemble_map(log_joint, draw, data_noise=(None, sn), **kw)
    xv = np.asarray(x[:, 0])
    v = 1.0 / (xv @ xv / sn**2 + 1.0 / s0**2)
    m, sd = v * (xv @ np.asarray(y)) / sn**2, math.sqrt(v)
    w = np.asarray(w)
    assert abs(w.mean() - m) < 4 * sd / math.sqrt(e)
    assert abs(w.std() / sd - 1) < 4 / math.sqrt(2 * e)
    share = math.sqrt(v * (xv @ xv / sn**2) * v)  # the data-noise part alone
    assert abs(np.asarray(w_data_only).std() / share - 1) < 4 / math.sqrt(2 * e)
    assert share < 0.8 * sd  # so the two are told apart
    with pytest.raises(TypeError, match="`anchor` must be True or False"):
        ensemble_map(log_joint, draw, anchor="yes", **{**kw, "num_epochs": 1})
