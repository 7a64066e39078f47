r"""What a parametric-family script needs: train, check at held-out $\mu$, time a query, save.

`family_main` is the whole script (argument parsing, physics-informed `fit`, save and
reload, held-out errors against reference solutions, query timing); its pieces are public
for notebooks and benchmarks: `held_out_errors`, `time_query` (a new $\mu$ on an
$n \times n$ grid, surrogate side by side with the reference solve), `save_surrogate` and
`load_surrogate` (the checkpoint format of `fieldpde.train`).
"""

import argparse
import inspect
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import positive_float, positive_int
from ..constraints import BoxDistance, HardDirichlet
from ..nn import SIREN, BasisSurrogate
from ..problem import ParametricProblem
from ..surrogate import ResidualProjection
from ..train import fit, load_checkpoint, read_checkpoint_meta, save_checkpoint


def grid_points(bounds: Sequence[Sequence[float]], n: int) -> np.ndarray:
    """The nodes of a uniform ``n`` per axis grid over a box, shape ``(n**d, d)``.

    Ordered as ``np.meshgrid(..., indexing="ij")`` flattened, the layout of
    `fieldpde.reference.GridSolution` values.

    Args:
        bounds: one ``(lo, hi)`` pair per axis.
        n: nodes per axis, both ends included.

    Returns:
        A float64 array of shape ``(n**d, d)``.

    Example:
        >>> grid_points([(0.0, 1.0), (0.0, 2.0)], 3)[:4].tolist()
        [[0.0, 0.0], [0.0, 1.0], [0.0, 2.0], [0.5, 0.0]]
    """
    n = positive_int("n", n, minimum=2)
    axes = [np.linspace(float(lo), float(hi), n) for lo, hi in bounds]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=-1)


def _mu_key(mu: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in np.atleast_1d(np.asarray(mu, dtype=float)))


def held_out_errors(
    family: ParametricProblem,
    field: Any,
    mus: Sequence[Any],
    *,
    reference: Callable[[Any], Any] | None = None,
) -> dict[tuple[float, ...], float]:
    r"""The relative L2 error of a surrogate against reference solutions, per held-out $\mu$.

    $\lVert u_\theta(\cdot;\mu) - u_\text{ref}\rVert_2 / \lVert u_\text{ref}\rVert_2$,

    compared at the nodes of each reference solution (no interpolation): the discrete
    error on the reference grid.

    Args:
        family: the `ParametricProblem` (its `bind` evaluates the field at one $\mu$).
        field: the trained field over concatenated points ``(x, mu)``, or a
            `fieldpde.surrogate.ResidualProjection` (answered through its ``at``).
        mus: the held-out parameter values.
        reference: ``reference(mu)`` giving a `fieldpde.reference.GridSolution`
            (default: ``family.reference``).

    Returns:
        ``{mu: relative L2 error}``, keyed by each ``mu`` as given (a number or tuple;
        arrays and lists become tuples).

    Raises:
        ValueError: no reference is given and the family has none.

    Example:
        >>> import jax.numpy as jnp, numpy as np
        >>> from fieldpde.constraints import Dirichlet
        >>> from fieldpde.domains import Box
        >>> from fieldpde.reference import GridSolution
        >>> x = np.linspace(0.0, 1.0, 5)
        >>> fam = ParametricProblem([Dirichlet(0.0, Box([0.0], [1.0]))],
        ...                         parameters=Box([1.0], [2.0]),
        ...                         reference=lambda mu: GridSolution((x,), mu[0] * x))
        >>> field = lambda p: 1.1 * p[..., 1:] * p[..., :1]   # 10% too large
        >>> {k: round(v, 6) for k, v in held_out_errors(fam, field, [1.5]).items()}
        {1.5: 0.1}
    """
    reference = family.reference if reference is None else reference
    if reference is None:
        raise ValueError("`reference` is needed: the family has no `reference` of its own")
    errors = {}
    for mu in mus:
        ref = reference(family.check_mu(mu))
        pts = ref.points().reshape(-1, ref.ndim)
        truth = np.asarray(ref.u, dtype=float).reshape(pts.shape[0], -1)
        pred = np.asarray(family.bind(field, mu)(jnp.asarray(pts)), dtype=float)
        pred = pred.reshape(truth.shape)
        key = mu if isinstance(mu, float | int | tuple) else _mu_key(mu)
        errors[key] = float(np.linalg.norm(pred - truth) / np.linalg.norm(truth))
    return errors


