r"""Automatic hard enforcement: a problem's Dirichlet and initial data moved into the field.

`enforce_hard` takes a `Problem` and a free network $N$ and returns the field
$u = g + \phi N$ (`fieldpde.constraints.HardDirichlet`) that meets the problem's Dirichlet
data, and the initial value of a space-time problem, exactly, together with the problem
that remains to be trained (the PDE and whatever could not be made hard: Neumann and Robin
data, Dirichlet data on a predicate or on another domain, an initial velocity).

$\phi$ is the distance of the prescribed parts, as `HardDirichlet.on` builds it (zero there,
positive elsewhere in the domain, rescaled to at most 1 inside) and $g$ is the data of one
constraint when they also hold on the other constraints' parts (an initial value that
vanishes on walls where the data are 0), otherwise the inverse-distance
`fieldpde.constraints.Lifting` of the constraints' data on their parts. Hard data must be
continuous: where two parts with different data meet (a corner of a box, a vertex of a
polygon, the edge of the initial slice) the data must agree, or `enforce_hard` says where
they do not.
"""

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ..constraints import (
    AbstractConstraint,
    Dirichlet,
    HardDirichlet,
    Initial,
    Lifting,
)
from ._problem import Problem


@final
class SpaceData(eqx.Module):
    """Initial data of the space coordinates, as a function of a space-time point.

    Attributes:
        fn: the data $g(x)$ of the space point ``(d-1,)``.

    Example:
        >>> import jax.numpy as jnp
        >>> g = SpaceData(lambda x: 2.0 * x[0])
        >>> float(g(jnp.array([0.5, 7.0])))  # the time 7.0 is ignored
        1.0
    """

    fn: Callable[[Array], Any] = eqx.field(static=True)

    def __call__(self, x: Array) -> Array:
        return jnp.asarray(self.fn(x[..., :-1]), x.dtype)


@final
class HardSplit(NamedTuple):
    """What `enforce_hard` returns.

    Attributes:
        field: the hard field $g + \\phi N$ (the network itself when nothing was hard).
        problem: the problem without the constraints now held by the field.
        hard: the names of those constraints.

    Example:
        >>> split = HardSplit(field=None, problem=None, hard=("bc",))
        >>> split.hard
        ('bc',)
    """

    field: Any
    problem: Any
    hard: tuple[str, ...]


def hard_candidates(problem: Problem) -> dict[str, tuple[tuple[str, ...], Callable]]:
    """The constraints of `problem` a hard field can hold, with their parts and data.

    A `Dirichlet` constraint on named parts of the problem's domain, or an `Initial`
    constraint without a velocity on it, with a positive weight.

    Args:
        problem: the `Problem`.

    Returns:
        name -> ``(part names, data of a point of the domain)``.

    Example:
        >>> from fieldpde.constraints import Dirichlet, Neumann, Residual
        >>> from fieldpde.domains import Box
        >>> box = Box([0.0, 0.0], [1.0, 1.0])
        >>> p = Problem({"pde": Residual(lambda x, d: d.laplacian, box),
        ...              "left": Dirichlet(1.0, box, part="xmin"),
        ...              "rest": Neumann(0.0, box, part=("xmax", "ymin", "ymax"))})
        >>> {k: v[0] for k, v in hard_candidates(p).items()}
        {'left': ('xmin',)}
    """
    out = {}
    for name, c in problem.constraints.items():
        if c.domain is None or c.domain != problem.domain or not c.weight > 0:
            continue
        if isinstance(c, Dirichlet) and c.region.names is not None:
            out[name] = (c.region.names, c.value)
        elif isinstance(c, Initial) and c.velocity is None:
            out[name] = (("initial",), SpaceData(c.value))
    return out


def held_components(c: AbstractConstraint) -> tuple[int, ...] | None:
    """The output components a hard candidate prescribes (``None``: all of them)."""
    return c.components if isinstance(c, Dirichlet) else None


def _widen(fn: Callable, k: int) -> Callable:
    """`fn` of a point broadcast to `k` values (data given as one number for several
    components)."""

    def widened(x):
        return jnp.broadcast_to(jnp.asarray(fn(x), x.dtype).reshape(-1), (k,))

    return widened


