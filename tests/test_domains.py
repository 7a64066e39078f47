"""Domains: membership, measures, samplers, normals, space-time products and bad input."""

import inspect
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_close

import fieldpde.domains as fd

# exact-derivative and reference comparisons to tight tolerances: float64
pytestmark = pytest.mark.x64

METHODS = ["uniform", "sobol", "halton", "grid"]
N = 64
NBIG = 2048  # for statistical checks

L_VERTICES = [(-1, -1), (-1, 1), (0, 1), (0, 0), (1, 0), (1, -1)]  # clockwise on purpose

DOMAINS = {
    "interval": fd.Interval(-1.0, 2.0),
    "rectangle": fd.Rectangle((0.0, 0.0), (2.0, 1.0)),
    "box3": fd.Box([0.0, -1.0, 0.0], [1.0, 1.0, 3.0]),
    "disk": fd.Disk((0.5, -0.5), 0.7),
    "ball3": fd.Ball([0.0, 0.0, 1.0], 1.5),
    "lshape": fd.Polygon(L_VERTICES),
    "plate": fd.Difference(
        fd.Rectangle((0.0, 0.0), (2.0, 1.0)), [fd.Disk((0.5, 0.5), 0.2), fd.Disk((1.4, 0.5), 0.25)]
    ),
    "lcut": fd.Difference(fd.Box([-1.0, -1.0], [1.0, 1.0]), [fd.Box([0.0, 0.0], [1.0, 1.0])]),
    "cylinder": fd.Disk((0.0, 0.0), 1.0) * fd.TimeInterval(0.0, 2.0),
}


def _sample(name, method, key, boundary=False):
    dom = DOMAINS[name]
    if boundary:
        return dom.sample_boundary(N, key=key, method=method)
    return dom.sample_interior(N, key=key, method=method)


# ----------------------------------------------------------------------------- interior

# Each domain is checked for all methods at once, with one `contains` call on everything
# that must be inside and one on everything that must be outside (fewer compilations).


@pytest.mark.parametrize("name", DOMAINS)
def test_samples_inside_with_outward_unit_normals(name, key):
    dom = DOMAINS[name]
    lo, hi = (np.asarray(c) for c in dom.bounding_box())
    inside, outside = [], []
    eps = 1e-6  # normals point outward: x + eps n is outside, x - eps n inside
    for method in METHODS:
        x = dom.sample_interior(N, key=key, method=method)
        assert x.dtype == jnp.float64 and x.ndim == 2 and x.shape[1] == dom.dim, method
        if method == "grid":
            assert 0.6 * N <= x.shape[0] <= 1.6 * N, x.shape
        else:
            assert x.shape[0] == N, method
        x = np.asarray(x)
        assert ((x >= lo) & (x <= hi)).all(), method
        pts, normals = dom.sample_boundary(N, key=key, method=method)
        assert pts.dtype == normals.dtype == jnp.float64
        assert pts.shape == normals.shape and pts.shape[1] == dom.dim, method
        if method != "grid":
            assert pts.shape[0] == N, method
        pts, normals = np.asarray(pts), np.asarray(normals)
        length = np.linalg.norm(normals, axis=1)
        assert_close(length, np.ones_like(length), rtol=0, atol=1e-12, what=f"|n| {method}")
        inside += [x, pts, pts - eps * normals]
        outside.append(pts + eps * normals)
    assert bool(dom.contains(np.concatenate(inside)).all())
    assert not bool(dom.contains(np.concatenate(outside)).any())


def test_interior_is_uniform(key):
    # Fractions of the measure, from uniform points: a ball's inner half radius holds 1/2^d,
    # the L-shape's left half holds 2/3, the plate's left square holds (1 - 0.04 pi) / area.
    # Tolerances are 4 binomial standard deviations for random points.
    disk, ball, lshape, plate = (DOMAINS[k] for k in ("disk", "ball3", "lshape", "plate"))
    x = np.asarray(disk.sample_interior(NBIG, key=key))
    assert abs(np.mean(np.linalg.norm(x - [0.5, -0.5], axis=1) < 0.35) - 1 / 4) < 0.04
    x = np.asarray(ball.sample_interior(NBIG, key=key))
    assert abs(np.mean(np.linalg.norm(x - [0.0, 0.0, 1.0], axis=1) < 0.75) - 1 / 8) < 0.03
    x = np.asarray(lshape.sample_interior(NBIG, key=key, method="sobol"))
    assert abs(np.mean(x[:, 0] < 0) - 2 / 3) < 0.01
    x = np.asarray(plate.sample_interior(NBIG, key=key, method="halton"))
    assert abs(np.mean(x[:, 0] < 1) - (1 - 0.04 * math.pi) / plate.measure) < 0.01
    assert (np.linalg.norm(x - [0.5, 0.5], axis=1) >= 0.2).all()