class _SpaceDistance(eqx.Module):
    """A box distance applied to the space part of a concatenated point ``(x, mu)``."""

    distance: Any
    space_dim: int = eqx.field(static=True)

    def __call__(self, p: Any) -> Any:
        return self.distance(p[: self.space_dim])


def family_field(
    key: Any,
    *,
    model: str,
    space: Any,
    parameters: Any,
    width: int,
    depth: int,
    rank: int,
    omega: float,
    dtype: Any = None,
) -> Any:
    r"""The initial surrogate of a family on a box, zero on its walls for every ``mu``.

    Args:
        key: PRNG key for the initial weights.
        model: ``"basis"``: a `BasisSurrogate` with `rank` basis functions of space (fast
            grid queries, residual projection); ``"siren"``: a SIREN over ``(x, mu)``
            under a hard Dirichlet transform of the space coordinates.
        space: the space `fieldpde.domains.Box`.
        parameters: the parameter `fieldpde.domains.Box`.
        width: hidden width of the SIREN (the shape net for ``"basis"``).
        depth: its layers, readout included.
        rank: ``R`` for ``"basis"`` (ignored by ``"siren"``).
        omega: $\omega_0$ of every SIREN layer.
        dtype: parameter dtype.

    Returns:
        The untrained field over concatenated points ``(x, mu)``.

    Raises:
        ValueError: `model` is neither ``"basis"`` nor ``"siren"``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde.domains import Box
        >>> f = family_field(jax.random.key(0), model="siren", space=Box([-1.0], [1.0]),
        ...                  parameters=Box([0.0], [1.0]), width=8, depth=2, rank=4, omega=3.0)
        >>> float(f(jnp.array([1.0, 0.4]))[0])  # zero on the wall x = 1, whatever mu
        0.0
    """
    walls = BoxDistance(space.lo, space.hi)
    d = len(space.lo)
    if model == "basis":
        return BasisSurrogate.init(
            d,
            width,
            1,
            depth=depth,
            rank=rank,
            mu_lo=parameters.lo,
            mu_hi=parameters.hi,
            distance=walls,
            key=key,
            first_omega=omega,
            hidden_omega=omega,
            dtype=dtype,
        )
    if model == "siren":
        inputs = d + len(parameters.lo)
        net = SIREN.init(
            inputs,
            width,
            1,
            depth=depth,
            key=key,
            first_omega=omega,
            hidden_omega=omega,
            dtype=dtype,
        )
        return HardDirichlet(net, 0.0, _SpaceDistance(walls, d))
    raise ValueError(f"`model` must be one of ('basis', 'siren'), got {model!r}")


@final
@dataclass(frozen=True)
class QueryTiming:
    """Median seconds to answer a new $\\mu$ on an ``n**d`` grid (see `time_query`).

    Attributes:
        n: nodes per axis of the grid.
        reference: the reference (e.g. finite-difference) solve.
        uncached: the surrogate evaluated at every ``(x, mu)`` of the grid (jitted).
        cached: the surrogate's `GridQuery` for a new ``mu`` (``None`` if the field has no
            ``on_grid``).
        cache_setup: the one-off cost of building that `GridQuery` (basis on the grid).

    Example:
        >>> t = QueryTiming(n=256, reference=0.4, uncached=0.02, cached=0.001)
        >>> round(t.speedup_uncached), round(t.speedup_cached)
        (20, 400)
    """

    n: int
    reference: float
    uncached: float
    cached: float | None = None
    cache_setup: float | None = None

    @property
    def speedup_uncached(self) -> float:
        """``reference / uncached``."""
        return self.reference / self.uncached

    @property
    def speedup_cached(self) -> float | None:
        """``reference / cached`` (``None`` without a cached query)."""
        return None if self.cached is None else self.reference / self.cached


