"""SIRENKernelND: shapes, init, FiLM, FLOP count; FFT convolution against a direct sum."""

import itertools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_close

from fieldpde.nn import (
    SIRENConvND,
    SIRENKernelND,
    SIRENPositionalEmbeddingND,
    fft_conv_nd,
    siren_weight_limit,
)

# formulas and reference draws compared to tight tolerances: float64
pytestmark = pytest.mark.x64


def _net(key, **kw):
    args = dict(
        out_dim=4,
        data_dim=2,
        mlp_hidden_dim=32,
        num_layers=3,
        embedding_dim=16,
        omega_0=10.0,
        L_cache=8,
        use_bias=True,
    )
    args.update(kw)
    return SIRENKernelND(**args, key=key)


def test_shapes_with_and_without_conditioning(key):
    net = _net(key)
    kernel, grid = net((8, 5))
    assert kernel.shape == (1, 15, 9, 4) and grid.shape == (1, 15, 9, 2)
    # offsets k / (L_cache - 1): the full cache length spans [-1, 1]
    assert_close(grid[0, :, 4, 0], jnp.arange(-7, 8) / 7, rtol=1e-12, atol=1e-12)
    assert_close(grid[0, 7, :, 1], jnp.arange(-4, 5) / 7, rtol=1e-12, atol=1e-12)
    # a shorter input sees the central part of the same kernel
    small, _ = net((3, 5))
    assert_close(small[0], kernel[0, 5:10], rtol=1e-12, atol=1e-12)
    film = _net(key, film_cfg={"cond_dim": 3, "hidden_dim": 8})
    cond = jax.random.normal(jax.random.key(1), (6, 3))
    k_cond, _ = film((8, 5), cond)
    assert k_cond.shape == (6, 15, 9, 4)
    assert film((8, 5))[0].shape == (1, 15, 9, 4)
    assert film.num_film_layers == 2
    pos = _net(key, embedding_dim=32, film_cfg={"cond_dim": 3}, film_after_pos_embed=True)
    assert pos.num_film_layers == 3 and pos((8, 5), cond)[0].shape == (6, 15, 9, 4)
    one_d = _net(key, data_dim=1, L_cache=[16], out_dim=2)
    assert one_d((10,))[0].shape == (1, 19, 2)
    three_d = _net(key, data_dim=3, L_cache=(4, 5, 6))
    assert three_d((4, 2, 3))[0].shape == (1, 7, 3, 5, 4)


def test_film_is_identity_at_init_and_learns_a_batch_dependence(key):
    film = _net(key, embedding_dim=32, film_cfg={"cond_dim": 3}, film_after_pos_embed=True)
    cond = jax.random.normal(jax.random.key(1), (5, 3))
    plain, _ = film((6, 4))
    k_cond, _ = film((6, 4), cond)
    assert np.array_equal(np.asarray(k_cond), np.broadcast_to(plain, k_cond.shape))
    # perturb the generator's zero readout: kernels now differ across the batch
    last = film.film_generator.layers[-1]
    bumped = eqx.tree_at(
        lambda f: f.film_generator.layers[-1].W,
        film,
        0.1 * jax.random.normal(jax.random.key(2), last.W.shape),
    )
    k2, _ = bumped((6, 4), cond)
    assert float(jnp.std(k2, axis=0).max()) > 1e-3


def test_siren_and_wang_init(key):
    c = 6.0
    net = _net(key, hidden_omega_0=2.0, L_cache=(8, 4))
    pos = net.positional_embedding
    assert isinstance(pos, SIRENPositionalEmbeddingND) and pos.omega_0 == 10.0
    assert pos.linear.weight.shape == (16, 2)
    assert np.all(np.abs(pos.linear.weight) <= siren_weight_limit("first", 2, 10.0, c))
    assert len(net.hidden_linears) == 2 and net.sine.omega == 2.0
    for lin in net.hidden_linears:
        assert isinstance(lin, eqx.nn.Linear)
        assert np.all(np.abs(lin.weight) <= siren_weight_limit("hidden", lin.in_features, 2.0, c))
    wang = math.sqrt(1 / 32)
    W_out = net.out_linear.weight
    assert np.all(np.abs(W_out) <= wang * siren_weight_limit("hidden", 32, 2.0, c))
    assert np.all(net.out_linear.bias == 0)
    # the same draw for another cache size differs exactly by the Wang factor
    other = _net(key, hidden_omega_0=2.0, L_cache=(16, 16))
    assert_close(other.out_linear.weight, W_out * math.sqrt(32 / 256), rtol=1e-12, atol=0)
    assert_close(other.hidden_linears[0].weight, net.hidden_linears[0].weight, rtol=0, atol=0)
    no_bias = _net(key, use_bias=False)
    assert no_bias.positional_embedding.linear.bias is None
    assert all(lin.bias is None for lin in no_bias.hidden_linears)
    assert no_bias.out_linear.bias is None
    assert no_bias((4, 4))[0].shape == (1, 7, 7, 4)
    # the forward pass is the documented composition of the named layers
    h, grid = net.positional_embedding((3, 2))
    for lin in net.hidden_linears:
        h = net.sine(h @ lin.weight.T + lin.bias)
    expected = h @ net.out_linear.weight.T + net.out_linear.bias
    assert_close(net((3, 2))[0], expected, rtol=1e-12, atol=1e-12)


