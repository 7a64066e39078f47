"""Constraints: residuals vanish on exact solutions, Eq. 3 scaling, hard constraints."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_close

from fieldpde import SIREN, ops
from fieldpde.constraints import (
    Dirichlet,
    HardDirichlet,
    Initial,
    Neumann,
    Observations,
    Periodic,
    Residual,
    Robin,
)
from fieldpde.domains import Box, Disk, Interval, TimeInterval

# exact-derivative and reference comparisons to tight tolerances: float64
pytestmark = pytest.mark.x64

SQUARE = Box([0.0, 0.0], [1.0, 1.0])


def exact(x):
    """u = sin(pi x) sin(pi y): -Laplacian u = 2 pi^2 u, zero on the unit square's boundary."""
    return jnp.sin(jnp.pi * x[..., 0:1]) * jnp.sin(jnp.pi * x[..., 1:2])


def test_poisson_residual_vanishes_on_exact_solution(key):
    res = Residual(
        lambda x, d: d.laplacian + 2 * jnp.pi**2 * jnp.sin(jnp.pi * x[0]) * jnp.sin(jnp.pi * x[1]),
        SQUARE,
        num_points=128,
    )
    batch = res.sample(key)
    r = res.residual(exact, batch)
    assert r.shape == (128, 1)
    assert float(jnp.max(jnp.abs(r))) < 1e-10
    bc = Dirichlet(0.0, SQUARE, num_points=64)
    assert float(jnp.max(jnp.abs(bc.residual(exact, bc.sample(key))))) < 1e-12


def test_eq3_scaling_by_region_measure(key):
    # C = 1 everywhere: the loss is w * |Omega| exactly (the integral of 1 over the region).
    box = Box([0.0, -1.0], [3.0, 1.0])
    for norm in ("squared", "l2", "l1"):
        res = Residual(lambda x, d: jnp.ones(1), box, weight=2.5, num_points=16, norm=norm)
        assert float(res.loss(exact, res.sample(key))) == pytest.approx(2.5 * 6.0)
    bc = Dirichlet(lambda x: -1.0, box, weight=0.5, num_points=16)  # u - g = 0 - (-1) = 1
    assert float(
        bc.loss(lambda x: jnp.zeros(x.shape[:-1] + (1,)), bc.sample(key))
    ) == pytest.approx(0.5 * 10.0)
    # a Monte-Carlo integral: the mean of x^2 over [0, 3] x [-1, 1] times the area = 18
    res = Residual(lambda x, d: x[:1], box, num_points=4096, method="sobol")
    assert float(res.loss(exact, res.sample(key))) == pytest.approx(18.0, rel=2e-3)


def test_residual_uses_fast_path_and_field_mode_agrees(key):
    net = SIREN.init(2, 16, 1, depth=3, key=key, first_omega=3.0, hidden_omega=3.0)
    fast = Residual(lambda x, d: d.laplacian + d.value, SQUARE, num_points=32)
    slow = Residual(lambda x, u: ops.laplacian(u)(x) + u(x), SQUARE, num_points=32, uses="field")
    batch = fast.sample(key)
    assert_close(fast.residual(net, batch), slow.residual(net, batch), rtol=1e-10, atol=1e-10)


def test_neumann_and_robin_on_known_field(key):
    # u = x^2 + y on the unit square; outward normal derivative is 2x n_x + n_y
    u = lambda x: x[..., 0:1] ** 2 + x[..., 1:2]  # noqa: E731

    def flux(x):
        on_right = jnp.isclose(x[0], 1.0)
        on_left = jnp.isclose(x[0], 0.0)
        on_top = jnp.isclose(x[1], 1.0)
        return jnp.where(on_right, 2.0, jnp.where(on_left, 0.0, jnp.where(on_top, 1.0, -1.0)))

    bc = Neumann(flux, SQUARE, num_points=200, method="uniform")
    assert float(jnp.max(jnp.abs(bc.residual(u, bc.sample(key))))) < 1e-10
    robin = Robin(
        2.0,
        3.0,
        lambda x: 2.0 * (x[0] ** 2 + x[1]) + 3.0 * flux(x),
        SQUARE,
        num_points=200,
        method="uniform",
    )
    assert float(jnp.max(jnp.abs(robin.residual(u, robin.sample(key))))) < 1e-10
    # a wrong flux gives the expected residual: (2x n_x + n_y) - 0
    zero = Neumann(0.0, SQUARE, num_points=50)
    batch = zero.sample(key)
    expected = jnp.sum(jnp.stack([2 * batch.points[:, 0], jnp.ones(50)], -1) * batch.normals, -1)
    assert_close(zero.residual(u, batch)[:, 0], expected, rtol=1e-10, atol=1e-10)