def _median_seconds(fn: Callable[[Any], Any], mus: Sequence[Any]) -> float:
    times = []
    for mu in mus:
        t0 = time.perf_counter()
        jax.block_until_ready(fn(mu))
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def time_query(
    field: Any,
    bounds: Sequence[Sequence[float]],
    mus: Sequence[Any],
    solve: Callable[[Any, int], Any],
    *,
    n: int = 256,
    dtype: Any = jnp.float32,
) -> QueryTiming:
    r"""Time a new $\mu$ on an $n^d$ grid: the surrogate against the reference solve, side by side.

    Every timed call gets a parameter value it has not seen (the compiled functions are
    warmed up once on the mean of `mus`, which is not timed); each time includes moving
    $\mu$ onto the device and waiting for the result. The cached query times only the
    per-$\mu$ work; the one-off cost of the basis on the grid is `QueryTiming.cache_setup`.

    Args:
        field: the surrogate over concatenated points ``(x, mu)``; a `BasisSurrogate` or
            `ResidualProjection` is also timed through its
            cached `GridQuery` (uncached, a `ResidualProjection` builds it per call).
        bounds: the space box, one ``(lo, hi)`` pair per axis.
        mus: the new parameter values, one timed call each (medians are reported).
        solve: ``solve(mu, n)`` running the reference solver (uncached) on the same grid.
        n: nodes per axis.
        dtype: the floating dtype of the surrogate's points.

    Returns:
        A `QueryTiming`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde.nn import BasisSurrogate
        >>> model = BasisSurrogate.init(1, 8, 1, depth=2, rank=3, mu_lo=[0.0], mu_hi=[1.0],
        ...                             key=jax.random.key(0))
        >>> t = time_query(model, [(0.0, 1.0)], [0.2, 0.4], lambda mu, n: None, n=16)
        >>> t.n, t.cached is not None
        (16, True)
    """
    mus = [np.atleast_1d(np.asarray(mu, dtype=float)) for mu in mus]
    if not mus:
        raise ValueError("`mus` must hold at least one parameter value")
    warm = np.mean(mus, axis=0)
    pts = jnp.asarray(grid_points(bounds, n), dtype=dtype)

    @eqx.filter_jit
    def uncached(f, x, mu):
        if isinstance(f, ResidualProjection):  # everything from scratch on this grid
            return f.on_grid(x)(mu)
        return f(jnp.concatenate([x, jnp.broadcast_to(mu, x.shape[:-1] + mu.shape)], axis=-1))

    jax.block_until_ready(uncached(field, pts, jnp.asarray(warm, dtype)))
    t_uncached = _median_seconds(lambda mu: uncached(field, pts, jnp.asarray(mu, dtype)), mus)
    t_cached = t_setup = None
    if isinstance(field, BasisSurrogate | ResidualProjection):
        build = eqx.filter_jit(lambda f, x: f.on_grid(x))
        jax.block_until_ready(build(field, pts))  # compile
        t0 = time.perf_counter()
        query = jax.block_until_ready(build(field, pts))
        t_setup = time.perf_counter() - t0
        answer = eqx.filter_jit(lambda q, mu: q(mu))
        jax.block_until_ready(answer(query, jnp.asarray(warm, dtype)))
        t_cached = _median_seconds(lambda mu: answer(query, jnp.asarray(mu, dtype)), mus)
    t_ref = _median_seconds(lambda mu: solve(tuple(mu), n), mus)
    return QueryTiming(n, t_ref, t_uncached, t_cached, t_setup)


