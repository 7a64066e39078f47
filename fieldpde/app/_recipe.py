r"""The default recipe: every setting a problem file leaves unset, chosen from the problem.

`choose` turns a problem file and its (partial) `Settings` into a `Plan`: resolved
settings, the field to train, the problem left to train and what was chosen, so that
``fieldpde solve FILE`` solves a file that states only the physics. The rules, measured on
the shipped problems and PINNacle's (see ``docs/benchmarks.md``):

- **hard constraints**: Dirichlet data on named boundary parts and initial values are held
  exactly by the field (`fieldpde.problem.enforce_hard`), wherever the domain allows; at
  a reentrant corner of a 2-D domain (`fieldpde.domains.reentrant_corners`) the distance
  is weighted to vanish like the solution (`fieldpde.constraints.SingularCorners`: the
  L-shape trains to 1.3e-3 against 0.36 unweighted), which needs Dirichlet data on the
  whole boundary; otherwise, and in 3-D, such data stay soft;
- **network**: a SIREN, 32 wide (64 in float32) and 4 deep, on a space domain (one
  output per name in the problem's `outputs`, e.g. ``(u, v, p)``); a tanh MLP of 8
  hidden layers of 20 on a space-time domain whose data vary slowly (Raissi et al.'s
  Burgers network), a SIREN when they oscillate;
- **self-scaling**: the network sees the domain's bounding box mapped to $[-1, 1]$ per
  axis (time included) and its output is scaled by the size of the boundary and initial
  data (`fieldpde.nn.Scaled`); a SIREN's first-layer frequency per axis is
  $\omega_i = \max(3, k_i)$ with $k_i$ the wavenumber of the problem's data along axis
  $i$ in those unit coordinates (`fieldpde.problem.data_wavenumbers`);
- **points**: 2048 per step in 2-D, 4096 on a space-time domain or in 3-D, 512 in 1-D, and
  twice that for the second phase's one batch;
- **phases**: Adam 2000 steps (peak rate 2e-3, cosine decay, fresh points every 100
  steps), then SSBroyden on one batch (`fieldpde.train.SSBroyden`: the tuned files'
  optimiser) for a fixed budget of point-steps, `SECOND_BUDGET` (4000 steps on a 2-D
  problem's 4096 points, 2000 on the 8192 of a space-time one, at most 4000); L-BFGS
  instead in float32 or for a network of more than `DENSE_MAX` parameters, where
  SSBroyden's dense inverse Hessian would be too large;
- **balancing**: each soft term normalised at initialisation (`InitialNormalization`)
  when a soft term remains beside the PDE;
- **precision**: float64 (``--no-x64`` for float32), where the second-order phase reaches
  errors float32's rounding stops short of.

Anything the file's ``SETTINGS`` or the command line sets wins. A file that defines its
own ``field()`` keeps it (the width, depth and frequency settings are passed to it when it
takes them), and its Dirichlet data are still made hard around it unless ``hard=False``.
"""

import inspect
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..constraints import SingularCorners
from ..domains import SpaceTime, reentrant_corners
from ..nn import MLP, SIREN, Scaled
from ..problem import Problem, data_functions, data_wavenumbers, enforce_hard, hard_candidates
from ..train import Adam, InitialNormalization, SSBroyden
from ._problem_file import ProblemFile
from ._settings import Settings

BASE_OMEGA = 3.0
# SSBroyden keeps a dense inverse Hessian: n^2 numbers (0.5 GB at 8192 parameters in
# float64); above that the recipe's second phase is L-BFGS
DENSE_MAX = 8192
SSBROYDEN_BLOCK = 250
# points x steps of the second phase (4000 steps on a 2-D problem's 4096 points)
SECOND_BUDGET = 4000 * 4096


@final
@dataclass(frozen=True, eq=False)
class Plan:
    """What the default recipe chose for a problem file.

    Attributes:
        settings: every setting resolved (nothing left ``None`` that training needs).
        problem: the problem as the file states it.
        train_problem: the problem left to train (without the constraints the field holds).
        hard: the names of the constraints the field holds exactly.
        choices: what was chosen, name -> a short text (printed and stored as netCDF
            attributes ``recipe_NAME``).
        build: ``build(key, dtype) -> field``, the untrained field of a start.
        architecture: the settings that fix the field's structure (JSON), enough to
            rebuild it for loading saved weights (`load_solution`).

    Example:
        >>> from fieldpde.app import load_problem_file
        >>> plan = choose(load_problem_file("poisson_2d_c"), Settings())
        >>> plan.hard, plan.choices["network"]
        (('sides', 'holes'), 'siren 32x4')
    """

    settings: Settings
    problem: Problem
    train_problem: Problem
    hard: tuple[str, ...]
    choices: dict[str, str]
    build: Callable[[Any, Any], Any]
    architecture: dict[str, Any]


