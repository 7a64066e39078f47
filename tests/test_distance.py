"""Approximate distance functions: zero on the boundary, positive inside, negative outside,
unit normal derivative on smooth boundary parts; part distances; R-function algebra; the
lifting of data that differ between parts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fieldpde.domains as fd
from fieldpde.constraints import Lifting, PartDistance
from fieldpde.domains._distance import r_and, r_or

pytestmark = pytest.mark.x64

SQUARE_C = fd.Difference(
    fd.Box([-0.5, -0.5], [0.5, 0.5]),
    [fd.Disk((sx * 0.3, sy * 0.3), 0.1) for sx in (-1.0, 1.0) for sy in (-1.0, 1.0)],
)
L_SHAPE = fd.Polygon([(-1, -1), (-1, 1), (0, 1), (0, 0), (1, 0), (1, -1)])  # clockwise

DOMAINS = {
    "box2": fd.Box([0.0, -1.0], [2.0, 1.0]),
    "box3": fd.Box([0.0, 0.0, 0.0], [1.0, 2.0, 0.5]),
    "disk": fd.Disk((0.5, -0.5), 0.7),
    "ball3": fd.Ball([0.0, 0.0, 1.0], 1.5),
    "lshape": L_SHAPE,
    "square_minus_disks": SQUARE_C,
    "box_minus_box": fd.Difference(
        fd.Box([-1.0, -1.0], [1.0, 1.0]), [fd.Box([-0.3, -0.3], [0.3, 0.3])]
    ),
    "disk_union": fd.Union([fd.Disk((0.0, 0.0), 1.0), fd.Disk((1.2, 0.0), 0.8)]),
    "lens": fd.Intersection([fd.Disk((0.0, 0.0), 1.0), fd.Disk((1.0, 0.0), 1.0)]),
    "box_and_disk": fd.Box([-1.0, -1.0], [1.0, 1.0]) & fd.Disk((0.8, 0.8), 1.0),
    "interval_time": fd.Interval(-1.0, 1.0) * fd.TimeInterval(0.0, 1.0),
    "disk_time": fd.Disk((0.0, 0.0), 1.0) * fd.TimeInterval(0.0, 2.0),
}


def _near_junction(domain, x, width):
    """Boundary points within `width` of two parts (corners, edges, slices' rims)."""
    phis = np.stack([np.abs(np.asarray(domain._part_distance(p, x))) for p in domain.parts], -1)
    if phis.shape[-1] < 2:
        return np.zeros(len(x), bool)
    return np.sort(phis, axis=-1)[:, 1] < width


def _kinks(name, x):
    """Boundary points near a kink that is no part junction (where two union or
    intersection pieces cross)."""
    x = np.asarray(x)
    if name == "disk_union":
        a = np.abs(np.linalg.norm(x, axis=1) - 1.0)
        b = np.abs(np.linalg.norm(x - [1.2, 0.0], axis=1) - 0.8)
        return (a < 0.05) & (b < 0.05)
    if name == "box_minus_box":  # the corners of the square hole, one part
        return np.min(np.abs(np.abs(x) - 0.3), axis=1) < 0.05
    return np.zeros(len(x), bool)


@pytest.mark.parametrize("name", DOMAINS)
def test_distance_is_zero_on_the_boundary_positive_inside_negative_outside(name, key):
    domain = DOMAINS[name]
    boundary = domain.sample_boundary(256, key=key, method="sobol").points
    phi_b = np.asarray(domain.distance(boundary))
    assert np.max(np.abs(phi_b)) < 1e-10, name
    inside = domain.sample_interior(512, key=key, method="sobol")
    assert np.all(np.asarray(domain.distance(inside)) > 0), name
    lo, hi = (np.asarray(a) for a in domain.bounding_box())
    span = hi - lo
    probe = (
        lo
        - 0.25 * span
        + 1.5
        * span
        * np.asarray(jax.random.uniform(jax.random.key(3), (2048, lo.size), jnp.float64))
    )
    outside = probe[~np.asarray(domain.contains(jnp.asarray(probe), tol=1e-3))]
    assert len(outside) > 50
    assert np.all(np.asarray(domain.distance(jnp.asarray(outside))) < 0), name


@pytest.mark.parametrize("name", DOMAINS)
def test_distance_has_unit_normal_derivative_on_smooth_parts(name, key):
    domain = DOMAINS[name]
    x, n = domain.sample_boundary(512, key=key, method="sobol")
    scale = float(
        np.max(np.asarray(domain.bounding_box()[1]) - np.asarray(domain.bounding_box()[0]))
    )
    smooth = ~_near_junction(domain, x, 0.05 * scale) & ~_kinks(name, x)
    assert smooth.sum() > 100, name
    # just inside the boundary: the trimmed-segment ADF of a polygon edge is |f|-like on it
    inner = x - 1e-7 * n
    grad = np.asarray(jax.vmap(jax.grad(domain.distance))(inner))
    # phi grows into the domain: its gradient is minus the outward normal
    err = np.linalg.norm(grad + np.asarray(n), axis=1)[smooth]
    assert np.max(err) < 1e-5, (name, float(np.max(err)))


@pytest.mark.parametrize(
    "name",
    ["box2", "box3", "lshape", "square_minus_disks", "interval_time", "disk_time", "box_and_disk"],
)
def test_each_part_distance_vanishes_on_its_part_only(name, key):
    domain = DOMAINS[name]
    x, _ = domain.sample_boundary(1024, key=key, method="sobol")
    index = np.asarray(domain.part_index(x))
    lo, hi = (np.asarray(a) for a in domain.bounding_box())
    clear = ~_near_junction(domain, x, 0.02 * float(np.max(hi - lo)))
    inside = domain.sample_interior(256, key=key, method="sobol")
    for i, part in enumerate(domain.parts):
        phi = np.asarray(domain._part_distance(part, x))
        own = index == i
        if not own.any():  # a piece's face that does not reach the intersection's boundary
            assert name == "box_and_disk", (name, part)
            continue
        assert np.max(np.abs(phi[own])) < 1e-10, (name, part)
        others = (~own) & clear
        if others.any():
            assert np.min(phi[others]) > 0, (name, part)
        assert np.all(np.asarray(domain._part_distance(part, inside)) > 0), (name, part)


def test_part_samples_lie_on_their_part_with_exact_measures(key):
    box = DOMAINS["box2"]
    assert box.parts == ("xmin", "xmax", "ymin", "ymax")
    top = box.part("ymax")
    pts = np.asarray(top.sample(64, key=key).points)
    assert top.measure == 2.0 and np.all(pts[:, 1] == 1.0)
    # edges are named in the order the vertices were given (clockwise here)
    edge0 = L_SHAPE.part("edge0").sample(32, key=key, method="sobol").points
    assert np.allclose(np.asarray(edge0)[:, 0], -1.0)  # (-1, -1) -> (-1, 1)
    assert L_SHAPE.part("edge0").measure == 2.0
    holes = SQUARE_C.part("holes")
    assert np.isclose(holes.measure, 4 * 2 * np.pi * 0.1)
    r = np.linalg.norm(np.abs(np.asarray(holes.sample(64, key=key).points)) - 0.3, axis=1)
    assert np.allclose(r, 0.1)
    cyl = DOMAINS["interval_time"]
    assert cyl.parts == ("initial", "final", "xmin", "xmax")
    assert cyl.resolve_parts("lateral") == ("xmin", "xmax")
    assert np.isclose(cyl.part("lateral").measure, 2.0)
    # a predicate part: the right half of the box's boundary, measured by Monte Carlo
    right = box.part(lambda p: p[0] > 1.0)
    assert abs(right.measure - 4.0) < 0.02


def test_r_functions_follow_the_boolean_signs_and_keep_normalisation():
    a = jnp.array([1.0, 1.0, -1.0, -1.0, 0.0, 2.0])
    b = jnp.array([2.0, -2.0, 3.0, -0.5, 1.5, 0.0])
    assert np.array_equal(np.sign(r_and(a, b)), [1, -1, -1, -1, 0, 0])
    assert np.array_equal(np.sign(r_or(a, b)), [1, 1, 1, -1, 1, 1])
    # where one argument vanishes and the other does not, the gradient is the vanishing one's
    ga = jax.grad(lambda s: r_and(s, 0.7))(0.0)
    gb = jax.grad(lambda s: r_or(s, -0.7))(0.0)
    assert np.isclose(float(ga), 1.0) and np.isclose(float(gb), 1.0)
    # derivatives stay finite at the corner where both vanish
    g = jax.grad(lambda v: r_and(v[0], v[1]))(jnp.zeros(2))
    assert np.all(np.isfinite(np.asarray(g)))


def test_lifting_equals_each_parts_data(key):
    box = DOMAINS["box2"]
    data = {
        "xmin": lambda p: p[1] ** 2,
        "xmax": lambda p: 1.0 + p[1],
        "ymin": lambda p: jnp.sin(p[0]),
        "ymax": lambda p: 3.0 + 0.0 * p[0],
    }
    g = Lifting(box, [(n,) for n in data], list(data.values()))
    for name, fn in data.items():
        pts = box.part(name).sample(64, key=key, method="sobol").points
        assert np.allclose(jax.vmap(g)(pts), jax.vmap(fn)(pts), atol=1e-10), name
    w = jax.vmap(g.weights)(box.sample_interior(64, key=key))
    assert np.allclose(np.sum(w, axis=1), 1.0) and np.all(w >= 0)
    # outer sides 1, holes 0, on the PINNacle 2d-C domain
    g = Lifting(SQUARE_C, ["outer", "holes"], [lambda p: 1.0, lambda p: 0.0])
    for part, value in (("outer", 1.0), ("holes", 0.0)):
        pts = SQUARE_C.part(part).sample(128, key=key).points
        assert np.allclose(jax.vmap(g)(pts), value, atol=1e-10)
    # initial slice and walls of a space-time cylinder
    cyl = DOMAINS["interval_time"]
    g = Lifting(cyl, ["initial", "lateral"], [lambda p: jnp.cos(p[0]), lambda p: p[1]])
    pts = cyl.part("initial").sample(32, key=key).points
    assert np.allclose(jax.vmap(g)(pts), np.cos(np.asarray(pts)[:, 0]), atol=1e-10)
    pts = cyl.part("lateral").sample(32, key=key).points
    assert np.allclose(jax.vmap(g)(pts), np.asarray(pts)[:, 1], atol=1e-10)


def test_part_distance_is_rescaled_and_jets_match_autodiff(key):
    from fieldpde import SIREN, ops
    from fieldpde.constraints import HardDirichlet, distance_scale

    scale = distance_scale(SQUARE_C)
    phi = PartDistance(SQUARE_C, "boundary", scale)
    inside = SQUARE_C.sample_interior(256, key=key, method="sobol")
    values = np.asarray(jax.vmap(phi)(inside))
    assert 0.9 < values.max() <= 1.0 + 1e-12 and values.min() > 0
    net = SIREN.init(2, 16, 1, depth=3, key=key)
    g = Lifting(SQUARE_C, ["outer", "holes"], [lambda p: 1.0, lambda p: 0.0])
    u = HardDirichlet(net, g, phi)
    fast = ops.value_grad_laplacian(u, inside[:16])
    slow = ops.value_grad_laplacian(u, inside[:16], method="autodiff")
    for a, b in zip(fast, slow, strict=True):
        assert np.allclose(a, b, rtol=1e-8, atol=1e-8)


def test_singular_corners_vanish_like_the_corner_solution_and_keep_the_boundary(key):
    # The L-shape's inner corner (interior angle 3 pi / 2): the weighted distance is zero on
    # the boundary (to 1e-10), positive inside, ~ r^(2/3) at the corner, so u / phi of the
    # corner solution r^(2/3) sin(2 theta / 3) stays bounded; its jets match autodiff.
    from fieldpde import SIREN, ops
    from fieldpde.constraints import HardDirichlet, SingularCorners

    phi = SingularCorners.of(L_SHAPE, PartDistance(L_SHAPE))
    assert isinstance(phi, SingularCorners) and phi.corners == ((0.0, 0.0),)
    np.testing.assert_allclose(phi.exponents, [2.0 / 3.0], rtol=1e-12)
    boundary = L_SHAPE.sample_boundary(256, key=key, method="sobol").points
    assert np.max(np.abs(np.asarray(jax.vmap(phi)(boundary)))) < 1e-10
    inside = L_SHAPE.sample_interior(512, key=key, method="sobol")
    assert np.all(np.asarray(jax.vmap(phi)(inside)) > 0)
    theta = np.linspace(0.3, 1.2, 4) * np.pi  # inside: angles in (0, 3 pi / 2) from +x
    for r in (1e-2, 1e-4):
        x = jnp.asarray(np.stack([r * np.cos(theta), r * np.sin(theta)], -1))
        ratio = r ** (2 / 3) * np.sin(2 * theta / 3) / np.asarray(jax.vmap(phi)(x))
        assert np.all((0.05 < ratio) & (ratio < 20.0)), (r, ratio)
    # a box has no reentrant corner: the distance is returned as it was
    box = fd.Box([0.0, 0.0], [1.0, 1.0])
    assert SingularCorners.of(box, PartDistance(box)).__class__ is PartDistance
    u = HardDirichlet.on(L_SHAPE, SIREN.init(2, 16, 1, depth=3, key=key))
    assert isinstance(u.distance, SingularCorners)
    fast = ops.value_grad_laplacian(u, inside[:16])
    slow = ops.value_grad_laplacian(u, inside[:16], method="autodiff")
    for a, b in zip(fast, slow, strict=True):
        assert np.allclose(a, b, rtol=1e-8, atol=1e-8)
    with pytest.raises(ValueError, match="`exponents` must lie in"):
        SingularCorners(PartDistance(box), [(0.0, 0.0)], [1.5], 1.0)
