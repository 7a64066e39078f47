"""Conditioners, ConditionedINR, HyperSIREN / NIF: maths, shapes, sites and errors."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_close
from numpyro import handlers
from scipy import stats

from fieldpde import ops
from fieldpde.nn import (
    MLP,
    SIREN,
    AbstractConditioner,
    AffineModulation,
    BayesianAffineModulation,
    BayesianConcatConditioner,
    BayesianHyperLinear,
    ConcatConditioner,
    ConditionedINR,
    FiLM,
    HyperLinear,
    HyperSIREN,
    LastLayerNIF,
    siren_weight_limit,
)
from fieldpde.nn._conditioners import linear_from
from fieldpde.nn._pyrox import key_tag

# exact-derivative and reference comparisons to tight tolerances: float64
pytestmark = pytest.mark.x64

C, K, N = 6, 3, 5
GAMMAS = ["one_plus_tanh", "exp", "softplus", "identity"]


def _deterministic(key, kind):
    if kind == "concat":
        return ConcatConditioner.init(C, K, key=key)
    if kind == "hyper":
        return HyperLinear.init(4, C, K, key=key, init_scale=1.0)
    return AffineModulation.init(C, K, key=key, gamma_activation=kind)


def _reference(layer, h, z):
    """The layer's formula written out for one row."""
    if isinstance(layer, ConcatConditioner):
        return jnp.concatenate([h, z]) @ layer.W + layer.b
    if isinstance(layer, HyperLinear):
        flat = z @ layer.W + layer.b
        return h @ flat[: 4 * C].reshape(4, C) + flat[4 * C :]
    out = z @ layer.W + layer.b
    beta, raw = out[:C], out[C:]
    gamma = {
        "one_plus_tanh": 1 + np.tanh(raw),
        "exp": np.exp(raw),
        "softplus": np.log1p(np.exp(raw)),
        "identity": raw,
    }[layer.gamma_activation]
    return gamma * h + beta


@pytest.mark.parametrize("kind", ["concat", "hyper"] + GAMMAS)
def test_conditioner_shapes_and_formula_in_both_z_modes(key, kind):
    layer = _deterministic(key, kind)
    c_in = 4 if kind == "hyper" else C
    kh, kz = jax.random.split(jax.random.key(1))
    h = jax.random.normal(kh, (N, c_in))
    zs = jax.random.normal(kz, (N, K))
    shared = layer(h, zs[0])
    per_row = layer(h, zs)
    assert shared.shape == per_row.shape == (N, C)
    assert layer(h[0], zs[0]).shape == (C,)
    for i in range(N):
        assert_close(per_row[i], _reference(layer, h[i], zs[i]), rtol=1e-12, atol=1e-12)
        assert_close(shared[i], _reference(layer, h[i], zs[0]), rtol=1e-12, atol=1e-12)
    # the shared path equals the per-row path with the context repeated
    assert_close(shared, layer(h, jnp.tile(zs[0], (N, 1))), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda: BayesianConcatConditioner.init(C, K, prior_std=0.5, pyrox_name="s"),
        lambda: BayesianAffineModulation.init(C, K, prior_std=0.5, pyrox_name="s"),
        lambda: BayesianHyperLinear.init(4, C, K, prior_std=0.5, pyrox_name="s"),
    ],
)
def test_bayesian_conditioners_two_sites_and_same_maths(make):
    layer = make()
    c_in = getattr(layer, "target_in", C)
    h = jax.random.normal(jax.random.key(1), (N, c_in))
    zs = jax.random.normal(jax.random.key(2), (N, K))
    with handlers.seed(rng_seed=3), handlers.trace() as tr:
        shared = layer(h, zs[0])
    assert len(tr) == 2 and all(site["type"] == "sample" for site in tr.values())
    names = sorted(tr)
    w_name, b_name = names  # "*_W" sorts before "*_b"
    W, b = tr[w_name]["value"], tr[b_name]["value"]
    # the same maths as the deterministic twin with the drawn generator
    twin = {
        BayesianConcatConditioner: lambda: ConcatConditioner(linear_from(W, b), C, K),
        BayesianAffineModulation: lambda: AffineModulation(linear_from(W, b), C, K),
        BayesianHyperLinear: lambda: HyperLinear(linear_from(W, b), 4, C, K),
    }[type(layer)]()
    assert_close(shared, twin(h, zs[0]), rtol=1e-12, atol=1e-12)
    with handlers.seed(rng_seed=3):
        assert layer(h, zs).shape == (N, C)
    # the prior: i.i.d. Normal(0, prior_std) on each generator entry, log density by hand
    lp = sum(float(site["fn"].log_prob(site["value"])) for site in tr.values())
    hand = stats.norm(0, 0.5).logpdf(np.asarray(W)).sum() + stats.norm(0, 0.5).logpdf(b).sum()
    assert lp == pytest.approx(hand, rel=1e-10)
    assert np.std(np.asarray(W)) == pytest.approx(0.5, rel=0.35)