def test_page_positional_constructor_default_key_and_ignored_conditioning():
    """The reference page's signature, no key: the documented default key(0)."""
    net = SIRENKernelND(4, 2, 32, 3, 16, 10.0, 8, True)
    same = SIRENKernelND(4, 2, 32, 3, 16, 10.0, 8, True, key=jax.random.key(0))
    assert_close(net((5, 5))[0], same((5, 5))[0], rtol=0, atol=0)
    # conditioning given to a kernel without a FiLM generator is ignored
    kernel, _ = net((5, 5), jnp.ones((3, 7)))
    assert kernel.shape == (1, 9, 9, 4)
    assert_close(kernel, net((5, 5))[0], rtol=0, atol=0)
    emb = SIRENPositionalEmbeddingND(2, 16, 8, 10.0)
    assert emb((4, 4))[0].shape == (1, 7, 7, 16) and emb.use_bias


def test_flop_count_against_a_hand_count(key):
    # data_dim 2, embedding 16, hidden 32, out 4, num_layers 3 (two hidden layers),
    # grid_lens (8, 5) -> G = 15 * 9 = 135 grid points
    net = _net(key)
    G = 135
    embed = 2 * G * 2 * 16 + G * 16  # 8640 + 2160
    hidden1 = 2 * G * 16 * 32 + G * 32  # 138240 + 4320
    hidden2 = 2 * G * 32 * 32 + G * 32  # 276480 + 4320
    readout = 2 * G * 32 * 4  # 34560
    assert embed + hidden1 + hidden2 + readout == 468720
    assert net.flop_count((8, 5)) == 468720
    assert net.flop_count((8, 5), inference=True) == 0
    # FiLM: generator 3 -> 8 (silu) -> 2 * 2 * 32, then 2 G h per modulated layer
    film = _net(key, film_cfg={"cond_dim": 3, "hidden_dim": 8})
    generator = (2 * 3 * 8 + 8) + 2 * 8 * 128  # 56 + 2048
    assert film.film_generator.flop_count() == 2104
    expected = 468720 + 2104 + 2 * (2 * G * 32)
    assert film.flop_count((8, 5)) == expected == film.flop_count((8, 5), inference=True)
    assert generator == 2104


def _direct(u, k):
    """y[n] = sum_{|m| < L} k[m] u[n - m], written as nested loops."""
    B, *lens, C = u.shape
    y = np.zeros(u.shape)
    kb = k.shape[0]
    for b in range(B):
        for n in itertools.product(*(range(L) for L in lens)):
            acc = np.zeros(C)
            for m in itertools.product(*(range(-(L - 1), L) for L in lens)):
                src = tuple(ni - mi for ni, mi in zip(n, m, strict=True))
                if all(0 <= s < L for s, L in zip(src, lens, strict=True)):
                    kidx = tuple(mi + L - 1 for mi, L in zip(m, lens, strict=True))
                    acc += k[(b if kb > 1 else 0,) + kidx] * u[(b,) + src]
            y[(b,) + n] = acc
    return y


@pytest.mark.parametrize("lens,kb", [((7,), 1), ((5, 4), 2), ((3, 2, 3), 1)])
def test_fft_convolution_equals_direct_convolution(lens, kb):
    rng = np.random.default_rng(0)
    u = rng.normal(size=(2, *lens, 3))
    k = rng.normal(size=(kb, *(2 * n - 1 for n in lens), 3))
    assert_close(fft_conv_nd(u, k), _direct(u, k), rtol=1e-10, atol=1e-10)


def test_conv_layer_jit_vmap_grad(key):
    net = _net(key, out_dim=3, film_cfg={"cond_dim": 2, "hidden_dim": 8})
    conv = SIRENConvND(net)
    u = jax.random.normal(jax.random.key(1), (2, 6, 5, 3))
    cond = jax.random.normal(jax.random.key(2), (2, 2))
    kernel, _ = net((6, 5), cond)
    assert_close(conv(u, cond), _direct(np.asarray(u), np.asarray(kernel)), rtol=1e-9, atol=1e-9)

    @eqx.filter_jit
    def run(m):
        g = eqx.filter_grad(lambda m: jnp.sum(m(u, cond) ** 2))(m)
        per_item = jax.vmap(lambda ui, ci: m(ui[None], ci[None])[0])(u, cond)
        return m(u, cond), per_item, g

    y, per_item, g = run(conv)
    assert_close(per_item, y, rtol=1e-10, atol=1e-10)
    assert float(jnp.abs(g.kernel_net.out_linear.weight).max()) > 0
    assert float(jnp.abs(g.kernel_net.film_generator.layers[-1].W).max()) > 0


def test_kernel_errors(key):
    with pytest.raises(ValueError, match="embedding_dim == mlp_hidden_dim"):
        _net(key, film_cfg={"cond_dim": 3}, film_after_pos_embed=True)
    with pytest.raises(ValueError, match="needs a `film_cfg`"):
        _net(key, embedding_dim=32, film_after_pos_embed=True)
    with pytest.raises(ValueError, match="`L_cache` must be an int or a sequence of data_dim=2"):
        _net(key, L_cache=(8, 8, 8))
    with pytest.raises(ValueError, match="`L_cache` must be >= 2"):
        _net(key, L_cache=1)
    with pytest.raises(ValueError, match="`film_cfg` must give `cond_dim`"):
        _net(key, film_cfg={"hidden_dim": 8})
    film = _net(key, film_cfg={"cond_dim": 3})
    with pytest.raises(ValueError, match=r"`conditioning` must have shape \[B, 3\]"):
        film((4, 4), jnp.ones(3))
    with pytest.raises(ValueError, match="`seq_lens`"):
        film((4,))
    with pytest.raises(ValueError, match="`kernel` must have shape"):
        fft_conv_nd(jnp.ones((1, 4, 2)), jnp.ones((1, 5, 2)))
    with pytest.raises(ValueError, match="`u` must have shape"):
        SIRENConvND(_net(key))(jnp.ones((1, 4, 4, 3)))