def save_surrogate(
    path: str | os.PathLike,
    field: Any,
    *,
    result: Any = None,
    meta: Mapping[str, Any] | None = None,
    builder: tuple[str | os.PathLike, Mapping[str, Any]] | None = None,
) -> Path:
    """Save a trained surrogate in the `fieldpde.train` checkpoint format (no pickle).

    Args:
        path: the file to write (atomically); parent folders are created.
        field: the trained field (any equinox module).
        result: the `fieldpde.train.FitResult` it came from, for its step count and loss
            history (optional).
        meta: extra JSON-serialisable metadata (e.g. the model kind and training settings).
        builder: ``(script, options)``: the script whose ``field(key, *, dtype, **options)``
            builds this architecture (a family script), so that `load_surrogate` can
            rebuild the skeleton itself and load in one call.

    Returns:
        The path written.

    Example:
        >>> import tempfile, jax
        >>> from fieldpde import SIREN
        >>> net = SIREN.init(3, 8, 1, depth=2, key=jax.random.key(0))
        >>> path = save_surrogate(tempfile.mkdtemp() + "/s.eqx", net, meta={"model": "siren"})
        >>> load_surrogate(path, net)[1]["model"]
        'siren'
    """
    path = Path(path)
    steps = 0 if result is None else int(result.steps)
    history = {} if result is None else dict(result.history)
    meta = dict(meta or {})
    if builder is not None:
        script, options = builder
        leaves = [a for a in jax.tree.leaves(field) if eqx.is_inexact_array(a)]
        meta["builder"] = {
            "script": str(Path(script).resolve()),
            "options": dict(options),
            "dtype": str(leaves[0].dtype) if leaves else "float32",
        }
    save_checkpoint(path, field, step=steps, history=history, meta=meta)
    return path


def _skeleton(meta: Mapping[str, Any], path: Path) -> Any:
    """The untrained field a saved surrogate's builder makes, to load the weights into."""
    from ._problem_file import import_script

    builder = meta.get("builder")
    if not builder:
        raise ValueError(
            f"{path} does not record how to build its architecture (saved without "
            "`builder`): pass `like`, a freshly initialised field of the same architecture"
        )
    module = import_script(builder["script"], needs=("field",))
    dtype = jnp.dtype(builder.get("dtype", "float32"))
    return module.field(jax.random.key(0), dtype=dtype, **builder.get("options", {}))


def load_surrogate(path: str | os.PathLike, like: Any = None) -> tuple[Any, dict[str, Any]]:
    """Load a surrogate written by `save_surrogate`, in one call.

    Args:
        path: the file.
        like: a field of the same architecture (e.g. a freshly initialised one); by
            default the skeleton is rebuilt from the script and options the file records
            (`save_surrogate`'s ``builder``, which the family scripts store).

    Returns:
        ``(field, meta)``; ``meta`` holds ``step`` and whatever was saved with it.

    Raises:
        ValueError: the file is not a checkpoint, holds a different architecture, or
            records no builder and `like` is not given.

    Example:
        >>> import tempfile, jax
        >>> from fieldpde import SIREN
        >>> net = SIREN.init(3, 8, 1, depth=2, key=jax.random.key(0))
        >>> path = save_surrogate(tempfile.mkdtemp() + "/s.eqx", net)
        >>> field, meta = load_surrogate(path, net)
        >>> meta["step"]
        0
    """
    if like is None:
        like = _skeleton(read_checkpoint_meta(path), Path(path))
    field, step, _, meta = load_checkpoint(path, like)
    return field, {**meta, "step": step}