def test_film_is_exactly_identity_with_zero_bias_and_zero_context(key):
    film = AffineModulation.init(C, K, key=key)
    film = eqx.tree_at(lambda f: f.b, film, jnp.zeros_like(film.b))
    h = jax.random.normal(jax.random.key(1), (N, C))
    assert np.array_equal(film(h, jnp.zeros(K)), h)
    assert np.array_equal(film(h, jnp.zeros((N, K))), h)
    assert FiLM is AffineModulation


def test_log_det_equals_autodiff_log_jacobian(key):
    film = AffineModulation.init(C, K, key=key, gamma_activation="exp")
    zs = jax.random.normal(jax.random.key(1), (N, K))
    h = jax.random.normal(jax.random.key(2), (C,))
    log_dets = film.log_det(zs)
    assert log_dets.shape == (N,)
    for i in range(N):
        J = jax.jacfwd(film)(h, zs[i])
        sign, logabs = jnp.linalg.slogdet(J)
        assert float(sign) == 1.0
        assert float(film.log_det(zs[i])) == pytest.approx(float(logabs), rel=1e-12, abs=1e-12)
        assert float(log_dets[i]) == pytest.approx(float(logabs), rel=1e-12, abs=1e-12)
    for mode in ("one_plus_tanh", "softplus", "identity"):
        with pytest.raises(NotImplementedError, match="gamma_activation='exp'"):
            AffineModulation.init(C, K, key=key, gamma_activation=mode).log_det(zs)


def test_conditioned_inr_input_mode_equals_concatenation(key):
    d = 2
    inner = SIREN.init(d + K, 16, 1, depth=3, key=key)
    field = ConditionedINR.init(
        inner, conditioner_cls=AffineModulation, cond_dim=K, key=key, mode="input"
    )
    x = jax.random.uniform(jax.random.key(1), (N, d))
    zs = jax.random.normal(jax.random.key(2), (N, K))
    assert field.conditioners == ()
    assert_close(field(x, zs), inner(jnp.concatenate([x, zs], -1)), rtol=0, atol=0)
    shared = jnp.concatenate([x, jnp.tile(zs[0], (N, 1))], -1)
    assert_close(field(x, zs[0]), inner(shared), rtol=0, atol=0)
    assert field.in_features == d


@pytest.mark.parametrize("inner_kind", ["siren", "mlp"])
def test_feature_mode_with_identity_film_is_the_inner_network(key, inner_kind):
    if inner_kind == "siren":
        inner = SIREN.init(2, 16, 1, depth=4, key=key, first_omega=5.0, hidden_omega=5.0)
    else:
        inner = MLP.init(2, 16, 1, depth=4, key=key, activation="tanh")
    field = ConditionedINR.init(inner, conditioner_cls=AffineModulation, cond_dim=K, key=key)
    assert len(field.conditioners) == 3
    zero_bias = eqx.tree_at(
        lambda f: [c.b for c in f.conditioners],
        field,
        [jnp.zeros_like(c.b) for c in field.conditioners],
    )
    x = jax.random.uniform(jax.random.key(1), (N, 2), minval=-1, maxval=1)
    assert np.array_equal(zero_bias(x, jnp.zeros(K)), inner(x))
    # and a non-zero context changes the output
    assert not np.allclose(field(x, jnp.ones(K)), inner(x))