def _takes(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind == p.VAR_KEYWORD for p in params) or any(p.name == name for p in params)


def _pde_points(problem: Problem) -> int | None:
    counts = [c.num_points for c in problem.constraints.values() if c.kind == "pde"]
    return max(counts) if counts else None


def default_points(problem: Problem) -> int:
    """Collocation points per step for the problem's domain (see the module docstring).

    Args:
        problem: the `Problem`.

    Returns:
        512 in 1-D, 2048 in 2-D, 4096 in 3-D or on a space-time domain.

    Example:
        >>> from fieldpde.app import load_problem_file
        >>> default_points(load_problem_file("burgers_1d_c").problem())
        4096
    """
    domain = problem.domain
    d = 2 if domain is None else domain.dim
    if isinstance(domain, SpaceTime) or d >= 3:
        return 4096
    return 512 if d == 1 else 2048


def data_scale(problem: Problem, n: int = 512) -> float:
    """The largest magnitude of the problem's boundary and initial data (1 if none).

    Args:
        problem: the `Problem`.
        n: points sampled per constraint.

    Returns:
        A positive float.

    Example:
        >>> from fieldpde.app import load_problem_file
        >>> data_scale(load_problem_file("poisson_boltzmann_2d").problem())
        1.0
    """
    best = 0.0
    functions = data_functions(problem)
    for name, c in problem.constraints.items():
        if c.kind not in ("boundary", "initial") or name not in functions:
            continue
        pts = c.with_num_points(n).sample(jax.random.key(0)).points
        values = jax.vmap(lambda p, fn=functions[name]: jnp.asarray(fn(p), p.dtype))(pts)
        best = max(best, float(jnp.max(jnp.abs(values))))
    return best if best > 0 and math.isfinite(best) else 1.0


def _omegas(problem: Problem, setting: Any) -> tuple[float, ...]:
    domain = problem.domain
    assert domain is not None
    lo, hi = (np.asarray(a, np.float64) for a in domain.bounding_box())
    if setting is not None:
        values = setting if isinstance(setting, tuple | list) else (setting,) * lo.size
        if len(values) != lo.size:
            raise ValueError(
                f"`omega` gives {len(values)} frequencies but the domain has {lo.size} axes"
            )
        return tuple(float(v) for v in values)
    k = np.asarray(data_wavenumbers(problem)) * (hi - lo) / 2.0
    return tuple(float(max(BASE_OMEGA, round(v, 2))) for v in k)


def _siren(key, d, width, depth, omegas, dtype, outputs=1):
    top = max(omegas)
    net = SIREN.init(
        d, width, outputs, depth=depth, key=key, first_omega=top, hidden_omega=BASE_OMEGA,
        dtype=dtype,
    )  # fmt: skip
    rows = jnp.asarray([w / top for w in omegas], net.layers[0].W.dtype)[:, None]
    return eqx.tree_at(lambda s: s.layers[0].W, net, net.layers[0].W * rows)


def _network_choice(problem: Problem, settings: Settings, omegas) -> str:
    if settings.network is not None:
        return settings.network
    timed = isinstance(problem.domain, SpaceTime)
    if timed and max(omegas) <= BASE_OMEGA * 2:
        return "tanh"
    return "siren"


def chosen_x64(settings: Settings) -> bool:
    """Whether a run with `settings` trains in float64: the setting, else float64.

    The recipe's second-order phase (`fieldpde.train.SSBroyden`) takes the loss down to
    where float32's rounding stops it (relative errors of 1e-6 to 1e-9 on the shipped
    problems, against 1e-4 to 1e-5 in float32; ``docs/benchmarks.md``).

    Args:
        settings: the run's `Settings`.

    Returns:
        ``settings.x64`` when it is set, else True.

    Example:
        >>> chosen_x64(Settings(x64=False)), chosen_x64(Settings())
        (False, True)
    """
    return True if settings.x64 is None else bool(settings.x64)


def parameter_count(tree: Any) -> int:
    """The number of trainable (inexact array) entries of a network.

    Example:
        >>> import jax
        >>> parameter_count(MLP.init(2, 8, 1, depth=2, key=jax.random.key(0)))
        33
    """
    leaves = jax.tree_util.tree_leaves(eqx.filter(tree, eqx.is_inexact_array))
    return int(sum(leaf.size for leaf in leaves))


