"""SIREN / MLP: init regimes, Theorem-1 activation statistics, shapes and errors."""

import inspect
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_close

import fieldpde
from fieldpde.nn import MLP, SIREN, SirenDense, activation_statistics, siren_weight_limit


def test_init_ranges_and_variances_per_regime(key):
    d_in, width, omega, c = 3, 256, 30.0, 6.0
    net = SIREN.init(d_in, width, 2, depth=4, key=key, first_omega=omega, hidden_omega=omega)
    expected = {
        "first": 1.0 / d_in,
        "hidden": math.sqrt(c / width) / omega,
        "last": math.sqrt(c / width),
    }
    assert [layer.layer_type for layer in net.layers] == ["first", "hidden", "hidden", "last"]
    for layer in net.layers:
        a = expected[layer.layer_type]
        assert a == pytest.approx(siren_weight_limit(layer.layer_type, layer.in_features, omega, c))
        W = np.asarray(layer.W)
        assert np.all(np.abs(W) <= a)
        blim = 1.0 / math.sqrt(layer.in_features)
        assert np.all(np.abs(np.asarray(layer.b)) <= blim)
        if W.size >= 65536:
            # U(-a, a): the extremes are reached and Var = a^2/3. The sample variance of n
            # uniforms has relative s.d. sqrt(0.8/n) ~ 0.35% here, so 3% is > 8 sigma.
            assert np.max(np.abs(W)) > 0.99 * a
            assert np.var(W) == pytest.approx(a**2 / 3, rel=0.03)


def test_theorem1_activation_statistics_on_wide_net(key):
    """Hidden pre-activations ~ N(0, c/3 E[h^2] + w^2/(3 d)), post variance (1-e^{-2s^2})/2.

    For z = w(hW + b), W ~ U(+-sqrt(c/d)/w), b ~ U(+-1/sqrt(d)) independent of h:
    Var z = d * Var(W) w^2 E[h^2] + w^2 Var(b) = c/3 E[h^2] + w^2/(3d). With the arcsine
    input E[h^2] = 1/2 and c = 6 the weight part is exactly 1 (Sitzmann's Theorem 1).
    For Gaussian z with variance s^2, E[sin^2 z] = (1 - exp(-2 s^2)) / 2.
    """
    width, omega, c = 2048, 30.0, 6.0
    net = SIREN.init(1, width, 1, depth=5, key=key, first_omega=omega, hidden_omega=omega, c=c)
    x = jnp.linspace(-1.0, 1.0, 2048)[:, None]
    stats = activation_statistics(net, x)
    assert len(stats) == 5
    # first layer: sin of a wide uniform -> arcsine law, variance 1/2
    assert float(jnp.var(stats[0].post)) == pytest.approx(0.5, abs=0.02)
    for prev, layer in zip(stats[:-2], stats[1:-1], strict=True):
        second_moment = float(jnp.mean(prev.post**2))
        s2 = c / 3 * second_moment + omega**2 / (3 * width)
        pre = np.asarray(layer.pre).ravel()
        assert np.var(pre) == pytest.approx(s2, rel=0.05)
        assert abs(np.mean(pre)) < 0.05
        kurtosis = np.mean((pre - pre.mean()) ** 4) / np.var(pre) ** 2
        assert kurtosis == pytest.approx(3.0, abs=0.15), "pre-activations should be Gaussian"
        post_var = float(jnp.var(layer.post))
        assert post_var == pytest.approx((1 - math.exp(-2 * s2)) / 2, rel=0.05)
        assert 0.4 < post_var < 0.55
    # readout: linear, pre == post
    assert_close(stats[-1].pre, stats[-1].post, rtol=0, atol=0)


def test_weight_part_of_preactivation_is_unit_variance_without_bias(key):
    """Theorem 1 in its clean form: zero bias, arcsine input (E h^2 = 1/2) -> Var(pre) = 1.

    Only the first hidden layer sees the exact arcsine input of the first layer; deeper
    layers see sin(N(0, 1)), whose second moment (1 - e^-2)/2 ~ 0.43 gives c/3 * 0.43.
    """
    width = 2048
    net = SIREN.init(1, width, 1, depth=4, key=key)
    net = eqx.tree_at(
        lambda n: [layer.b for layer in n.layers[1:]],
        net,
        [jnp.zeros_like(layer.b) for layer in net.layers[1:]],
    )
    stats = activation_statistics(net, jnp.linspace(-1.0, 1.0, 2048)[:, None])
    assert float(jnp.var(stats[1].pre)) == pytest.approx(1.0, rel=0.05)
    assert float(jnp.var(stats[2].pre)) == pytest.approx(2 * (1 - math.exp(-2)) / 2, rel=0.05)