# ----------------------------------------------------------------------------- boundary


def test_boundary_points_lie_on_the_boundary(key):
    pts, normals = (np.asarray(a) for a in DOMAINS["disk"].sample_boundary(N, key=key))
    r = np.linalg.norm(pts - [0.5, -0.5], axis=1)
    assert np.max(np.abs(r - 0.7)) < 1e-12
    assert_close(normals, (pts - [0.5, -0.5]) / 0.7, rtol=0, atol=1e-12, what="disk normals")

    pts, _ = DOMAINS["ball3"].sample_boundary(N, key=key, method="sobol")
    r = np.linalg.norm(np.asarray(pts) - [0.0, 0.0, 1.0], axis=1)
    assert np.max(np.abs(r - 1.5)) < 1e-12

    box = DOMAINS["box3"]
    pts, normals = box.sample_boundary(N, key=key)
    lo, hi = (np.asarray(c) for c in box.bounding_box())
    on_face = np.isclose(pts, lo, rtol=0, atol=0) | np.isclose(pts, hi, rtol=0, atol=0)
    assert (on_face.sum(axis=1) >= 1).all()

    v = np.asarray(L_VERTICES, float)
    pts, _ = DOMAINS["lshape"].sample_boundary(N, key=key, method="halton")
    a, e = v, np.roll(v, -1, axis=0) - v
    p = np.asarray(pts)[:, None, :]
    t = np.clip(np.sum((p - a) * e, -1) / np.sum(e * e, -1), 0, 1)
    dist = np.linalg.norm(p - a - t[..., None] * e, axis=-1).min(axis=1)
    assert dist.max() < 1e-12


def test_difference_boundary_drops_shared_and_inner_parts(key):
    # Box minus its upper-right quadrant: the quadrant's edges on x = 1 and y = 1 are not
    # part of the L-shape's boundary, its edges on x = 0 and y = 0 are (normals flipped).
    lcut = DOMAINS["lcut"]
    pts, normals = lcut.sample_boundary(NBIG, key=key)
    x, y = np.asarray(pts).T
    assert not np.any((x == 1.0) & (y > 0.0))
    assert not np.any((y == 1.0) & (x > 0.0))
    inner = (x == 0.0) & (y > 0.0)
    assert inner.any()
    assert_close(normals[inner], np.tile([1.0, 0.0], (inner.sum(), 1)), rtol=0, atol=0)
    # Uniform in arc length: 2 of the 8 units of boundary length face the cut.
    assert abs(np.mean(((x == 0) & (y > 0)) | ((y == 0) & (x > 0))) - 2 / 8) < 0.04

    plate = DOMAINS["plate"]
    pts, normals = plate.sample_boundary(NBIG, key=key, method="sobol")
    r = np.linalg.norm(np.asarray(pts) - [0.5, 0.5], axis=1)
    on_hole = np.abs(r - 0.2) < 1e-12
    inward = -(np.asarray(pts)[on_hole] - [0.5, 0.5]) / 0.2
    assert_close(normals[on_hole], inward, rtol=0, atol=1e-12, what="hole normals")
    assert abs(np.mean(on_hole) - 2 * math.pi * 0.2 / plate.boundary_measure) < 0.01


