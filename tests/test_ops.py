"""Operators against analytic derivatives of polynomials and trigonometric fields."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_close

from fieldpde import MLP, SIREN, ops
from fieldpde.ops import Jet

# exact-derivative and reference comparisons to tight tolerances: float64
pytestmark = pytest.mark.x64

TOL = dict(rtol=1e-11, atol=1e-11)

# Compiled once per field structure: eager op-by-op autodiff dominates test time otherwise.
vgl = eqx.filter_jit(ops.value_grad_laplacian)


def _trig(d):
    """Scalar $u = \\sin(a\\cdot x)$ and its exact derivatives."""
    a = jnp.linspace(0.7, 1.9, d)

    def u(x):
        return jnp.sin(a @ x)

    exact = dict(
        grad=lambda x: a * jnp.cos(a @ x),
        hessian=lambda x: -jnp.outer(a, a) * jnp.sin(a @ x),
        laplacian=lambda x: -(a @ a) * jnp.sin(a @ x),
    )
    return u, exact


def _poly(d):
    """Scalar $u = \\sum_i c_i x_i^3 + b\\cdot x + x_0 x_{d-1}$ (mixed term for d > 1)."""
    c = jnp.arange(1.0, d + 1.0)
    b = jnp.linspace(-1.0, 2.0, d)
    mixed = d > 1

    def u(x):
        return jnp.sum(c * x**3) + b @ x + (x[0] * x[-1] if mixed else 0.0)

    def grad(x):
        g = 3 * c * x**2 + b
        if mixed:
            g = g.at[0].add(x[-1]).at[-1].add(x[0])
        return g

    def hessian(x):
        H = jnp.diag(6 * c * x)
        if mixed:
            H = H.at[0, -1].add(1.0).at[-1, 0].add(1.0)
        return H

    return u, dict(grad=grad, hessian=hessian, laplacian=lambda x: jnp.sum(6 * c * x))


def _vector(d):
    """Vector field $u_j = \\sin(A_j\\cdot x)$, $\\mathbb{R}^d \\to \\mathbb{R}^d$."""
    A = jnp.reshape(jnp.linspace(-1.5, 2.0, d * d), (d, d)) + jnp.eye(d)

    def u(x):
        return jnp.sin(A @ x)

    exact = dict(
        jacobian=lambda x: A * jnp.cos(A @ x)[:, None],
        divergence=lambda x: jnp.sum(jnp.diag(A) * jnp.cos(A @ x)),
        laplacian=lambda x: -jnp.sum(A**2, axis=1) * jnp.sin(A @ x),
        hessian=lambda x: -A[:, :, None] * A[:, None, :] * jnp.sin(A @ x)[:, None, None],
    )
    return u, exact


POINT = {1: np.array([0.3]), 2: np.array([0.3, -0.8]), 3: np.array([0.3, -0.8, 0.55])}


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("family", [_trig, _poly])
def test_scalar_operators_match_exact(d, family):
    u, exact = family(d)
    x = POINT[d]
    assert_close(ops.grad(u)(x), exact["grad"](x), **TOL, what="grad")
    assert_close(ops.jacobian(u)(x), exact["grad"](x), **TOL, what="jacobian of scalar")
    assert_close(ops.hessian(u)(x), exact["hessian"](x), **TOL, what="hessian")
    for method in ("forward", "jvp_grad", "hessian"):
        lap = ops.laplacian(u, method=method)(x)
        assert_close(lap, exact["laplacian"](x), **TOL, what=f"laplacian {method}")


@pytest.mark.parametrize("d", [1, 2, 3])
def test_vector_operators_match_exact(d):
    u, exact = _vector(d)
    x = POINT[d]
    assert_close(ops.jacobian(u)(x), exact["jacobian"](x), **TOL, what="jacobian")
    assert_close(ops.divergence(u)(x), exact["divergence"](x), **TOL, what="divergence")
    assert_close(ops.laplacian(u)(x), exact["laplacian"](x), **TOL, what="vector laplacian")
    assert_close(ops.hessian(u)(x), exact["hessian"](x), **TOL, what="vector hessian")


def test_dims_select_space_and_time():
    # u(x, y, t) = exp(-t) sin(x) sin(2y): u_t = -u and the spatial Laplacian is -5u.
    def u(p):
        return jnp.exp(-p[2]) * jnp.sin(p[0]) * jnp.sin(2 * p[1])

    p = jnp.array([0.4, 1.1, 0.3])
    assert_close(ops.grad(u, dims=-1)(p), jnp.array([-u(p)]), **TOL, what="u_t")
    assert_close(ops.laplacian(u, dims=slice(0, 2))(p), -5 * u(p), **TOL, what="space lap")
    assert_close(ops.laplacian(u, dims=[0, 1], method="hessian")(p), -5 * u(p), **TOL)
    assert_close(ops.laplacian(u, dims=(0, 1), method="jvp_grad")(p), -5 * u(p), **TOL)
    H = ops.hessian(u)(p)
    assert_close(ops.hessian(u, dims=(2, 0))(p), H[np.ix_([2, 0], [2, 0])], **TOL)
    # divergence pairs output i with the i-th selected coordinate
    v = lambda q: jnp.array([q[0] ** 2 * q[2], q[1] * q[2]])  # noqa: E731
    assert_close(ops.divergence(v, dims=(0, 1))(p), 2 * p[0] * p[2] + p[2], **TOL)


def test_extra_arguments_are_held_fixed():
    def u(x, mu):
        return mu * jnp.sum(x**2)

    x = jnp.array([0.2, 0.5])
    assert_close(ops.laplacian(u)(x, 3.0), 12.0, **TOL)
    assert_close(ops.grad(u)(x, 3.0), 6.0 * x, **TOL)


def test_operators_compose_with_jit_vmap_grad():
    xs = jnp.linspace(-1.0, 1.0, 7)[:, None]

    def lap_of(theta):
        return jax.vmap(ops.laplacian(lambda x: jnp.sin(theta * x[0])))(xs)

    theta = 1.7
    expected = -(theta**2) * jnp.sin(theta * xs[:, 0])
    assert_close(jax.jit(lap_of)(theta), expected, **TOL, what="jit(vmap(laplacian))")
    # d/dθ of -θ² sin(θx) = -2θ sin(θx) - θ² x cos(θx)
    dlap = jax.grad(lambda t: jnp.sum(lap_of(t)))(theta)
    exact = jnp.sum(
        -2 * theta * jnp.sin(theta * xs[:, 0]) - theta**2 * xs[:, 0] * jnp.cos(theta * xs[:, 0])
    )
    assert_close(dlap, exact, **TOL, what="grad through laplacian")
    # third derivative by nesting: grad of the laplacian of x^4 is 24 x
    g = ops.grad(ops.laplacian(lambda x: x[0] ** 4))
    assert_close(g(jnp.array([0.5])), jnp.array([12.0]), **TOL)


def test_operator_errors_name_the_problem():
    u = lambda x: jnp.sum(x**2)  # noqa: E731
    with pytest.raises(ValueError, match="one point of shape"):
        ops.laplacian(u)(jnp.zeros((5, 2)))
    with pytest.raises(ValueError, match="scalar field"):
        ops.grad(lambda x: x)(jnp.zeros(2))
    with pytest.raises(ValueError, match="divergence needs `u` to return shape"):
        ops.divergence(lambda x: x[:1])(jnp.zeros(2))
    with pytest.raises(ValueError, match="`dims` entry 3 is out of range"):
        ops.grad(u, dims=3)(jnp.zeros(2))
    with pytest.raises(ValueError, match="repeats"):
        ops.hessian(u, dims=(0, 0))(jnp.zeros(2))
    with pytest.raises(TypeError, match="`dims` must be"):
        ops.grad(u, dims="x")(jnp.zeros(2))
    with pytest.raises(ValueError, match="`method`"):
        ops.laplacian(u, method="fd")
    with pytest.raises(ValueError, match="scalar field"):
        ops.laplacian(lambda x: x, method="hessian")(jnp.zeros(2))


# ---------------------------------------------------------------- fast path


def _check_fast_equals_autodiff(net, x, name):
    fast = vgl(net, x)
    slow = vgl(net, x, method="autodiff")
    n, d = x.shape
    m = fast.value.shape[-1]
    assert fast.grad.shape == (n, m, d) and fast.laplacian.shape == (n, m)
    for part in ("value", "grad", "laplacian"):
        assert_close(
            getattr(fast, part), getattr(slow, part), rtol=1e-9, atol=1e-9, what=f"{name} {part}"
        )


@pytest.mark.parametrize("d,m", [(1, 1), (2, 1), (3, 2)])
def test_fast_path_equals_autodiff_siren(key, d, m):
    net = SIREN.init(d, 24, m, depth=4, key=key, first_omega=3.0, hidden_omega=2.0)
    assert ops.supports_forward_laplacian(net)
    x = jax.random.uniform(jax.random.key(7), (9, d), minval=-1.0, maxval=1.0)
    _check_fast_equals_autodiff(net, x, "siren")


@pytest.mark.parametrize("activation", MLP.activations)
def test_fast_path_equals_autodiff_mlp(key, activation):
    net = MLP.init(3, 16, 2, depth=3, key=key, activation=activation)
    x = jax.random.uniform(jax.random.key(7), (9, 3), minval=-1.0, maxval=1.0)
    _check_fast_equals_autodiff(net, x, f"mlp-{activation}")


def test_fast_path_on_siren_at_paper_frequency(key):
    # omega = 30 gives Laplacians of order 1e3..1e5: agreement must hold relative to that.
    net = SIREN.init(2, 64, 1, depth=4, key=key)
    x = jax.random.uniform(jax.random.key(3), (32, 2), minval=-1.0, maxval=1.0)
    fast = vgl(net, x)
    pointwise = jax.jit(jax.vmap(ops.laplacian(net)))(x)
    scale = float(jnp.max(jnp.abs(pointwise)))
    assert scale > 100.0
    assert_close(fast.laplacian, pointwise, rtol=0, atol=1e-11 * scale)


def test_fast_path_dims_and_batch_shapes(key):
    net = SIREN.init(3, 16, 2, depth=3, key=key, first_omega=2.0, hidden_omega=2.0)
    x = jax.random.normal(jax.random.key(1), (2, 5, 3))
    fast = vgl(net, x, dims=(0, 1))
    assert fast.grad.shape == (2, 5, 2, 2)
    ref = jax.jit(jax.vmap(jax.vmap(ops.laplacian(net, dims=(0, 1)))))(x)
    assert_close(fast.laplacian, ref, rtol=1e-10, atol=1e-10)
    dt = ops.value_grad_laplacian(net, x, dims=-1).grad[..., 0]
    jac = jax.jit(jax.vmap(jax.vmap(ops.jacobian(net))))(x)[..., 2]
    assert_close(dt, jac, rtol=1e-10, atol=1e-10)
    one = ops.value_grad_laplacian(net, x[0, 0])
    assert one.value.shape == (2,) and one.grad.shape == (2, 3)


def test_fast_path_falls_back_for_plain_callables():
    u, exact = _trig(2)
    x = jax.random.normal(jax.random.key(2), (6, 2))
    d = ops.value_grad_laplacian(u, x)
    assert d.value.shape == (6, 1) and d.grad.shape == (6, 1, 2)
    assert_close(d.grad[:, 0], jax.vmap(exact["grad"])(x), **TOL)
    assert_close(d.laplacian[:, 0], jax.vmap(exact["laplacian"])(x), **TOL)
    with pytest.raises(TypeError, match="has no `forward_laplacian`"):
        ops.value_grad_laplacian(u, x, method="forward")
    with pytest.raises(ValueError, match="`method`"):
        ops.value_grad_laplacian(u, x, method="fast")


def test_fast_path_differentiable_and_jittable(key):
    net = SIREN.init(2, 16, 1, depth=3, key=key, first_omega=3.0, hidden_omega=3.0)
    x = jax.random.uniform(jax.random.key(4), (11, 2))

    def loss(model, method):
        d = ops.value_grad_laplacian(model, x, method=method)
        return jnp.mean((d.laplacian + d.value) ** 2)

    g_fast = eqx.filter_jit(eqx.filter_grad(loss))(net, "forward")
    g_slow = eqx.filter_jit(eqx.filter_grad(loss))(net, "autodiff")
    for a, b in zip(jax.tree.leaves(g_fast), jax.tree.leaves(g_slow), strict=True):
        assert_close(a, b, rtol=1e-9, atol=1e-9, what="parameter gradient")


def test_jet_arithmetic_product_rule():
    x = jnp.array([[0.3, -0.2], [1.1, 0.4]])
    f = Jet.from_input(x).elementwise(jnp.sin)
    g = Jet.from_input(x).elementwise(jnp.exp)
    h = (f * g + f.scale(2.0)).linear(jnp.ones((2, 1)))

    def pointwise(p):
        return jnp.sum(jnp.sin(p) * jnp.exp(p) + 2.0 * jnp.sin(p), keepdims=True)

    ref = ops.value_grad_laplacian(pointwise, x)
    assert_close(h.value, ref.value, **TOL)
    assert_close(jnp.swapaxes(h.jac, -1, -2), ref.grad, **TOL)
    assert_close(h.lap, ref.laplacian, **TOL)


def test_fast_path_float32_agrees_to_rounding(key):
    net = SIREN.init(2, 64, 1, depth=4, key=key, dtype=jnp.float32)
    x = jax.random.uniform(jax.random.key(5), (64, 2), jnp.float32, -1.0, 1.0)
    fast = vgl(net, x)
    assert fast.laplacian.dtype == jnp.float32
    ref = jax.jit(jax.vmap(ops.laplacian(net)))(x.astype(jnp.float64))
    scale = float(jnp.max(jnp.abs(ref)))
    # float32 rounding (eps 6e-8) grows with depth and omega; 1e-5 of the scale is ample.
    assert float(jnp.max(jnp.abs(fast.laplacian - ref))) < 1e-5 * scale
    assert np.isfinite(np.asarray(fast.laplacian)).all()


def test_space_time_gradient_with_spatial_laplacian(key):
    # one pass gives u_t and the spatial Laplacian of a field on (x, y, t) points
    net = SIREN.init(3, 16, 1, depth=3, key=key, first_omega=2.0, hidden_omega=2.0)
    x = jax.random.uniform(jax.random.key(3), (8, 3))
    for method in ("forward", "autodiff"):
        d = vgl(net, x, laplacian_dims=(0, 1), method=method)
        assert d.grad.shape == (8, 1, 3)
        ref = jax.jit(jax.vmap(ops.laplacian(net, dims=(0, 1))))(x)
        assert_close(d.laplacian, ref, rtol=1e-10, atol=1e-10, what=method)
    # the rows follow the order of `dims`
    d = vgl(net, x, dims=(2, 1, 0), laplacian_dims=(1,))
    ref = jax.jit(jax.vmap(ops.laplacian(net, dims=1)))(x)
    assert_close(d.laplacian, ref, rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match="`laplacian_dims`"):
        ops.value_grad_laplacian(net, x, dims=(0, 1), laplacian_dims=2)
    with pytest.raises(ValueError, match="`laplacian_dims`"):
        ops.value_grad_laplacian(lambda p: p[:1], x, dims=(0, 1), laplacian_dims=2)


@pytest.mark.parametrize(
    "dtype, scales, tol_eps",
    [(jnp.float32, (3.0, 100.0, 8000.0), 1.0), (jnp.float64, (3.0, 100.0, 1e6), 8.0)],
)
def test_vectorised_sincos_is_accurate_to_a_few_ulp(dtype, scales, tol_eps):
    from fieldpde.ops._trig import _poly_sincos

    eps = float(jnp.finfo(dtype).eps)
    for scale in scales:
        z = jax.random.uniform(jax.random.key(1), (100_000,), dtype, -scale, scale)
        s, c = jax.jit(_poly_sincos)(z)
        zz = np.asarray(z, np.float64)
        assert np.abs(np.asarray(s, np.float64) - np.sin(zz)).max() <= tol_eps * eps
        assert np.abs(np.asarray(c, np.float64) - np.cos(zz)).max() <= tol_eps * eps


def test_sincos_falls_back_for_huge_or_nan_input_and_differentiates():
    from fieldpde.ops._trig import sin, sincos

    z = jnp.array([1e9, 3.0, -2.0], jnp.float32)  # beyond the reduction's exact range
    s, c = sincos(z)
    assert np.array_equal(np.asarray(s), np.asarray(jnp.sin(z)))
    assert np.array_equal(np.asarray(c), np.asarray(jnp.cos(z)))
    assert np.isnan(np.asarray(sin(jnp.array([jnp.nan, 1.0])))[0])
    x = jnp.linspace(-5.0, 5.0, 7)
    assert np.allclose(jax.vmap(jax.grad(sin))(x), np.cos(np.asarray(x)), atol=1e-14)
    assert np.allclose(jax.vmap(jax.grad(jax.grad(sin)))(x), -np.sin(np.asarray(x)), atol=1e-14)
    # vmapped calls test the whole batch once and equal the unbatched call
    batch = jax.random.uniform(jax.random.key(2), (8, 16), minval=-40.0, maxval=40.0)
    assert np.array_equal(np.asarray(jax.vmap(sin)(batch)), np.asarray(sin(batch)))


@pytest.mark.x64
@pytest.mark.parametrize("width", [8, 40])  # below and above the transposed-copy threshold
def test_fast_path_forward_and_reverse_mode_agree(width):
    # the jet's products carry a custom JVP (weight tangents through a transposed copy):
    # forward mode, reverse mode and point derivatives must all still agree
    net = SIREN.init(2, width, 1, depth=3, key=jax.random.key(0), dtype=jnp.float64)
    x = jax.random.uniform(jax.random.key(1), (5, 2), dtype=jnp.float64)
    params, static = eqx.partition(net, eqx.is_inexact_array)

    def lap(p, x):
        return ops.value_grad_laplacian(eqx.combine(p, static), x).laplacian.ravel()

    forward = jax.jacfwd(lap)(params, x)
    reverse = jax.jacrev(lap)(params, x)
    for a, b in zip(jax.tree.leaves(forward), jax.tree.leaves(reverse), strict=True):
        assert_close(a, b, rtol=1e-10, atol=1e-9, what="d lap / d params")
    by_points = jax.jacfwd(lambda x: lap(params, x))(x)
    assert_close(by_points, jax.jacrev(lambda x: lap(params, x))(x), rtol=1e-10, atol=1e-9)