def _values(fn: Callable, pts: np.ndarray) -> np.ndarray:
    x = jnp.asarray(pts, jnp.result_type(float))
    out = jax.vmap(lambda p: jnp.asarray(fn(p), p.dtype))(x)
    return np.asarray(out, np.float64).reshape(len(pts), -1)


def check_junctions(
    domain: Any, groups: dict[str, tuple[tuple[str, ...], Callable]], *, rtol: float = 1e-5
) -> None:
    """Raise if the data of two constraints differ where their parts meet.

    Args:
        domain: the domain.
        groups: constraint name -> ``(part names, data)``, as `hard_candidates` gives.
        rtol: the data may differ by this much relative to their size.

    Raises:
        ValueError: naming the two constraints, the parts and a point where they meet.

    Example:
        >>> from fieldpde.domains import Box
        >>> box = Box([0.0, 0.0], [1.0, 1.0])
        >>> check_junctions(box, {"left": (("xmin",), lambda x: x[1]),
        ...                       "bottom": (("ymin",), lambda x: 0.0 * x[0])})  # agree
        >>> check_junctions(box, {"left": (("xmin",), lambda x: 1.0),
        ...                       "bottom": (("ymin",), lambda x: 0.0)})
        Traceback (most recent call last):
        ValueError: `value` of 'left' and of 'bottom' disagree ...
    """
    owner = {p: name for name, (parts, _) in groups.items() for p in parts}
    for a, b, pts in domain._junctions():
        ga, gb = owner.get(a), owner.get(b)
        if ga is None or gb is None or ga == gb or not len(pts):
            continue
        va, vb = _values(groups[ga][1], pts), _values(groups[gb][1], pts)
        if va.shape != vb.shape:
            raise ValueError(
                f"`value` of {ga!r} and of {gb!r} have {va.shape[1]} and {vb.shape[1]} "
                "components; Dirichlet data must have the field's number of outputs"
            )
        gap = np.max(np.abs(va - vb), axis=1)
        scale = 1.0 + np.maximum(np.max(np.abs(va), axis=1), np.max(np.abs(vb), axis=1))
        bad = np.flatnonzero(gap > rtol * scale)
        if bad.size:
            i = int(bad[0])
            where = ", ".join(f"{v:.6g}" for v in pts[i])
            raise ValueError(
                f"`value` of {ga!r} and of {gb!r} disagree where parts {a!r} and {b!r} meet: "
                f"{va[i].tolist()} vs {vb[i].tolist()} at ({where}); a hard constraint needs "
                "data that agree there: make them continuous, or keep the constraints soft "
                "(hard=False)"
            )


def _single_lifting(
    domain: Any, groups: dict[str, tuple[tuple[str, ...], Callable]], *, rtol: float = 1e-5
) -> Callable | None:
    """One constraint's data if they also hold on every other constraint's parts.

    Burgers' initial value $-\\sin(\\pi x)$ vanishes on the walls where the data are 0, so
    it lifts both by itself: smoother and cheaper than a blend.
    """
    if len(groups) == 1:
        return next(iter(groups.values()))[1]
    samples = {}
    for name, (parts, _) in groups.items():
        pts = domain.part(parts).sample(256, key=jax.random.key(0), method="sobol").points
        samples[name] = np.asarray(pts)
    for name, (_, fn) in groups.items():
        fits = True
        for other, (_, other_fn) in groups.items():
            if other == name:
                continue
            mine, theirs = _values(fn, samples[other]), _values(other_fn, samples[other])
            scale = 1.0 + float(np.max(np.abs(theirs)))
            if mine.shape != theirs.shape or float(np.max(np.abs(mine - theirs))) > rtol * scale:
                fits = False
                break
        if fits:
            return fn
    return None