def _phases(
    settings: Settings, points: int, x64: bool, n_params: int, choices: dict[str, str]
) -> dict[str, Any]:
    """The recipe's training: Adam, then SSBroyden (float64, a network of at most
    `DENSE_MAX` parameters) or L-BFGS (float32 or a larger network) on one batch twice as
    large; the simple settings (``steps``, ``lbfgs_steps``, ...) size them."""
    steps = settings.steps if settings.steps is not None else 2000
    learning_rate = settings.learning_rate or 2e-3
    resample_every = settings.resample_every or 100
    second_points = settings.lbfgs_points or 2 * points
    second = settings.lbfgs_steps
    if second is None:  # a fixed budget of point-steps: 4000 on 4096 points, 2000 on 8192
        second = max(min(4000, SECOND_BUDGET // second_points), 1)
    dense = x64 and n_params <= DENSE_MAX
    adam = f"Adam {steps} (lr {learning_rate:g})"
    if not dense or not steps:
        # the simple settings, as `fieldpde.train.fit` takes them: Adam then L-BFGS
        choices["phases"] = f"{adam} + L-BFGS {second} on {second_points} points"
        if not dense and x64:
            choices["phases"] += f" (L-BFGS: {n_params} parameters > {DENSE_MAX} for SSBroyden)"
        out: dict[str, Any] = dict(
            steps=steps,
            lbfgs_steps=second,
            learning_rate=learning_rate,
            resample_every=resample_every,
        )
        if settings.lbfgs_points is None and second:
            out["lbfgs_points"] = second_points
        return out
    phases: tuple[Any, ...] = (
        Adam(steps, learning_rate=learning_rate, resample_every=resample_every),
    )
    if second:
        phases += (SSBroyden(second, points=second_points, block=SSBROYDEN_BLOCK),)
    choices["phases"] = adam + (
        f" + SSBroyden {second} on {second_points} points" if second else ""
    )
    return {"phases": phases}


def choose(pf: ProblemFile, settings: Settings) -> Plan:
    """Resolve every unset setting of a problem file and build its field (the recipe).

    Args:
        pf: the loaded problem file.
        settings: its settings with the caller's overrides; ``None`` entries are chosen.

    Returns:
        A `Plan`.

    Raises:
        ValueError, TypeError: settings the problem cannot take (a width for a file
            ``field()`` that takes none, hard data that disagree at a corner, ...).

    Example:
        >>> from fieldpde.app import load_problem_file
        >>> plan = choose(load_problem_file("burgers_1d_c"), Settings(steps=10))
        >>> plan.settings.steps, plan.choices["network"], plan.hard
        (10, 'tanh 20x9', ('initial', 'walls'))
    """
    problem = pf.problem(
        **({"points": settings.points} if settings.points else {}), **settings.problem
    )
    choices: dict[str, str] = {}
    points = settings.points
    if points is None:
        points = default_points(problem)
        choices["points"] = f"{points} per step"
        if _pde_points(problem) != points:
            problem = pf.problem(points=points, **settings.problem)
    if not isinstance(problem, Problem):
        raise TypeError(f"{pf.path}: problem() must return a fieldpde Problem, got {problem!r}")
    if problem.domain is None:
        raise ValueError(f"{pf.path}: the problem has no domain to solve on")
    domain = problem.domain
    d = domain.dim
    timed = isinstance(domain, SpaceTime)
    changes: dict[str, Any] = {"points": points}
    x64 = chosen_x64(settings)
    if settings.x64 is None:
        changes["x64"] = x64
        choices["precision"] = "float64" if x64 else "float32"
    if settings.grid is None:
        changes["grid"] = (257, 101) if timed and d == 2 else 101 if d <= 2 else 41
    hard_allowed = settings.hard is not False
    architecture: dict[str, Any] = {}
    if pf.field is not None:
        options = dict(settings.field)
        for name in ("width", "depth", "omega"):
            value = getattr(settings, name)
            if value is None:
                continue
            if not _takes(pf.field, name):
                raise TypeError(
                    f"{pf.path}: `{name}` is set, but the file's field() takes no `{name}` "
                    "argument; drop the setting or add the argument to field()"
                )
            options[name] = value
        file_field = pf.field

        def file_network(key, dtype):
            return file_field(key, dtype=dtype, **options)

        make_network: Callable[[Any, Any], Any] = file_network

        choices["network"] = "the file's field()"
        architecture["field"] = options
        out_scale = 1.0
    else:
        omegas = _omegas(problem, settings.omega)
        network = _network_choice(problem, settings, omegas)
        if network == "siren":
            # 32 wide in float64, where SSBroyden's dense matrix has to stay small
            width = settings.width or (32 if x64 else 64)
            depth = settings.depth or 4
            choices["omega"] = "(" + ", ".join(f"{w:g}" for w in omegas) + ") per axis"
        else:
            width = settings.width or 20
            depth = settings.depth or 9
        choices["network"] = f"{network} {width}x{depth}"
        lo, hi = (np.asarray(a, np.float64) for a in domain.bounding_box())
        out_scale = data_scale(problem)
        choices["scaling"] = (
            f"inputs to [-1, 1] per axis, output x {out_scale:.3g} (boundary/initial data)"
        )

        # a system's field has one output per named output (u, v, p)
        m = len(problem.outputs) if problem.outputs else 1

        def recipe_network(key, dtype):
            if network == "siren":
                net = _siren(key, d, width, depth, omegas, dtype, m)
            else:
                net = MLP.init(
                    d, width, m, depth=depth, key=key, activation=network, dtype=dtype,
                    init="glorot_normal",
                )  # fmt: skip
            return Scaled.box(net, lo, hi, out_scale=out_scale)

        make_network = recipe_network
        changes.update(network=network, width=width, depth=depth, omega=omegas)
        architecture.update(network=network, width=width, depth=depth, omega=list(omegas))
    template = make_network(jax.random.key(0), None)
    if settings.phases is None:
        changes.update(_phases(settings, points, x64, parameter_count(template), choices))
    corners = reentrant_corners(domain) if settings.hard is None else np.zeros((0, d))
    where = ", ".join("(" + ", ".join(f"{v:.3g}" for v in p) + ")" for p in corners[:3])
    if len(corners) and d != 2:
        # u ~ r^(pi/alpha) there while the distance vanishes like r: the hard field's
        # network would have to be singular; the corner weighting is 2-D only
        hard_allowed = False
        choices["hard"] = (
            f"none: a reentrant corner at {where}, where a hard field's network would be "
            "singular; the data are trained as soft terms (--hard forces them hard)"
        )
    if hard_allowed and settings.hard is None:
        candidates = hard_candidates(problem)
        if candidates and set(candidates) == set(problem.constraints):
            hard_allowed = False  # a data fit: nothing would be left to train
            choices["hard"] = "none: the field would hold every constraint"
    split = enforce_hard(problem, template) if hard_allowed else None
    if (
        split is not None
        and len(corners)
        and not isinstance(getattr(split.field, "distance", None), SingularCorners)
    ):
        # the hard data leave part of the boundary free, so the distance is not weighted
        # at the corner (that needs the whole boundary held): keep them soft
        split, hard_allowed = None, False
        choices["hard"] = (
            f"none: a reentrant corner at {where}, and the Dirichlet data do not cover the "
            "whole boundary (needed to weight the distance there); trained as soft terms"
        )
    hard = () if split is None else split.hard
    train_problem = problem if split is None else split.problem
    changes["hard"] = bool(hard)
    if hard:
        choices["hard"] = ", ".join(hard) + " (held exactly by the field)"
        if len(corners):
            choices["hard"] += f"; the distance vanishes like the solution at {where}"
    elif hard_allowed:
        choices["hard"] = "none (no Dirichlet or initial data on named parts)"
    soft = [n for n, c in train_problem.constraints.items() if c.kind != "pde"]
    if settings.balancing is None and soft:
        changes["balancing"] = InitialNormalization()
        choices["balancing"] = "each term normalised at initialisation"
    resolved = settings.replace(
        **{k: v for k, v in changes.items() if getattr(settings, k) is None}
    )
    hard_field = None if split is None or not hard else split.field

    def build(key, dtype):
        net = make_network(key, dtype)
        if hard_field is None:
            return net
        return eqx.tree_at(lambda f: f.network, hard_field, net)

    architecture.update(
        hard=bool(hard), x64=bool(resolved.x64), points=int(points), problem=dict(settings.problem)
    )
    try:
        json.dumps(architecture)
    except TypeError:
        architecture = {}
    return Plan(
        settings=resolved,
        problem=problem,
        train_problem=train_problem,
        hard=hard,
        choices=choices,
        build=build,
        architecture=architecture,
    )