def test_feature_mode_is_the_explicit_film_siren(key):
    inner = SIREN.init(1, 8, 1, depth=3, key=key, first_omega=5.0, hidden_omega=5.0)
    field = ConditionedINR.init(inner, conditioner_cls=AffineModulation, cond_dim=K, key=key)
    x = jnp.array([0.3])
    z = jnp.array([0.2, -0.1, 0.5])
    h = x
    for layer, film in zip(inner.layers[:-1], field.conditioners, strict=True):
        out = z @ film.W + film.b
        gamma, beta = 1 + jnp.tanh(out[8:]), out[:8]
        h = gamma * jnp.sin(layer.omega * (h @ layer.W + layer.b)) + beta
    expected = h @ inner.layers[-1].W + inner.layers[-1].b
    assert_close(field(x, z), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls", [AffineModulation, ConcatConditioner, HyperLinear])
def test_conditioned_inr_shapes_and_broadcasting(key, cls):
    inner = SIREN.init(2, 8, 3, depth=3, key=key)
    field = ConditionedINR.init(inner, conditioner_cls=cls, cond_dim=K, key=key)
    x = jax.random.normal(jax.random.key(1), (4, 5, 2))
    z = jax.random.normal(jax.random.key(2), (4, 5, K))
    y = field(x, z)
    assert y.shape == (4, 5, 3)
    assert field(x, z[0, 0]).shape == (4, 5, 3)
    assert field(x[0, 0], z[0, 0]).shape == (3,)
    pointwise = jax.vmap(field)(x.reshape(-1, 2), z.reshape(-1, K)).reshape(y.shape)
    assert_close(y, pointwise, rtol=1e-12, atol=1e-12)
    shared = jax.vmap(lambda p: field(p, z[0, 0]))(x.reshape(-1, 2)).reshape(y.shape)
    assert_close(field(x, z[0, 0]), shared, rtol=1e-12, atol=1e-12)


def test_bayesian_film_depth4_traces_exactly_six_sites(key):
    inner = SIREN.init(1, 32, 1, depth=4, key=key, first_omega=5.0, hidden_omega=5.0)
    field = ConditionedINR.init(
        inner, conditioner_cls=BayesianAffineModulation, cond_dim=4, key=key
    )
    with handlers.seed(rng_seed=0), handlers.trace() as tr:
        y = field(jnp.zeros((4, 1)), jnp.zeros((4, 4)))
    assert y.shape == (4, 1)
    # unnamed: "BayesianAffineModulation_<12 hex digits of conditioner i's key>"
    tags = [key_tag(k, i) for i, k in enumerate(jax.random.split(key, 3))]
    assert all(len(t) == 12 for t in tags) and len(set(tags)) == 3
    assert sorted(tr) == sorted(
        f"BayesianAffineModulation_{t}.{p}" for t in tags for p in ("gen_W", "gen_b")
    )
    named = ConditionedINR.init(
        inner,
        conditioner_cls=BayesianAffineModulation,
        cond_dim=4,
        key=key,
        pyrox_name="film",
        prior_std=0.3,
    )
    with handlers.seed(rng_seed=0), handlers.trace() as tr:
        named(jnp.zeros(1), jnp.zeros(4))
    assert sorted(tr) == sorted(f"film.layer_{i}.{p}" for i in range(3) for p in ("gen_W", "gen_b"))
    assert tr["film.layer_0.gen_W"]["value"].shape == (4, 64)
    assert np.all(np.asarray(tr["film.layer_0.gen_W"]["fn"].base_dist.scale) == 0.3)


def test_parametric_derivatives_are_taken_in_x_only(key):
    """ops differentiate a conditioned field in x with mu fixed, as a ParametricProblem needs."""
    inner = SIREN.init(2, 16, 1, depth=3, key=key, first_omega=3.0, hidden_omega=3.0)
    field = ConditionedINR.init(inner, conditioner_cls=AffineModulation, cond_dim=K, key=key)
    x = jnp.array([0.2, -0.4])
    mu = jnp.array([0.5, 1.0, -0.3])
    eps = 1e-4

    @jax.jit
    def derivatives(x, mu):
        g = ops.grad(field)(x, mu)
        g_ref = jax.grad(lambda p: field(p, mu)[0])(x)
        lap = ops.laplacian(field)(x, mu)
        H = jax.hessian(lambda p: field(p, mu)[0])(x)
        fd = jnp.stack(
            [(field(x + eps * e, mu) - field(x - eps * e, mu))[0] / (2 * eps) for e in jnp.eye(2)]
        )
        batch = jax.vmap(ops.grad(field), in_axes=(0, None))(jnp.stack([x, 2 * x]), mu)
        return g, g_ref, lap, jnp.trace(H), fd, batch

    g, g_ref, lap, trace_h, fd, batch = derivatives(x, mu)
    assert_close(g, g_ref, rtol=1e-12, atol=1e-12)
    assert_close(jnp.reshape(lap, ()), trace_h, rtol=1e-10, atol=1e-10)
    # central differences in x agree with the gradient (O(eps^2) = 1e-8 error)
    assert_close(g, fd, rtol=1e-6, atol=1e-6)
    assert batch.shape == (2, 2)
    assert_close(batch[0], g, rtol=1e-12, atol=1e-12)


def _identity(mu):
    return mu


def test_hypersiren_generated_weights_start_in_the_sitzmann_ranges(key):
    d, width, out, depth, k = 2, 64, 1, 4, 8
    omega0, omega = 30.0, 20.0
    nif = HyperSIREN(
        d,
        width,
        out,
        depth=depth,
        cond_dim=k,
        parameter_net=_identity,
        key=key,
        first_omega=omega0,
        hidden_omega=omega,
    )
    sizes = [d] + [width] * (depth - 1) + [out]
    kinds = ["first"] + ["hidden"] * (depth - 2) + ["last"]
    for mu in jax.random.uniform(jax.random.key(1), (5, k), minval=-1, maxval=1):
        weights = nif.generate(mu)
        for i, ((W, b), kind) in enumerate(zip(weights, kinds, strict=True)):
            a = siren_weight_limit(kind, sizes[i], omega0 if i == 0 else omega, 6.0)
            assert W.shape == (sizes[i], sizes[i + 1]) and b.shape == (sizes[i + 1],)
            W = np.asarray(W)
            assert np.all(np.abs(W) <= a), f"layer {i}: generated W leaves [-a, a]"
            assert np.all(np.abs(np.asarray(b)) <= 1 / math.sqrt(sizes[i]))
            if W.size >= 4096:
                # dominated by U(+-0.9a): variance between 0.81 a^2/3 and a^2/3
                assert 0.75 * a**2 / 3 < np.var(W) < 1.05 * a**2 / 3
                assert np.max(np.abs(W)) > 0.85 * a
    # the latent matters: two contexts give different fields
    x = jnp.linspace(-1, 1, 7)[:, None].repeat(2, 1)
    assert not np.allclose(nif(x, jnp.ones(k)), nif(x, -jnp.ones(k)))


def test_hypersiren_is_a_siren_with_generated_weights(key):
    nif = HyperSIREN(
        2, 16, 2, depth=3, cond_dim=K, parameter_net=jnp.tanh, key=key, first_omega=10.0
    )
    x = jax.random.uniform(jax.random.key(1), (N, 2), minval=-1, maxval=1)
    mus = jax.random.normal(jax.random.key(2), (N, K))
    siren = SIREN.init(2, 16, 2, depth=3, key=key, first_omega=10.0)
    gen = nif.generate(mus[0])
    as_siren = eqx.tree_at(
        lambda s: [layer.W for layer in s.layers] + [layer.b for layer in s.layers],
        siren,
        [W for W, _ in gen] + [b for _, b in gen],
    )
    assert_close(nif(x, mus[0]), as_siren(x), rtol=1e-12, atol=1e-12)
    per_point = nif(x, mus)
    for i in range(N):
        assert_close(per_point[i], nif(x[i], mus[i]), rtol=1e-12, atol=1e-12)
    assert nif(x.reshape(1, N, 2), mus.reshape(1, N, K)).shape == (1, N, 2)


def test_last_layer_nif_is_basis_times_coefficients(key):
    nif = LastLayerNIF.init(1, 16, 2, depth=3, rank=4, param_features=3, key=key)
    x = jnp.linspace(-1, 1, N)[:, None]
    mu = jnp.array([0.1, -0.2, 0.3])
    phi = nif.shape_net(x)
    coef = nif.parameter_net(mu)
    expected = phi @ coef[:8].reshape(4, 2) + coef[8:]
    assert_close(nif(x, mu), expected, rtol=1e-12, atol=1e-12)
    mus = jnp.tile(mu, (N, 1))
    assert_close(nif(x, mus), expected, rtol=1e-12, atol=1e-12)


def _fields(key):
    inner = SIREN.init(2, 8, 1, depth=3, key=key)
    yield ConditionedINR.init(inner, conditioner_cls=AffineModulation, cond_dim=K, key=key)
    yield ConditionedINR.init(inner, conditioner_cls=ConcatConditioner, cond_dim=K, key=key)
    yield ConditionedINR.init(inner, conditioner_cls=HyperLinear, cond_dim=K, key=key)
    yield HyperSIREN(2, 8, 1, depth=3, cond_dim=K, parameter_net=jnp.tanh, key=key)
    yield LastLayerNIF.init(2, 8, 1, depth=3, rank=4, param_features=K, key=key)


def test_every_conditioned_field_through_jit_vmap_grad(key):
    x = jax.random.uniform(jax.random.key(1), (N, 2))
    z = jax.random.normal(jax.random.key(2), (N, K))

    @eqx.filter_jit
    def run(field):
        grads = eqx.filter_grad(lambda f: jnp.sum(f(x, z) ** 2))(field)
        return field(x, z), jax.vmap(field)(x, z), field(x, z[0]), grads

    for field in _fields(key):
        name = type(field).__name__
        y, y_vmap, y_shared, grads = run(field)
        assert y.shape == y_shared.shape == (N, 1)
        assert_close(y_vmap, y, rtol=1e-12, atol=1e-12, what=name)
        leaves = [g for g in jax.tree.leaves(grads) if eqx.is_array(g)]
        assert leaves and all(bool(jnp.all(jnp.isfinite(g))) for g in leaves), name
        assert any(float(jnp.abs(g).max()) > 0 for g in leaves), name


def test_conditioners_through_jit_vmap_grad(key):
    h = jax.random.normal(jax.random.key(1), (N, C))
    z = jax.random.normal(jax.random.key(2), (N, K))

    @eqx.filter_jit
    def run(layer):
        g = eqx.filter_grad(lambda m: jnp.sum(m(h, z) ** 2))(layer)
        return layer(h, z), jax.vmap(layer)(h, z), g

    layers = [ConcatConditioner.init(C, K, key=key), AffineModulation.init(C, K, key=key)]
    layers.append(HyperLinear.init(C, C, K, key=key))
    for layer in layers:
        y, y_vmap, g = run(layer)
        assert_close(y_vmap, y, rtol=1e-12, atol=1e-12)
        assert float(jnp.abs(g.W).max()) > 0
    bayesian = [
        BayesianConcatConditioner.init(C, K),
        BayesianAffineModulation.init(C, K),
        BayesianHyperLinear.init(C, C, K, prior_std=0.1),
    ]
    for bayes in bayesian:

        def draw(seed, h, bayes=bayes):
            with handlers.seed(rng_seed=seed):
                return bayes(h, z)

        draws = jax.jit(jax.vmap(draw, in_axes=(0, None)))(jnp.arange(3), h)
        assert draws.shape == (3, N, C) and float(jnp.std(draws, axis=0).max()) > 0
        dh = jax.jit(jax.grad(lambda h, d=draw: jnp.sum(d(0, h) ** 2)))(h)
        assert dh.shape == h.shape and float(jnp.abs(dh).max()) > 0


def test_clear_errors(key):
    film = AffineModulation.init(C, K, key=key)
    with pytest.raises(ValueError, match="cond_dim=3"):
        film(jnp.ones((N, C)), jnp.ones((N, K + 1)))
    with pytest.raises(ValueError, match="rank 3"):
        film(jnp.ones((N, C)), jnp.ones((2, N, K)))
    with pytest.raises(ValueError, match=r"`h` passed to AffineModulation"):
        film(jnp.ones((N, C + 1)), jnp.ones(K))
    with pytest.raises(ValueError, match="per-row `z`"):
        film(jnp.ones(C), jnp.ones((N, K)))
    with pytest.raises(ValueError, match="per-row `z`"):
        HyperLinear.init(C, C, K, key=key)(jnp.ones((N, C)), jnp.ones((N + 1, K)))
    with pytest.raises(ValueError, match="`gamma_activation`"):
        AffineModulation.init(C, K, key=key, gamma_activation="relu")
    with pytest.raises(ValueError, match="`prior_std` must be > 0"):
        BayesianAffineModulation.init(C, K, prior_std=0.0)
    with pytest.raises(ValueError, match="`cond_dim`"):
        ConcatConditioner.init(C, 0, key=key)
    inner = SIREN.init(2, 8, 1, depth=3, key=key)
    field = ConditionedINR.init(inner, conditioner_cls=AffineModulation, cond_dim=K, key=key)
    with pytest.raises(ValueError, match="must match the `cond_dim`"):
        field(jnp.ones((N, 2)), jnp.ones((N, K + 1)))
    with pytest.raises(ValueError, match="one per point"):
        field(jnp.ones((N, 2)), jnp.ones((N + 1, K)))
    with pytest.raises(ValueError, match="`x` passed to ConditionedINR"):
        field(jnp.ones((N, 3)), jnp.ones(K))
    with pytest.raises(TypeError, match="`conditioner_cls`"):
        ConditionedINR.init(inner, conditioner_cls=SIREN, cond_dim=K, key=key)
    with pytest.raises(ValueError, match="`mode`"):
        ConditionedINR.init(inner, conditioner_cls=FiLM, cond_dim=K, key=key, mode="output")
    with pytest.raises(ValueError, match="`inner` must have a `layers`"):
        ConditionedINR.init(jnp.tanh, conditioner_cls=FiLM, cond_dim=K, key=key)
    nif = HyperSIREN(2, 8, 1, depth=3, cond_dim=K, parameter_net=lambda m: m[:2], key=key)
    with pytest.raises(ValueError, match="`parameter_net` of HyperSIREN must map"):
        nif(jnp.ones((N, 2)), jnp.ones(K))
    with pytest.raises(ValueError, match="`init_scale` must be in"):
        HyperSIREN(2, 8, 1, depth=3, cond_dim=K, parameter_net=_identity, key=key, init_scale=2)
    with pytest.raises(ValueError, match="`mu` passed to HyperSIREN"):
        HyperSIREN(2, 8, 1, depth=3, cond_dim=K, parameter_net=_identity, key=key)(
            jnp.ones((N, 2)), jnp.ones((N + 1, K))
        )


def test_conditioner_protocol():
    for cls in (ConcatConditioner, AffineModulation, HyperLinear):
        assert issubclass(cls, AbstractConditioner)
    for cls in (BayesianConcatConditioner, BayesianAffineModulation, BayesianHyperLinear):
        assert issubclass(cls, AbstractConditioner)
    with pytest.raises(TypeError):
        AbstractConditioner()


def test_bayesian_conditioned_fields_get_reproducible_per_instance_names(key):
    """Two fields from different keys share one numpyro model; names depend on the key only."""
    inner = SIREN.init(1, 8, 1, depth=3, key=key, first_omega=5.0, hidden_omega=5.0)

    def build(k):
        return ConditionedINR.init(
            inner, conditioner_cls=BayesianAffineModulation, cond_dim=2, key=k
        )

    a, b = build(jax.random.key(1)), build(jax.random.key(2))
    with handlers.seed(rng_seed=0), handlers.trace() as tr:
        a(jnp.zeros((3, 1)), jnp.zeros(2))
        b(jnp.zeros((3, 1)), jnp.zeros(2))
    assert len(tr) == 8  # 2 fields x 2 conditioners x (gen_W, gen_b), no clash
    again = build(jax.random.key(1))
    assert [c.pyrox_name for c in again.conditioners] == [c.pyrox_name for c in a.conditioners]
    # a traced key (inside jit or vmap) has no value: the name falls back to the index
    seen = []
    jax.jit(lambda k: seen.append(key_tag(k, 7)) or 0.0)(key)
    assert seen == ["7"]


def test_pyrox_method_draws_a_repeated_site_once_and_nests():
    import numpyro.distributions as dist

    from fieldpde.nn import PyroxModule, pyrox_method

    class Inner(PyroxModule):
        pyrox_name: str | None = eqx.field(static=True, default=None, kw_only=True)

        @pyrox_method
        def __call__(self):
            return self.pyrox_sample("w", dist.Normal(0.0, 1.0))

    class Outer(PyroxModule):
        inner: Inner

        @pyrox_method
        def __call__(self):
            a = self.inner()
            b = self.inner()  # the same site, in a nested decorated call: one draw
            return a, b

    with handlers.seed(rng_seed=0), handlers.trace() as tr:
        a, b = Outer(Inner(pyrox_name="s"))()
    assert float(a) == float(b) and list(tr) == ["s.w"]
    # without the decorator numpyro sees the duplicate
    with pytest.raises(AssertionError, match="unique names"):
        with handlers.seed(rng_seed=0), handlers.trace():
            inner = Inner()
            inner.pyrox_sample("w", dist.Normal(0.0, 1.0))
            inner.pyrox_sample("w", dist.Normal(0.0, 1.0))


def test_default_for_layer_needs_the_protocol_constructor():
    class Gain(AbstractConditioner):
        num_features: int
        cond_dim: int
        gain: float = 2.0

        def __call__(self, h, z):
            return self.gain * h

    built = Gain.for_layer(8, 3, key=None, gain=3.0)
    assert (built.num_features, built.cond_dim, built.gain) == (8, 3, 3.0)

    class Odd(AbstractConditioner):
        width: int

        @property
        def num_features(self):
            return self.width

        @property
        def cond_dim(self):
            return 1

        def __call__(self, h, z):
            return h

    with pytest.raises(TypeError, match="define a `for_layer` classmethod"):
        Odd.for_layer(8, 1)