def test_periodic_initial_and_observations(key):
    periodic_field = lambda x: jnp.sin(2 * jnp.pi * x[..., :1]) + x[..., 1:2] ** 2  # noqa: E731
    per = Periodic(SQUARE, axis=0, num_points=32)
    assert float(jnp.max(jnp.abs(per.residual(periodic_field, per.sample(key))))) < 1e-10
    assert per.measure == pytest.approx(1.0)
    not_periodic = Periodic(SQUARE, axis=1, num_points=32)
    r = not_periodic.residual(periodic_field, not_periodic.sample(key))
    assert_close(r[:, 0], -jnp.ones(32), rtol=1e-12, atol=1e-12)  # y^2 at 0 minus at 1
    assert_close(r[:, 1], -2 * jnp.ones(32), rtol=1e-12, atol=1e-12)  # 2y at 0 minus at 1

    cyl = Interval(0.0, 1.0) * TimeInterval(0.0, 2.0)
    heat = lambda p: jnp.exp(-(jnp.pi**2) * p[..., 1:2]) * jnp.sin(jnp.pi * p[..., 0:1])  # noqa
    ic = Initial(
        lambda x: jnp.sin(jnp.pi * x[0]),
        cyl,
        velocity=lambda x: -(jnp.pi**2) * jnp.sin(jnp.pi * x[0]),
        num_points=64,
    )
    batch = ic.sample(key)
    assert bool(jnp.all(batch.points[:, -1] == 0.0))
    assert float(jnp.max(jnp.abs(ic.residual(heat, batch)))) < 1e-10
    pde = Residual(lambda x, d: d.grad[:, -1] - d.laplacian, cyl, laplacian_dims=0, num_points=64)
    assert float(jnp.max(jnp.abs(pde.residual(heat, pde.sample(key))))) < 1e-9

    x = jnp.linspace(0, 1, 20)[:, None]
    obs = Observations(x, 3 * x[:, 0] + 0.1, noise_scale=0.1)
    r = obs.residual(lambda p: 3 * p, obs.sample(key))
    assert_close(r, -jnp.ones((20, 1)), rtol=1e-12, atol=1e-12)  # (u - y)/sigma
    sub = Observations(x, 3 * x[:, 0], batch_size=5).sample(key)
    assert sub.points.shape == (5, 1) and sub.extra.shape == (5, 1)


@pytest.mark.parametrize("domain", [Box([-1.0, 0.0], [1.0, 2.0]), Disk([0.5, -0.5], 1.5)])
def test_hard_dirichlet_meets_boundary_exactly(key, domain):
    net = SIREN.init(2, 16, 1, depth=3, key=key)
    g = lambda x: jnp.cos(x[0]) + x[1] ** 2  # noqa: E731
    u = HardDirichlet.on(domain, net, boundary=g)
    pts, _ = domain.sample_boundary(200, key=key)
    assert_close(u(pts)[:, 0], jax.vmap(g)(pts), rtol=0, atol=1e-12)
    inside = domain.sample_interior(20, key=key)
    assert float(jnp.max(jnp.abs(u(inside)[:, 0] - jax.vmap(g)(inside)))) > 1e-3
    # the fast path through the transform equals autodiff
    fast = ops.value_grad_laplacian(u, inside)
    slow = ops.value_grad_laplacian(u, inside, method="autodiff")
    for a, b in zip(fast, slow, strict=True):
        assert_close(a, b, rtol=1e-9, atol=1e-9)


