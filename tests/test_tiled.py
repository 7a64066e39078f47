"""Tiled losses (`tiled_sum`, `Residual(tile=...)`): the same loss and gradient as untiled."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from fieldpde import SIREN, Problem
from fieldpde.constraints import HardDirichlet, Residual, tiled_sum
from fieldpde.constraints._pde import AUTO_TILE, AUTO_TILE_FROM
from fieldpde.domains import Box
from fieldpde.train import Optax, ProblemObjective, TrainState
from fieldpde.train._block import run_block

BOX = Box([0.0, 0.0], [1.0, 1.0])


def _source(x):
    return jnp.sin(jnp.pi * x[0]) * jnp.sin(2 * jnp.pi * x[1])


def _residual(x, d):
    # O(1) terms: -Δu = 5π² f, scaled by 1/(5π²)
    return -d.laplacian / (5 * jnp.pi**2) - _source(x)


def _setup(tile, n=300, dtype=None):
    pde = Residual(_residual, BOX, num_points=n, method="uniform", tile=tile)
    problem = Problem({"pde": pde})
    net = SIREN.init(2, 16, 1, depth=3, key=jax.random.key(0), dtype=dtype)
    params, static = eqx.partition((HardDirichlet.on(BOX, net), None), eqx.is_inexact_array)
    batch = problem.sample(jax.random.key(1))
    if dtype is not None:
        batch = jax.tree.map(lambda a: a.astype(dtype), batch)
    return ProblemObjective(problem, static), params, batch


def _value_and_grad(tile, dtype=None, n=300):
    objective, params, batch = _setup(tile, n, dtype)
    return jax.jit(jax.value_and_grad(lambda p: objective(p, batch, None)[0]))(params)


def _relative(a, b):
    scale = max(float(jnp.max(jnp.abs(x))) for x in jax.tree.leaves(b))
    pairs = zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    return max(float(jnp.max(jnp.abs(x - y))) for x, y in pairs) / scale


@pytest.mark.parametrize("tile", [64, 100, 299])  # 300 points: remainders 44, 0, 1
def test_tiled_loss_and_gradient_match_float32(tile):
    loss, grad = _value_and_grad(tile)
    loss0, grad0 = _value_and_grad(None)
    assert abs(float(loss - loss0)) <= 1e-6 * abs(float(loss0))
    assert _relative(grad, grad0) <= 1e-6


@pytest.mark.x64
@pytest.mark.parametrize("tile", [64, 100])
def test_tiled_loss_and_gradient_match_float64(tile):
    loss, grad = _value_and_grad(tile, jnp.float64)
    loss0, grad0 = _value_and_grad(None, jnp.float64)
    assert loss.dtype == jnp.float64
    assert abs(float(loss - loss0)) <= 1e-12 * abs(float(loss0))
    assert _relative(grad, grad0) <= 1e-12


def test_tiled_adam_steps_match_untiled():
    def steps(tile):
        objective, params, batch = _setup(tile)
        phase = Optax(10, optax.adam(1e-3), resample_every=10)
        state, losses, _, _ = run_block(
            objective, phase, TrainState.init(phase, params), batch, None, 5, 1e6, None
        )
        return state.params, losses

    (p1, l1), (p0, l0) = steps(64), steps(None)
    np.testing.assert_allclose(l1, l0, rtol=1e-5)
    assert _relative(p1, p0) <= 1e-5


def test_gradient_with_respect_to_points_matches():
    net = SIREN.init(2, 8, 1, depth=2, key=jax.random.key(2))
    x = jax.random.uniform(jax.random.key(3), (50, 2))

    def f(args, rows):
        return jnp.sum(args(rows) ** 2, axis=-1)

    def tiled(x):
        return tiled_sum(f, net, x, 16)

    g1 = jax.grad(tiled)(x)
    g0 = jax.grad(lambda x: jnp.sum(f(net, x)))(x)
    np.testing.assert_allclose(g1, g0, rtol=1e-5, atol=1e-6)


def test_vmap_over_members_matches():
    objective, params, batch = _setup(64)
    objective0, _, _ = _setup(None)
    stacked = jax.tree.map(lambda a: jnp.stack([a, 1.1 * a]), params)

    def grads(obj):
        g = jax.grad(lambda p: obj(p, batch, None)[0])
        return jax.jit(jax.vmap(g))(stacked)

    assert _relative(grads(objective), grads(objective0)) <= 1e-6


def test_auto_tiles_large_batches_only():
    pde = Residual(_residual, BOX, num_points=4096)
    assert pde.tile == "auto"
    assert pde.loss_tile(AUTO_TILE_FROM - 1) is None
    assert pde.loss_tile(AUTO_TILE_FROM) == AUTO_TILE
    assert Residual(_residual, BOX, tile=None).loss_tile(10**6) is None
    assert Residual(_residual, BOX, tile=128).loss_tile(100) == 128


def test_bad_tile_is_an_error():
    with pytest.raises(ValueError, match="`tile`"):
        Residual(_residual, BOX, tile=0)
    with pytest.raises(ValueError, match="`tile`"):
        Residual(_residual, BOX, tile="big")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="first axis"):
        tiled_sum(lambda a, b: b[0], None, (jnp.ones(4), jnp.ones(3)), 2)