def test_uniform_boundary_face_fractions(key):
    n = NBIG
    # Rectangle 2 x 1: edges y=0, y=1 have length 2, edges x=0, x=2 length 1 (of 6).
    normals = np.asarray(DOMAINS["rectangle"].sample_boundary(n, key=key).normals)
    frac = {
        "x=0": np.mean(normals[:, 0] == -1),
        "x=2": np.mean(normals[:, 0] == 1),
        "y=0": np.mean(normals[:, 1] == -1),
        "y=1": np.mean(normals[:, 1] == 1),
    }
    expected = {"x=0": 1 / 6, "x=2": 1 / 6, "y=0": 1 / 3, "y=1": 1 / 3}
    for face, f in frac.items():
        assert abs(f - expected[face]) < 0.04, (face, f)  # 4 binomial std
    # 3-D box 1 x 2 x 3: faces normal to x, y, z have areas 6, 3, 2 (twice each, of 22).
    normals = np.asarray(DOMAINS["box3"].sample_boundary(n, key=key, method="sobol").normals)
    for axis, area in enumerate([6, 3, 2]):
        for sign in (-1, 1):
            assert abs(np.mean(normals[:, axis] == sign) - area / 22) < 0.005
    # L-shape: the edge lengths are 2, 1, 1, 1, 1, 2 (of 8).
    v = np.asarray(L_VERTICES, float)
    pts = np.asarray(DOMAINS["lshape"].sample_boundary(n, key=key).points)
    for i in range(len(v)):
        a, b = v[i], v[(i + 1) % len(v)]
        e, r = b - a, pts - a
        along = e[0] * r[:, 1] - e[1] * r[:, 0] == 0  # the edges are axis-aligned: exact
        within = np.all((pts >= np.minimum(a, b)) & (pts <= np.maximum(a, b)), axis=1)
        frac = np.mean(along & within)
        assert abs(frac - np.linalg.norm(e) / 8) < 0.04, (i, frac)


# ----------------------------------------------------------------------------- measures


def test_measures_against_exact_values():
    cases = [
        (fd.Box([0.0, 0.0], [1.0, 1.0]), 1.0, 4.0),
        (fd.Interval(-1.0, 2.0), 3.0, 2.0),
        (fd.Box([0.0, -1.0, 0.0], [1.0, 1.0, 3.0]), 6.0, 2 * (6 + 3 + 2)),
        (fd.Polygon(L_VERTICES), 3.0, 8.0),
        (fd.Disk((1.0, 2.0), 0.5), math.pi * 0.25, 2 * math.pi * 0.5),
        (fd.Ball([0.0, 0.0, 0.0], 2.0), 4 / 3 * math.pi * 8, 4 * math.pi * 4),
        (fd.Ball([0.0] * 4, 2.0), math.pi**2 / 2 * 16, 2 * math.pi**2 * 8),
        (fd.Ball([3.0], 2.0), 4.0, 2.0),
        (fd.TimeInterval(1.0, 4.0), 3.0, 2.0),
    ]
    for dom, measure, boundary in cases:
        assert math.isclose(dom.measure, measure, rel_tol=1e-14), dom
        assert math.isclose(dom.boundary_measure, boundary, rel_tol=1e-14), dom


def test_set_operation_measures():
    plate = DOMAINS["plate"]
    assert plate.exact_measures
    assert math.isclose(plate.measure, 2.0 - math.pi * (0.2**2 + 0.25**2), rel_tol=1e-14)
    assert math.isclose(plate.boundary_measure, 6.0 + 2 * math.pi * 0.45, rel_tol=1e-14)
    # The quadrant touches the outer boundary: area exact, boundary from Monte Carlo.
    lcut = DOMAINS["lcut"]
    assert math.isclose(lcut.measure, 3.0, rel_tol=1e-14)
    assert not lcut.exact_measures
    assert math.isclose(lcut.boundary_measure, 8.0, rel_tol=1e-3)
    # Overlapping unit disks at distance 1: lens area 2 acos(1/2) - sqrt(3)/2.
    union = fd.Disk((0.0, 0.0), 1.0) | fd.Disk((1.0, 0.0), 1.0)
    lens = 2 * math.acos(0.5) - math.sqrt(3) / 2
    assert math.isclose(union.measure, 2 * math.pi - lens, rel_tol=1e-3)
    assert math.isclose(union.boundary_measure, 2 * (2 * math.pi - 2 * math.pi / 3), rel_tol=1e-3)
    apart = fd.Union([fd.Disk((0.0, 0.0), 1.0), fd.Box([2.0, 0.0], [3.0, 1.0])])
    assert apart.exact_measures and math.isclose(apart.measure, math.pi + 1.0)
    # A disk hole sticking out of the box: Monte Carlo against the exact half-disk.
    half = fd.Box([0.0, 0.0], [2.0, 2.0]) - fd.Disk((0.0, 1.0), 0.5)
    assert math.isclose(half.measure, 4.0 - math.pi / 8, rel_tol=1e-3)
    assert math.isclose(half.boundary_measure, 8.0 - 1.0 + math.pi / 2, rel_tol=1e-3)
    # (A - B) - C is flattened to A - (B, C).
    nested = (fd.Box([0.0, 0.0], [2.0, 1.0]) - fd.Disk((0.5, 0.5), 0.2)) - fd.Disk((1.4, 0.5), 0.25)
    assert len(nested.holes) == 2 and math.isclose(nested.measure, plate.measure)