@final
class FamilySettings(eqx.Module):
    """How a parametric-family script trains and checks its surrogate by default.

    Attributes:
        steps, learning_rate, resample_every: the Adam phase (cosine decay).
        lbfgs_steps, lbfgs_points: the L-BFGS phase and its batch (scaled with `points`).
        points: collocation points per step, passed to ``family(points=...)``.
        parameters_per_batch: parameter values per step, the residual taken at every
            pair of point and value (``None``: one value per point); offered as
            ``--pairs`` when the family takes it.
        model: the model kind passed to ``field(model=...)`` (``None``: it takes none).
        coefficients: ``"net"`` (the parameter net) or ``"projection"`` (a
            `fieldpde.surrogate.ResidualProjection`) for a new ``mu``.
        projection_points: collocation points of that projection.
        fd_shape: nodes per axis of the reference solutions.
        query_grid: nodes per axis of the timed query.

    Example:
        >>> FamilySettings(steps=500, points=1024, lbfgs_points=2048).lbfgs_points
        2048
    """

    steps: int = 10000
    learning_rate: float = 2e-3
    resample_every: int = 50
    lbfgs_steps: int = 0
    lbfgs_points: int | None = None
    points: int = 2048
    parameters_per_batch: int | None = None
    model: str | None = None
    coefficients: str = "net"
    projection_points: int = 512
    fd_shape: int = 257
    query_grid: int = 256

    def __check_init__(self):
        positive_int("steps", self.steps, minimum=0)
        positive_float("learning_rate", self.learning_rate)
        positive_int("resample_every", self.resample_every)
        positive_int("lbfgs_steps", self.lbfgs_steps, minimum=0)
        if self.lbfgs_points is not None:
            positive_int("lbfgs_points", self.lbfgs_points)
        positive_int("points", self.points)
        if self.parameters_per_batch is not None:
            positive_int("parameters_per_batch", self.parameters_per_batch)
        if self.coefficients not in ("net", "projection"):
            raise ValueError(
                f"`coefficients` must be 'net' or 'projection', got {self.coefficients!r}"
            )
        positive_int("projection_points", self.projection_points)
        positive_int("fd_shape", self.fd_shape, minimum=3)
        positive_int("query_grid", self.query_grid, minimum=2)


_TEX = {
    r"\in": "∈",
    r"\mu": "μ",
    r"\le": "≤",
    r"\ge": "≥",
    r"\pi": "π",
    r"\Delta": "Δ",
    r"\nabla": "∇",
    r"\cdot": "·",
    r"\times": "×",
    r"\sigma": "σ",
    r"\partial": "∂",
    r"\omega": "ω",
    r"\theta": "θ",
    r"\alpha": "α",
    r"\beta": "β",
    r"\lambda": "λ",
    "^2": "²",
    "^3": "³",
}


def plain_text(text: str) -> str:
    r"""`text` with its ``$...$`` maths made readable on a terminal (for ``--help``).

    Args:
        text: a docstring line with LaTeX maths.

    Returns:
        The line with the dollar signs gone and common commands as Unicode.

    Example:
        >>> plain_text(r"one surrogate for every $k \in [0.5, 2]$ and $c \in [-1, 1]^2$")
        'one surrogate for every k ∈ [0.5, 2] and c ∈ [-1, 1]²'
    """
    out = text
    for tex, uni in _TEX.items():
        out = out.replace(tex + " ", uni + " ").replace(tex, uni)
    return out.replace("$", "").replace("{", "").replace("}", "")