def enforce_hard(
    problem: Problem, network: Any, *, constraints: Sequence[str] | None = None
) -> HardSplit:
    """Move the problem's Dirichlet and initial data into a hard field around `network`.

    Args:
        problem: the `Problem`.
        network: the free field $N$ (e.g. a `fieldpde.nn.SIREN`).
        constraints: the names of the constraints to make hard (default: every one that
            can be, see `hard_candidates`).

    Returns:
        A `HardSplit`: the field, the problem left to train, and the names made hard.

    Dirichlet data on some output `components` (the velocity of a ``(u, v, p)`` flow)
    give a field that holds those components only (`HardDirichlet` with `components`),
    leaving the others to the network; every hard constraint must then prescribe the same
    components.

    Raises:
        ValueError: a named constraint cannot be made hard, two constraints prescribe the
            same part, their data disagree where their parts meet, the hard constraints
            prescribe different components, or nothing would be left to train.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde import SIREN
        >>> from fieldpde.constraints import Dirichlet, Residual
        >>> from fieldpde.domains import Box, Disk
        >>> plate = Box([-1.0, -1.0], [1.0, 1.0]) - Disk((0.0, 0.0), 0.5)
        >>> p = Problem({"pde": Residual(lambda x, d: d.laplacian, plate),
        ...              "outer": Dirichlet(1.0, plate, part="outer"),
        ...              "hole": Dirichlet(0.0, plate, part="holes")})
        >>> net = SIREN.init(2, 16, 1, depth=2, key=jax.random.key(0))
        >>> split = enforce_hard(p, net)
        >>> split.hard, list(split.problem.constraints)
        (('outer', 'hole'), ['pde'])
        >>> split.field(jnp.array([[1.0, 0.3], [0.0, 0.5]])).round(6).tolist()
        [[1.0], [0.0]]
    """
    candidates = hard_candidates(problem)
    if constraints is not None:
        names = tuple(constraints)
        missing = [n for n in names if n not in candidates]
        if missing:
            raise ValueError(
                f"`constraints` names {missing}, which cannot be made hard (Dirichlet data on "
                f"named parts of the problem's domain, or initial values without a velocity); "
                f"the candidates are {list(candidates)}"
            )
        candidates = {n: candidates[n] for n in names}
    if not candidates:
        return HardSplit(network, problem, ())
    seen: dict[str, str] = {}
    for name, (parts, _) in candidates.items():
        for p in parts:
            if p in seen:
                raise ValueError(
                    f"`constraints` {seen[p]!r} and {name!r} both prescribe Dirichlet data on "
                    f"part {p!r}; give each part its data once"
                )
            seen[p] = name
    held = {held_components(problem.constraints[n]) for n in candidates}
    if len(held) > 1:
        raise ValueError(
            "`constraints`: the hard data prescribe different output components ("
            + ", ".join(f"{n!r}: {held_components(problem.constraints[n])}" for n in candidates)
            + "); a hard field holds one set of components on all its parts: give every hard "
            "constraint the same `components`, or keep some soft (`constraints=`)"
        )
    components = held.pop()
    if components is not None:
        # a number stands for every listed component: give each part's data their width
        k = len(components)
        candidates = {n: (parts, _widen(fn, k)) for n, (parts, fn) in candidates.items()}
    domain = problem.domain
    assert domain is not None  # every candidate lies on it (hard_candidates)
    check_junctions(domain, candidates)
    all_parts = tuple(p for p in domain.parts if p in seen)
    boundary = _single_lifting(domain, candidates)
    if boundary is None:
        groups = list(candidates.values())
        boundary = Lifting(domain, [p for p, _ in groups], [fn for _, fn in groups])
    rest: dict[str, AbstractConstraint] = {
        n: c for n, c in problem.constraints.items() if n not in candidates
    }
    if not rest:
        raise ValueError(
            "every constraint of the problem would be held by the field, leaving nothing to "
            "train; add the PDE residual"
        )
    remaining = Problem(
        rest,
        domain=domain,
        exact=problem.exact,
        reference=problem.reference,
        params=problem.params,
        name=problem.name,
        outputs=problem.outputs,
    )
    field = HardDirichlet.on(domain, network, boundary, part=all_parts, components=components)
    return HardSplit(field, remaining, tuple(candidates))
