"""Automatic hard enforcement: the hard field meets the data exactly, equals the hand-written
transform on a box, stays soft where it must (Neumann, predicates), and bad input fails
early with errors naming the argument."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fieldpde.domains as fd
from fieldpde import SIREN, Problem, ops
from fieldpde.constraints import Dirichlet, HardDirichlet, Initial, Neumann, Residual
from fieldpde.problem import enforce_hard

pytestmark = pytest.mark.x64

BOX = fd.Box([0.0, 0.0], [1.0, 1.0])


def _net(key, d=2):
    return SIREN.init(d, 16, 1, depth=3, key=key, first_omega=3.0, hidden_omega=3.0)


def _laplace(domain, **constraints):
    return Problem({"pde": Residual(lambda x, d: d.laplacian, domain), **constraints})


def test_automatic_hard_field_equals_the_hand_written_one_on_the_box(key):
    g = lambda x: jnp.sin(x[0]) + x[1] ** 2  # noqa: E731
    net = _net(key)
    split = enforce_hard(_laplace(BOX, bc=Dirichlet(g, BOX)), net)
    assert split.hard == ("bc",) and list(split.problem.constraints) == ["pde"]
    hand = HardDirichlet.on(BOX, net, boundary=g)
    x = BOX.sample_interior(64, key=key)
    assert np.array_equal(np.asarray(split.field(x)), np.asarray(hand(x)))
    for a, b in zip(
        ops.value_grad_laplacian(split.field, x), ops.value_grad_laplacian(hand, x), strict=True
    ):
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_hard_field_meets_different_data_on_each_part(key):
    plate = fd.Box([-1.0, -1.0], [1.0, 1.0]) - fd.Disk((0.0, 0.0), 0.4)
    problem = _laplace(
        plate,
        left=Dirichlet(lambda x: 1.0 + 0.0 * x[1], plate, part="xmin"),
        hole=Dirichlet(lambda x: x[0], plate, part="holes"),
        rest=Neumann(0.0, plate, part=("xmax", "ymin", "ymax")),
    )
    split = enforce_hard(problem, _net(key))
    assert split.hard == ("left", "hole")
    assert sorted(split.problem.constraints) == ["pde", "rest"]  # Neumann stays soft
    for part, fn in (("xmin", lambda p: 1.0 + 0 * p[:, 0]), ("holes", lambda p: p[:, 0])):
        pts = plate.part(part).sample(128, key=key).points
        assert np.allclose(split.field(pts)[:, 0], fn(pts), atol=1e-10), part
    free = plate.part("xmax").sample(64, key=key).points
    assert np.max(np.abs(np.asarray(split.field(free)[:, 0]))) > 1e-3  # not held there
    # the soft Neumann term still trains through the hard field's derivatives
    batch = split.problem.constraints["rest"].sample(key)
    assert np.isfinite(float(split.problem.constraints["rest"].loss(split.field, batch)))


def test_space_time_initial_and_walls_become_one_hard_field(key):
    cyl = fd.Interval(-1.0, 1.0) * fd.TimeInterval(0.0, 1.0)
    problem = Problem(
        {
            "pde": Residual(lambda x, d: d.grad[0, 1] - d.laplacian, cyl, laplacian_dims=(0,)),
            "initial": Initial(lambda x: -jnp.sin(jnp.pi * x[0]), cyl),
            "walls": Dirichlet(0.0, cyl, part="lateral"),
        }
    )
    split = enforce_hard(problem, _net(key))
    assert split.hard == ("initial", "walls")
    x0 = cyl.sample_initial(64, key=key)
    assert np.allclose(split.field(x0)[:, 0], -np.sin(np.pi * np.asarray(x0)[:, 0]), atol=1e-10)
    walls = cyl.sample_lateral(64, key=key).points
    assert np.allclose(split.field(walls), 0.0, atol=1e-10)
    # the initial data vanish on the walls, so they lift both parts by themselves
    assert not type(split.field.boundary).__name__ == "Lifting"
    # an initial velocity cannot be held: that constraint stays soft
    wave = Problem(
        {
            "pde": Residual(lambda x, d: d.laplacian, cyl),
            "initial": Initial(0.0, cyl, velocity=1.0),
            "walls": Dirichlet(0.0, cyl, part="lateral"),
        }
    )
    assert enforce_hard(wave, _net(key)).hard == ("walls",)


def test_disagreeing_data_at_a_corner_are_refused():
    problem = _laplace(
        BOX,
        left=Dirichlet(1.0, BOX, part="xmin"),
        bottom=Dirichlet(0.0, BOX, part="ymin"),
    )
    with pytest.raises(
        ValueError,
        match="`value` of 'left' and of 'bottom' disagree where parts 'xmin' and 'ymin' meet"
        r".*\(0, 0\)",
    ):
        enforce_hard(problem, _net(jax.random.key(0)))
    cyl = fd.Interval(0.0, 1.0) * fd.TimeInterval(0.0, 1.0)
    bad_ic = Problem(
        {
            "pde": Residual(lambda x, d: d.laplacian, cyl),
            "ic": Initial(1.0, cyl),
            "walls": Dirichlet(0.0, cyl, part="lateral"),
        }
    )
    with pytest.raises(ValueError, match="'ic' and of 'walls' disagree where parts 'initial'"):
        enforce_hard(bad_ic, _net(jax.random.key(0)))
    # kept soft, the same data are accepted
    assert enforce_hard(problem, _net(jax.random.key(0)), constraints=["left"]).hard == ("left",)


def test_parts_that_are_unknown_missing_or_given_twice_are_refused():
    with pytest.raises(
        ValueError,
        match="`part` of Dirichlet: 'left' is not a boundary part of this Box; its parts "
        "are 'xmin'",
    ):
        Dirichlet(0.0, BOX, part="left")
    with pytest.raises(ValueError, match="`part` of Neumann: 'hole0' is not a boundary part"):
        Neumann(0.0, BOX, part="hole0")
    with pytest.raises(TypeError, match="Dirichlet on the initial part needs a SpaceTime"):
        Dirichlet(0.0, BOX, part="initial")
    plate = fd.Box([-1.0, -1.0], [1.0, 1.0]) - fd.Disk((0.0, 0.0), 0.4)
    with pytest.raises(
        ValueError,
        match="'hole1' is not a boundary part of this Difference.*groups: 'holes', 'outer'",
    ):
        Dirichlet(0.0, plate, part=("hole0", "hole1"))
    lens = fd.Box([-1.0, -1.0], [1.0, 1.0]) & fd.Disk((0.8, 0.8), 1.0)
    with pytest.raises(ValueError, match="cover none of the boundary"):
        Dirichlet(0.0, lens, part="piece0.xmin")
    twice = _laplace(BOX, a=Dirichlet(0.0, BOX), b=Dirichlet(0.0, BOX, part="xmin"))
    with pytest.raises(ValueError, match="`constraints` 'a' and 'b' both prescribe .* part 'xmin'"):
        enforce_hard(twice, _net(jax.random.key(0)))
    with pytest.raises(ValueError, match="`constraints` names \\['pde'\\]"):
        enforce_hard(twice, _net(jax.random.key(0)), constraints=["pde"])


def test_a_predicate_part_trains_softly(key):
    right = Dirichlet(0.0, BOX, part=lambda p: p[0] > 0.5)
    assert right.region.names is None and abs(right.measure - 2.0) < 0.02
    pts = right.sample(key).points
    assert np.all(np.asarray(pts)[:, 0] > 0.5) and right.sample(key).normals is not None
    assert enforce_hard(_laplace(BOX, right=right), _net(key)).hard == ()