def family_main(
    argv: Sequence[str] | None,
    *,
    name: str,
    description: str,
    family: Callable[..., ParametricProblem],
    field: Callable[..., Any],
    solve: Callable[[Any, int], Any],
    held_out: Sequence[Any],
    query_mus: Sequence[Any],
    settings: FamilySettings,
    models: Sequence[str] = (),
    out: str = "out",
) -> dict[str, Any]:
    """The body of a parametric-family script: train, save, reload, check, time.

    Parses `argv` (``--steps``, ``--lbfgs-steps``, ``--points``, ``--lr``, ``--seed``,
    ``--fd-shape``, ``--query-grid``, ``--out``, ``--coefficients``,
    ``--projection-points``; with `models`, ``--model``; when `family` takes
    ``parameters_per_batch``, ``--pairs``), trains
    ``field(key, dtype=float32[, model=...])`` physics-informed on ``family(points=...)`` by
    `fieldpde.train.fit`, saves it to ``OUT/NAME.eqx`` (``OUT/NAME_MODEL.eqx`` for a model
    other than the default) and reloads it as a later session would, then prints the
    relative L2 error at each held-out $\\mu$ against ``solve(mu, fd_shape)`` and the
    `time_query` table on the query grid. With ``--coefficients projection`` a basis
    model answers through its `ResidualProjection` (coefficients by least squares on the
    PDE residual at ``--projection-points`` Sobol points); the parameter net's errors are
    printed beside it.

    Args:
        argv: command-line arguments (``None``: ``sys.argv[1:]``).
        name: the file stem of the saved surrogate.
        description: the ``--help`` text.
        family: ``family(points=...[, parameters_per_batch=...]) -> ParametricProblem``.
        field: ``field(key, *, dtype[, model])`` building the initial surrogate.
        solve: ``solve(mu, n)``, the reference solution (a `GridSolution`) on ``n`` nodes
            per axis; also what the query is timed against.
        held_out: parameter values never trained on exactly (``mu`` is sampled).
        query_mus: new parameter values for the timing.
        settings: the script's `FamilySettings` (the defaults of its options).
        models: the model kinds ``field`` accepts (empty: it takes no ``model``).
        out: the default output folder.

    Returns:
        ``errors`` (``{mu: error}``, keyed as in `held_out_errors`, of the answer),
        ``errors_net`` (the parameter net's; the same without projection), ``timing``
        (`QueryTiming`), ``t_net`` (uncached surrogate seconds), ``t_cached`` (or
        ``None``), ``t_fd``, ``result`` (the `FitResult`), ``field`` (the reloaded
        surrogate), ``answer`` (what answers a new mu: the surrogate or its
        `ResidualProjection`), ``path`` and ``model``.

    Example:
        >>> family_main  # doctest: +ELLIPSIS
        <function family_main at ...>
    """
    if not isinstance(settings, FamilySettings):
        raise TypeError(f"`settings` must be a FamilySettings, got {type(settings).__name__}")
    s = settings
    parser = argparse.ArgumentParser(
        description=plain_text(description), formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a quick run to check the setup: 300 steps on 256 points, coarse references",
    )
    parser.add_argument("--steps", type=int, default=s.steps, help="Adam steps")
    parser.add_argument("--lbfgs-steps", type=int, default=s.lbfgs_steps, help="L-BFGS steps")
    parser.add_argument("--points", type=int, default=s.points, help="points per step")
    parser.add_argument("--lr", type=float, default=s.learning_rate, help="peak learning rate")
    parser.add_argument("--seed", type=int, default=0, help="initialisation seed")
    parser.add_argument(
        "--fd-shape", type=int, default=s.fd_shape, help="nodes per axis of the references"
    )
    parser.add_argument(
        "--query-grid", type=int, default=s.query_grid, help="side of the timed grid"
    )
    parser.add_argument("--out", default=out, help="folder for the saved surrogate")
    if models:
        parser.add_argument(
            "--model", choices=list(models), default=s.model, help="the surrogate's kind"
        )
    pairs = "parameters_per_batch" in inspect.signature(family).parameters
    if pairs:
        parser.add_argument(
            "--pairs",
            type=int,
            default=s.parameters_per_batch or 0,
            help="parameter values per step, residual at every (point, value) pair "
            "(0: one value per point)",
        )
    parser.add_argument(
        "--coefficients",
        choices=["net", "projection"],
        default=s.coefficients,
        help="basis models: coefficients for a new mu from the parameter net, or by least "
        "squares on the PDE residual (ResidualProjection; linear PDEs)",
    )
    parser.add_argument(
        "--projection-points",
        type=int,
        default=s.projection_points,
        help="collocation points of the residual projection",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.lbfgs_steps, args.points = min(args.steps, 300), 0, 256
        args.fd_shape, args.query_grid = 65, 64
        args.projection_points = min(args.projection_points, 256)

    fam_kwargs = {"parameters_per_batch": args.pairs or None} if pairs else {}
    fam = family(points=args.points, **fam_kwargs)
    model = args.model if models else None
    kwargs = {} if model is None else {"model": model}
    init = field(jax.random.key(args.seed), dtype=jnp.float32, **kwargs)
    lbfgs_points = None
    if s.lbfgs_points is not None:
        lbfgs_points = max(s.lbfgs_points * args.points // s.points, 1)
    result = fit(
        fam.problem,
        init,
        key=jax.random.key(args.seed + 1),
        steps=args.steps,
        learning_rate=args.lr,
        resample_every=s.resample_every,
        lbfgs_steps=args.lbfgs_steps,
        lbfgs_points=lbfgs_points,
        dtype=jnp.float32,
        progress=False,
    )
    label = f" ({model})" if model else ""
    print(f"{name}{label}: {result.status}, {result.steps} steps in {result.wall_time:.1f} s")

    stem = name if model in (None, s.model) else f"{name}_{model}"
    path = Path(args.out) / f"{stem}.eqx"
    meta = {"model": model, "seed": args.seed, "steps": args.steps, "points": args.points}
    if pairs:
        meta["parameters_per_batch"] = args.pairs
    script = Path(inspect.getsourcefile(field) or "")
    builder = (script, kwargs) if script.is_file() else None
    save_surrogate(path, result.field, result=result, meta=meta, builder=builder)
    surrogate, _ = load_surrogate(path, None if builder else init)  # as a later session would

    def errors_of(f):
        return held_out_errors(fam, f, held_out, reference=lambda mu: solve(mu, args.fd_shape))

    errors = errors_net = errors_of(surrogate)
    answer = surrogate
    if args.coefficients == "projection":
        answer = ResidualProjection.for_family(
            fam, surrogate, points=args.projection_points, key=jax.random.key(args.seed + 2)
        )
        errors = errors_of(answer)
    bounds = list(zip(fam.space.lo, fam.space.hi, strict=True))
    timing = time_query(answer, bounds, query_mus, solve, n=args.query_grid)
    projected = answer is not surrogate
    columns = ("(net)", "(projection)") if projected else ("",)
    print(f"{'mu':>18} " + " ".join(f"{'rel. L2 vs FD ' + c:>27}" for c in columns))
    for mu, err in errors.items():
        row = (errors_net[mu], err) if projected else (err,)
        label = ", ".join(f"{v:.3g}" for v in np.atleast_1d(mu))
        print(f"{label:>18} " + " ".join(f"{e:27.3e}" for e in row))
    n = args.query_grid
    print(
        f"new mu on a {n}^2 grid: FD solve {1e3 * timing.reference:.1f} ms; surrogate "
        f"{1e3 * timing.uncached:.2f} ms ({timing.speedup_uncached:.0f}x)"
    )
    if timing.cached is not None:
        print(
            f"  cached grid basis (built once in {1e3 * timing.cache_setup:.1f} ms): "
            f"{1e3 * timing.cached:.3f} ms per new mu ({timing.speedup_cached:.0f}x)"
        )
    print(f"saved {path}")
    return {
        "errors": errors,
        "errors_net": errors_net,
        "timing": timing,
        "t_net": timing.uncached,
        "t_cached": timing.cached,
        "t_fd": timing.reference,
        "result": result,
        "field": surrogate,
        "answer": answer,
        "path": path,
        "model": model,
    }