# ----------------------------------------------------------------------------- space-time


def test_space_time_product(key):
    cyl = DOMAINS["cylinder"]
    assert cyl == fd.SpaceTime(fd.Disk((0.0, 0.0), 1.0), fd.TimeInterval(0.0, 2.0))
    assert cyl.dim == 3
    assert math.isclose(cyl.measure, 2 * math.pi)
    assert math.isclose(cyl.initial_measure, math.pi)
    assert math.isclose(cyl.lateral_measure, 4 * math.pi)
    assert math.isclose(cyl.boundary_measure, 6 * math.pi)

    x = np.asarray(cyl.sample_interior(N, key=key))
    assert x.shape == (N, 3)
    assert ((x[:, -1] >= 0) & (x[:, -1] <= 2)).all()
    for method in ("uniform", "sobol", "grid"):
        x0 = np.asarray(cyl.sample_initial(N, key=key, method=method))
        assert x0.shape[1] == 3 and (x0[:, -1] == 0.0).all()
        assert (np.linalg.norm(x0[:, :2], axis=1) <= 1).all()
        pts, normals = (np.asarray(a) for a in cyl.sample_lateral(N, key=key, method=method))
        r = np.linalg.norm(pts[:, :2], axis=1)
        assert_close(r, np.ones_like(r), rtol=0, atol=1e-12, what="lateral radius")
        assert (normals[:, -1] == 0).all()
        assert_close(normals[:, :2], pts[:, :2], rtol=0, atol=1e-12, what="lateral normals")
        assert ((pts[:, -1] >= 0) & (pts[:, -1] <= 2)).all()

    # The full boundary: slices with normals -e_t at t0 and +e_t at t1, in proportion.
    pts, normals = (np.asarray(a) for a in cyl.sample_boundary(NBIG, key=key, method="sobol"))
    bottom, top = normals[:, -1] == -1, normals[:, -1] == 1
    assert (pts[bottom, -1] == 0).all() and (pts[top, -1] == 2).all()
    assert abs(np.mean(bottom) - 1 / 6) < 0.01
    assert abs(np.mean(top) - 1 / 6) < 0.01

    # Space-time over a set difference rejects on the space part only.
    plate = DOMAINS["plate"]
    rod = plate * fd.TimeInterval(1.0, 3.0)
    x0 = rod.sample_initial(N, key=key, method="halton")
    assert bool(plate.contains(x0[:, :2]).all()) and bool((x0[:, 2] == 1).all())
    x = rod.sample_interior(N, key=key)
    assert bool(rod.contains(x).all())
    assert math.isclose(rod.lateral_measure, 2 * plate.boundary_measure)


# ----------------------------------------------------------------------------- grids


def test_grids():
    # 2 x 1 box, n = 8: spacing h = (2/8)^(1/2) = 0.5, so 4 x 2 cell centres.
    x = fd.Box([0.0, 0.0], [2.0, 1.0]).sample_interior(8, key=None, method="grid")
    expected = [[a, b] for a in (0.25, 0.75, 1.25, 1.75) for b in (0.25, 0.75)]
    assert_close(x, expected, rtol=0, atol=1e-15, what="box grid")
    # n that does not factor: rounded per axis (here 3 x 3 for n = 10 on the unit square).
    assert fd.Box([0.0, 0.0], [1.0, 1.0]).sample_interior(10, key=None, method="grid").shape == (
        9,
        2,
    )
    pts, normals = fd.Box([0.0, 0.0], [2.0, 1.0]).sample_boundary(12, key=None, method="grid")
    assert pts.shape == (12, 2)
    pts, normals = fd.Disk((0.0, 0.0), 1.0).sample_boundary(8, key=None, method="grid")
    angles = np.sort(np.mod(np.arctan2(pts[:, 1], pts[:, 0]), 2 * np.pi))
    assert_close(np.diff(angles), np.full(7, np.pi / 4), rtol=0, atol=1e-12, what="disk grid")
    pts, _ = fd.Interval(0.0, 1.0).sample_boundary(5, key=None, method="grid")
    assert_close(pts, [[0.0], [1.0]], rtol=0, atol=0)


# ----------------------------------------------------------------------------- keys, jit, vmap