def test_constraint_errors():
    with pytest.raises(TypeError, match="`domain` of Residual must be a fieldpde domain"):
        Residual(lambda x, d: d.value, "square")
    with pytest.raises(ValueError, match="`norm`"):
        Dirichlet(0.0, SQUARE, norm="max")
    with pytest.raises(ValueError, match="`num_points`"):
        Dirichlet(0.0, SQUARE, num_points=0)
    with pytest.raises(TypeError, match="must take \\(x, d\\) or \\(x, d, params\\)"):
        Residual(lambda x: x, SQUARE)
    with pytest.raises(TypeError, match="SpaceTime"):
        Initial(0.0, SQUARE)
    with pytest.raises(ValueError, match="`values` must have shape"):
        Observations(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="`noise_scale`"):
        Observations(np.zeros((4, 2)), np.zeros(4), noise_scale=0.0)
    with pytest.raises(ValueError, match="finite"):
        Observations(np.zeros((2, 1)), np.array([1.0, math.nan]))
    with pytest.raises(ValueError, match="`axis`"):
        Periodic(SQUARE, axis=2)
    with pytest.raises(TypeError, match="`domain` must be a fieldpde domain"):
        HardDirichlet.on("square", lambda x: x)
    with pytest.raises(ValueError, match="`part`: 'top' is not a boundary part of this SpaceTime"):
        HardDirichlet.on(Interval(0.0, 1.0) * TimeInterval(0.0, 1.0), lambda x: x, part="top")


def test_observations_of_gradients_and_laplacians(key):
    u = lambda x: x[..., 0:1] ** 2 + 3 * x[..., 1:2]  # noqa: E731
    pts = jax.random.uniform(key, (10, 2))
    grads = jnp.stack([2 * pts[:, 0], 3 * jnp.ones(10)], axis=-1)
    obs = Observations(pts, grads, derivative="grad")
    assert float(jnp.max(jnp.abs(obs.residual(u, obs.sample(key))))) < 1e-12
    lap = Observations(pts, jnp.full(10, 2.5), derivative="laplacian", noise_scale=0.5)
    assert_close(lap.residual(u, lap.sample(key)), -jnp.ones((10, 1)), rtol=1e-12, atol=1e-12)
    wrong = Observations(pts, jnp.zeros(10), derivative="grad")
    with pytest.raises(ValueError, match="gives 2 values per point but `values` has 1"):
        wrong.residual(u, wrong.sample(key))
    with pytest.raises(ValueError, match="`derivative`"):
        Observations(pts, grads, derivative="hessian")


def test_with_num_points_resizes_regions_and_data(key):
    res = Residual(lambda x, d: d.value, SQUARE, num_points=16)
    assert res.with_num_points(40).sample(key).points.shape == (40, 2)
    assert res.num_points == 16  # the original is unchanged
    obs = Observations(jnp.zeros((10, 2)), jnp.zeros(10), batch_size=4)
    assert obs.with_num_points(6).sample(key).points.shape == (6, 2)
    assert obs.with_num_points(50).sample(key).points.shape == (10, 2)


_WEIGHTED = {
    "Residual": lambda w: Residual(lambda x, d: d.laplacian, SQUARE, weight=w),
    "Dirichlet": lambda w: Dirichlet(0.0, SQUARE, weight=w),
    "Neumann": lambda w: Neumann(0.0, SQUARE, weight=w),
    "Robin": lambda w: Robin(1.0, 1.0, 0.0, SQUARE, weight=w),
    "Periodic": lambda w: Periodic(SQUARE, axis=0, weight=w),
    "Initial": lambda w: Initial(0.0, SQUARE * TimeInterval(0.0, 1.0), weight=w),
    "Observations": lambda w: Observations(np.zeros((3, 2)), np.zeros(3), weight=w),
}


@pytest.mark.parametrize("name", list(_WEIGHTED))
@pytest.mark.parametrize("weight", [-1.0, -1, math.nan, math.inf, "heavy", True, None])
def test_constraint_weight_must_be_finite_and_nonnegative(name, weight):
    with pytest.raises(ValueError, match=rf"`weight` of {name} must be a finite number >= 0"):
        _WEIGHTED[name](weight)


@pytest.mark.parametrize("name", list(_WEIGHTED))
def test_constraint_weight_zero_and_numpy_numbers_accepted(name):
    assert _WEIGHTED[name](0).weight == 0.0
    assert _WEIGHTED[name](np.float32(2.5)).weight == 2.5


def test_observations_reject_object_arrays():
    mixed = np.array([[0.0, 1.0], [None, 2.0]], dtype=object)
    with pytest.raises(TypeError, match="`points` passed to Observations must be a numeric"):
        Observations(mixed, np.zeros(2))
    with pytest.raises(TypeError, match="`values` passed to Observations .* dtype object"):
        Observations(np.zeros((2, 2)), np.array([1.0, "2"], dtype=object))
    with pytest.raises(ValueError, match="`noise_scale` must be a finite positive"):
        Observations(np.zeros((2, 2)), np.zeros(2), noise_scale=math.nan)