@pytest.mark.parametrize("shape", [(2,), (7, 2), (3, 4, 2)])
def test_last_axis_convention(key, shape):
    for net in (SIREN.init(2, 16, 3, depth=3, key=key), MLP.init(2, 16, 3, depth=3, key=key)):
        x = jax.random.normal(jax.random.key(1), shape)
        y = net(x)
        assert y.shape == shape[:-1] + (3,)
        flat = jax.vmap(net)(x.reshape(-1, 2)).reshape(y.shape)
        assert_close(y, flat, rtol=1e-12, atol=1e-12)


def test_reference_notebook_layer_surgery(key):
    """The reference notebooks replace (W, b) of every layer with eqx.tree_at."""
    base = SIREN.init(1, 16, 1, depth=3, key=key)
    new_layers = [
        eqx.tree_at(
            lambda layer_: (layer_.W, layer_.b), layer, (2 * layer.W, jnp.zeros_like(layer.b))
        )
        for layer in base.layers
    ]
    net = eqx.tree_at(lambda s: s.layers, base, new_layers)
    for old, new in zip(base.layers, net.layers, strict=True):
        assert new.W.shape == (old.in_features, old.out_features)
        assert_close(new.W, 2 * old.W, rtol=0, atol=0)
    assert net(jnp.zeros((4, 1))).shape == (4, 1)


@pytest.mark.x64
def test_jit_vmap_grad_and_ensembles(key):
    x = jnp.linspace(-1, 1, 16)[:, None]
    net = SIREN.init(1, 8, 1, depth=3, key=key)
    y = eqx.filter_jit(lambda n, x: n(x))(net, x)
    assert_close(y, net(x), rtol=1e-12, atol=1e-12)
    grads = eqx.filter_grad(lambda n: jnp.mean(n(x) ** 2))(net)
    assert all(jnp.all(jnp.isfinite(g)) for g in jax.tree.leaves(grads))
    # an ensemble is one vmapped init over a batch of keys
    make = eqx.filter_jit(eqx.filter_vmap(lambda k: SIREN.init(1, 8, 1, depth=3, key=k)))
    ens = make(jax.random.split(key, 5))
    out = eqx.filter_vmap(lambda n: n(x))(ens)
    assert out.shape == (5, 16, 1)
    assert float(jnp.std(out, axis=0).mean()) > 0  # members differ


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(depth=1), "`depth` must be an integer >= 2"),
        (dict(depth=0), "`depth`"),
        (dict(depth=2.5), "`depth`"),
        (dict(depth=3, first_omega=0.0), "`first_omega` must be > 0"),
        (dict(depth=3, hidden_omega=-1.0), "`hidden_omega` must be > 0"),
        (dict(depth=3, c=0.0), "`c` must be > 0"),
        (dict(depth=3, first_omega=float("nan")), "`first_omega`"),
    ],
)
def test_siren_bad_arguments(key, kwargs, match):
    with pytest.raises(ValueError, match=match):
        SIREN.init(2, 16, 1, key=key, **kwargs)


def test_bad_sizes_and_inputs(key):
    with pytest.raises(ValueError, match="`hidden_features`"):
        SIREN.init(2, 0, 1, depth=3, key=key)
    with pytest.raises(ValueError, match="`in_features`"):
        MLP.init(-1, 8, 1, depth=3, key=key)
    with pytest.raises(ValueError, match="`activation`"):
        MLP.init(2, 8, 1, depth=3, key=key, activation="swish2")
    with pytest.raises(ValueError, match="`layer_type`"):
        SirenDense.init(2, 4, key=key, layer_type="middle")
    net = SIREN.init(2, 8, 1, depth=3, key=key)
    with pytest.raises(ValueError, match=r"`x` passed to SIREN must have last axis 2"):
        net(jnp.zeros((5, 3)))
    with pytest.raises(ValueError, match="`x` passed to MLP"):
        MLP.init(2, 8, 1, depth=3, key=key)(jnp.zeros(3))
    with pytest.raises(TypeError, match="`net` must have `layers`"):
        activation_statistics(lambda x: x, jnp.zeros((3, 1)))


def test_mlp_relu_baseline_shapes(key):
    net = MLP.init(1, 64, 1, depth=4, key=key)
    assert [layer.activation for layer in net.layers] == ["relu", "relu", "relu", None]
    assert [layer.W.shape for layer in net.layers] == [(1, 64), (64, 64), (64, 64), (64, 1)]


def _public_classes():
    for module in (fieldpde.nn, fieldpde.ops, fieldpde.train):
        for name in dir(module):
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, eqx.Module):
                yield obj


def test_public_modules_are_final_or_abstract():
    classes = list(_public_classes())
    assert classes
    for cls in classes:
        is_final = getattr(cls, "__final__", False)
        is_abstract = cls.__name__.startswith("Abstract") or inspect.isabstract(cls)
        assert is_final != is_abstract, f"{cls.__name__} must be either @final or abstract"