@pytest.mark.parametrize("method", ["uniform", "sobol", "halton"])
def test_same_key_same_points(method, key):
    for name in ("disk", "plate"):
        a = _sample(name, method, key)
        b = _sample(name, method, key)
        c = _sample(name, method, jax.random.key(1))
        assert_close(a, b, rtol=0, atol=0, what=f"{name} {method}")
        assert not np.allclose(a, c)
        s, t = _sample(name, method, key, True), _sample(name, method, key, True)
        assert_close(s.points, t.points, rtol=0, atol=0)
    # Raw uint32 keys work too.
    x = DOMAINS["disk"].sample_interior(N, key=jax.random.PRNGKey(0), method=method)
    assert x.shape == (N, 2)


def test_jit_and_vmap(key):
    disk, plate = DOMAINS["disk"], DOMAINS["plate"]
    eager = disk.sample_interior(N, key=key)
    jitted = jax.jit(lambda k: disk.sample_interior(N, key=k))(key)
    assert_close(jitted, eager, rtol=0, atol=1e-14)
    batch = jax.vmap(lambda k: plate.sample_interior(N, key=k))(jax.random.split(key, 3))
    assert batch.shape == (3, N, 2)
    assert bool(jax.jit(plate.contains)(batch).all())
    assert_close(
        batch[1], plate.sample_interior(N, key=jax.random.split(key, 3)[1]), rtol=0, atol=1e-15
    )
    # grad flows through samples that depend on no parameter, and through contains-masked sums.
    g = jax.grad(lambda s: jnp.sum(s * disk.sample_boundary(N, key=key).points))(1.0)
    assert jnp.isfinite(g)
    with pytest.raises(ValueError, match="outside jax.jit"):
        jax.jit(lambda k: disk.sample_interior(N, key=k, method="sobol"))(key)


def test_contains_batches_and_tolerance():
    disk = fd.Disk((0.0, 0.0), 1.0)
    x = np.zeros((3, 4, 2))
    x[0, 0] = [2.0, 0.0]
    inside = disk.contains(x)
    assert inside.shape == (3, 4) and inside.dtype == jnp.bool_
    assert not bool(inside[0, 0]) and bool(inside[1:].all())
    near = np.array([[1.0 + 1e-9, 0.0], [1.0 - 1e-9, 0.0]])
    assert disk.contains(near, tol=1e-8).tolist() == [True, True]
    assert disk.contains(near).tolist() == [False, True]
    assert disk.contains(near, tol=-1e-8).tolist() == [False, False]
    probes = np.array([[0.5, 0.5], [-0.5, 0.5], [0.0, 0.5], [1.0, -1.0]])
    assert DOMAINS["lshape"].contains(probes).tolist() == [False, True, True, True]


def test_default_dtype_follows_x64(key):
    with jax.enable_x64(False):
        for method in ("uniform", "sobol"):
            x = DOMAINS["disk"].sample_interior(N, key=key, method=method)
            s = DOMAINS["lshape"].sample_boundary(N, key=key, method=method)
            assert x.dtype == jnp.float32 and s.points.dtype == s.normals.dtype == jnp.float32
            assert bool(DOMAINS["disk"].contains(x).all())
            assert bool(DOMAINS["lshape"].contains(s.points).all())


def test_public_classes_are_abstract_or_final():
    for name in dir(fd):
        obj = getattr(fd, name)
        if inspect.isclass(obj) and issubclass(obj, fd.AbstractDomain):
            assert inspect.isabstract(obj) or getattr(obj, "__final__", False), name


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: fd.Interval(1.0, 0.0), r"`hi` must be > `lo`.*reversed"),
        (lambda: fd.Interval(0.0, 0.0), r"`hi` must be > `lo`"),
        (lambda: fd.Interval(0.0, float("nan")), r"`hi`.*finite"),
        (lambda: fd.Box([0.0, 1.0], [1.0, 1.0]), r"`hi` must be > `lo`.*lo\[1\]"),
        (lambda: fd.Box([0.0, 0.0], [1.0, 1.0, 1.0]), r"`lo` and `hi`.*same number"),
        (lambda: fd.Box([], []), r"`lo`.*non-empty"),
        (lambda: fd.Box([[0.0]], [[1.0]]), r"`lo`.*1-D"),
        (lambda: fd.Rectangle((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)), r"`lo`.*2 coordinates"),
        (lambda: fd.Disk((0.0, 0.0), 0.0), r"`radius` must be > 0"),
        (lambda: fd.Disk((0.0, 0.0), -1.0), r"`radius` must be > 0"),
        (lambda: fd.Disk((0.0, 0.0, 0.0), 1.0), r"`center`.*2 coordinates"),
        (lambda: fd.Ball([0.0, float("inf")], 1.0), r"`center`.*finite"),
        (lambda: fd.Polygon([(0, 0), (1, 0)]), r"`vertices`.*at least 3"),
        (lambda: fd.Polygon([(0, 0), (1, 0), (0, 0)]), r"`vertices`.*at least 3"),
        (lambda: fd.Polygon([(0, 0), (1, 1), (2, 2)]), r"`vertices`.*zero area"),
        (lambda: fd.Polygon([(0, 0), (2, 2), (2, 0), (0, 1)]), r"`vertices`.*simple.*intersect"),
        (lambda: fd.Polygon([(0, 0), (1, 0), (1, 0), (0, 1)]), r"`vertices`.*repeats"),
        (lambda: fd.Polygon([0.0, 1.0, 2.0]), r"`vertices`.*shape \(k, 2\)"),
        (
            lambda: fd.Difference(fd.Disk((0, 0), 1), [fd.Ball([0, 0, 0], 0.5)]),
            r"`holes\[0\]`.*dimension 3",
        ),
        (lambda: fd.Difference(fd.Disk((0, 0), 1), []), r"`holes`.*at least one"),
        (lambda: fd.Union([fd.Disk((0, 0), 1), fd.Interval(0, 1)]), r"`pieces\[1\]`.*dimension 1"),
        (lambda: fd.Union([]), r"`pieces`.*at least one"),
        (lambda: fd.TimeInterval(1.0, 1.0), r"`t1` must be > `t0`"),
    ],
)
def test_bad_construction_raises(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_sampling_arguments_raise(key):
    disk = DOMAINS["disk"]
    for n in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="`n` must be an integer >= 1"):
            disk.sample_interior(n, key=key)
        with pytest.raises(ValueError, match="`n` must be an integer >= 1"):
            disk.sample_boundary(n, key=key)
    with pytest.raises(ValueError, match="`method` must be one of"):
        disk.sample_interior(8, key=key, method="latin")
    with pytest.raises(ValueError, match="`method` must be one of"):
        DOMAINS["cylinder"].sample_lateral(8, key=key, method="random")
    with pytest.raises(ValueError, match=r"`x`.*last axis 2"):
        disk.contains(jnp.zeros((4, 3)))
    with pytest.raises(ValueError, match="`method`='grid' is not available"):
        fd.Ball([0.0] * 4, 1.0).sample_boundary(8, key=key, method="grid")
    with pytest.raises(ValueError, match="`tol`"):
        disk.contains(jnp.zeros(2), tol=float("nan"))
    with pytest.raises(TypeError, match="`time` must be a TimeInterval"):
        fd.SpaceTime(disk, fd.Interval(0.0, 1.0))
    with pytest.raises(TypeError, match="`holes\\[0\\]` must be a domain"):
        fd.Difference(disk, ["disk"])


@pytest.mark.parametrize("method", ["uniform", "sobol"])
def test_int_and_raw_keys_are_accepted_by_samplers(method):
    disk, cyl = DOMAINS["disk"], DOMAINS["cylinder"]
    typed = disk.sample_interior(16, key=jax.random.key(3), method=method)
    for key in (3, np.int64(3), jax.random.PRNGKey(3)):
        assert_close(disk.sample_interior(16, key=key, method=method), typed, rtol=0, atol=0)
    b = disk.sample_boundary(8, key=3, method=method)
    ref = disk.sample_boundary(8, key=jax.random.key(3), method=method)
    assert_close(b.points, ref.points, rtol=0, atol=0)
    assert cyl.sample_lateral(8, key=0, method=method).points.shape == (8, 3)
    assert cyl.sample_initial(8, key=0, method=method).shape == (8, 3)


def test_bad_keys_raise_naming_key():
    disk = DOMAINS["disk"]
    for bad in (0.5, "0", True, np.zeros(2), jax.random.split(jax.random.key(0), 3)):
        with pytest.raises(TypeError, match="`key` must be a PRNG key"):
            disk.sample_interior(8, key=bad)
        with pytest.raises(TypeError, match="`key` must be a PRNG key"):
            disk.sample_boundary(8, key=bad, method="sobol")
    # a grid draws nothing at random: it still needs no key
    assert disk.sample_interior(8, key=None, method="grid").shape[1] == 2