def test_inits_accept_an_int_key():
    from fieldpde.nn import ConditionedINR, HyperSIREN, LastLayerNIF, RBFFourierFeatures

    def same(a, b):
        a, b = (jax.tree.leaves(eqx.filter(m, eqx.is_array)) for m in (a, b))
        return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))

    makers = {
        "SIREN": lambda k: SIREN.init(2, 8, 1, depth=3, key=k),
        "MLP": lambda k: MLP.init(2, 8, 1, depth=3, key=k),
        "SirenDense": lambda k: SirenDense.init(2, 4, key=k),
        "LastLayerNIF": lambda k: LastLayerNIF.init(
            1, 8, 1, depth=2, rank=2, param_features=2, key=k
        ),
        "HyperSIREN": lambda k: HyperSIREN(
            2, 8, 1, depth=2, cond_dim=2, parameter_net=lambda mu: mu, key=k
        ),
        "RBFFourierFeatures": lambda k: RBFFourierFeatures.init(2, 4, key=k),
    }
    assert set(inspect.signature(ConditionedINR.init).parameters) >= {"key"}
    for name, make in makers.items():
        ref = make(jax.random.key(5))
        for k in (5, np.int32(5), jax.random.PRNGKey(5)):
            assert same(make(k), ref), name
        with pytest.raises(TypeError, match="`key` must be a PRNG key"):
            make(5.0)
        with pytest.raises(TypeError, match="one key is needed here"):
            make(jax.random.split(jax.random.key(0), 2))


def test_object_dtype_input_is_a_type_error(key):
    bad = np.array([[0.1, None]], dtype=object)
    for net, owner in (
        (SIREN.init(2, 8, 1, depth=3, key=key), "SIREN"),
        (MLP.init(2, 8, 1, depth=3, key=key), "MLP"),
    ):
        with pytest.raises(
            TypeError, match=f"`x` passed to {owner} must be a numeric array, got dtype object"
        ):
            net(bad)
        with pytest.raises(TypeError, match=f"`x` passed to {owner} must be a numeric"):
            net([["a", "b"]])
        assert net([[0.1, 0.2]]).shape == (1, 1)  # lists of numbers are fine


def test_hypersiren_wrong_mu_length_names_mu(key):
    from fieldpde.nn import HyperSIREN, LastLayerNIF

    parameter_net = MLP.init(2, 8, 3, depth=2, key=key, activation="tanh")
    nif = HyperSIREN(2, 8, 1, depth=3, cond_dim=3, parameter_net=parameter_net, key=key)
    x = jnp.zeros((4, 2))
    assert nif(x, jnp.zeros(2)).shape == (4, 1)
    for mu in (jnp.zeros(3), jnp.zeros((4, 3))):
        with pytest.raises(ValueError, match=r"`mu` passed to HyperSIREN has P = 3 parameters"):
            nif(x, mu)
    with pytest.raises(TypeError, match="`mu` passed to HyperSIREN must be a numeric"):
        nif(x, np.array([1.0, None], dtype=object))
    last = LastLayerNIF.init(1, 8, 1, depth=2, rank=2, param_features=2, key=key)
    with pytest.raises(ValueError, match=r"`mu` passed to LastLayerNIF has P = 1 parameters"):
        last(jnp.zeros((3, 1)), jnp.zeros(1))


@pytest.mark.x64
def test_paper_readout_init_is_the_hidden_rule(key):
    """readout_init="paper": the readout is U(+-sqrt(c/d)/omega), the SIREN paper's code."""
    omega = 30.0
    wide = SIREN.init(2, 256, 3, depth=3, key=key, hidden_omega=omega)
    paper = SIREN.init(2, 256, 3, depth=3, key=key, hidden_omega=omega, readout_init="paper")
    a = math.sqrt(6.0 / 256) / omega
    W = np.asarray(paper.layers[-1].W)
    assert np.abs(W).max() <= a and np.abs(W).max() > 0.95 * a
    # the same draw, scaled by 1/omega; the other layers are untouched
    assert_close(paper.layers[-1].W, wide.layers[-1].W / omega, rtol=1e-12, atol=0)
    assert_close(paper.layers[-1].b, wide.layers[-1].b, rtol=0, atol=0)
    for p, w in zip(paper.layers[:-1], wide.layers[:-1], strict=True):
        assert_close(p.W, w.W, rtol=0, atol=0)
    assert siren_weight_limit("last", 256, omega, 6.0, readout_init="paper") == pytest.approx(a)
    single = SirenDense.init(256, 1, key=key, layer_type="last", omega=omega, readout_init="paper")
    assert float(jnp.abs(single.W).max()) <= a
    with pytest.raises(ValueError, match="`readout_init` must be 'wide'"):
        SIREN.init(2, 8, 1, depth=2, key=key, readout_init="outermost")
    with pytest.raises(ValueError, match="`readout_init`"):
        siren_weight_limit("last", 8, 30.0, 6.0, readout_init="narrow")
