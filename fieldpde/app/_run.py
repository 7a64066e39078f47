r"""`run`: the main job of ``fieldpde solve``, for the command line, benchmarks and Python.

It loads a problem file, resolves its settings with the default recipe (`choose`: what the
file and the caller leave unset is chosen from the problem), trains the field, evaluates
it on a grid against the exact or reference solution (and at a scattered reference's own
nodes), and writes ``OUT/NAME.nc``, ``OUT/NAME.png`` and the trained field
``OUT/NAME.eqx`` (`load_solution` reads it back in one call). float64, when the settings
ask for it, is switched on for the run only (`jax.enable_x64`), not for the rest of the
process.
"""

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, final

import jax

from ..reference import NodeTable
from ..train import FitResult, fit, fit_best_of
from ._output import solve_figure, write_netcdf
from ._problem_file import ProblemFile, load_problem_file
from ._recipe import Plan, choose, chosen_x64
from ._saved import save_solution
from ._settings import Settings


@final
@dataclass(frozen=True)
class RunResult:
    """What `run` returns.

    Attributes:
        name: the problem's name.
        relative_l2: the relative L2 error: at the reference's nodes for a scattered
            reference (`fieldpde.reference.NodeTable`), else on the output grid (``None``
            without an exact or reference solution).
        status: the training status (``"completed"``, ``"nan"``, ``"diverged"``, ...).
        settings: the resolved `Settings` the run used.
        result: the `fieldpde.train.FitResult`.
        dataset: the grid Dataset written to `netcdf`.
        netcdf, png, saved: the files written (``None`` when nothing was written).
        wall_time: seconds for the whole run.
        plan: the default recipe's `Plan` (what it chose).

    Example:
        `run` builds it (see its example); ``ok`` is the training's:

        >>> r = run("poisson_sinsin", steps=5, lbfgs_steps=0, points=32, grid=5, out=None,
        ...         progress=False, verbose=False)
        >>> r.ok, r.name, r.netcdf is None
        (True, 'poisson_sinsin', True)
    """

    name: str
    relative_l2: float | None
    status: str
    settings: Settings
    result: FitResult
    dataset: Any
    netcdf: Path | None
    png: Path | None
    wall_time: float
    plan: Plan | None = None
    saved: Path | None = None

    @property
    def ok(self) -> bool:
        return self.result.ok


def run(
    problem: str | Path | ProblemFile = "helmholtz",
    *,
    settings: Settings | None = None,
    seed: int = 0,
    out: str | Path | None = "out",
    progress: Any = None,
    verbose: bool = True,
    **overrides: Any,
) -> RunResult:
    """Train a problem file's field and report its error, as ``fieldpde solve`` does.

    Args:
        problem: a problem name (``"helmholtz"``), a path, or a loaded `ProblemFile`.
        settings: settings to use instead of the file's own (``Settings()``: everything
            by the default recipe).
        seed: start ``i`` is initialised with ``fold_in(key(seed), i)`` (start 0 with
            ``key(seed)``); the points are drawn with ``key(seed + 1)``.
        out: the folder for ``NAME.nc``, ``NAME.png`` and ``NAME.eqx`` (``None``: write
            nothing).
        progress: as for `fieldpde.train.fit`.
        verbose: print what is done (the settings and choices, the status, the error).
        **overrides: single settings to change (``steps=100``, ``x64=True``,
            ``width=32``, ...; see `Settings`).

    Returns:
        A `RunResult`.

    Example:
        >>> r = run("poisson_sinsin", steps=20, lbfgs_steps=0, points=64, grid=11, out=None,
        ...         progress=False, verbose=False)
        >>> r.status, r.dataset.sizes["x"], r.settings.x64
        ('completed', 11, True)
    """
    t0 = time.perf_counter()
    pf = problem if isinstance(problem, ProblemFile) else load_problem_file(problem)
    settings = (pf.settings if settings is None else settings).replace(**overrides)
    with jax.enable_x64(chosen_x64(settings)):
        plan = choose(pf, settings)
        return _run(pf, plan, seed, out, progress, verbose, t0)


def _describe(plan: Plan) -> str:
    s = plan.settings
    if s.phases is None:
        training = f"{s.steps} Adam steps + {s.lbfgs_steps} L-BFGS steps"
    else:
        training = " -> ".join(f"{type(p).__name__} {p.steps}" for p in s.phases)
    best_of = f", best of {s.starts} starts after {s.probe_steps} steps" if s.starts > 1 else ""
    return (
        f"fieldpde solve {plan.problem.name}: {training}, {s.points} points/step, "
        f"{'float64' if s.x64 else 'float32'}{best_of}"
    )


def _run(pf: ProblemFile, plan: Plan, seed, out, progress, verbose, t0) -> RunResult:
    import jax.numpy as jnp

    from ..io import evaluate_on_grid

    settings = plan.settings
    dtype = jnp.float64 if settings.x64 else jnp.float32
    seed_key = jax.random.key(seed)  # start 0 is the single-start field
    keys = [seed_key] + [jax.random.fold_in(seed_key, i) for i in range(1, settings.starts)]
    fields = [plan.build(k, dtype) for k in keys]
    training = settings.training()
    if verbose:
        print(_describe(plan), flush=True)
        for name, text in plan.choices.items():
            print(f"  chosen {name}: {text}", flush=True)
    common = dict(
        key=jax.random.key(seed + 1),
        progress=progress,
        causal=settings.causal,
        adaptive=settings.adaptive,
        balancing=settings.balancing,
    )
    if settings.starts > 1:
        result = fit_best_of(
            plan.train_problem, fields, probe_steps=settings.probe_steps, **common, **training
        )
    else:
        result = fit(plan.train_problem, fields[0], **common, **training)
    problem = plan.problem
    assert settings.grid is not None  # the recipe resolves it
    ds = evaluate_on_grid(problem, result.field, shape=settings.grid)
    nodes = None
    if isinstance(problem.reference, NodeTable) and problem.exact is None:
        nodes = problem.reference.relative_l2(result.field)
        ds.attrs["relative_l2_nodes"] = nodes
        ds.attrs["reference_nodes"] = int(problem.reference.points.shape[0])
    ds.attrs.update(
        status=result.status,
        steps=result.steps,
        wall_time_s=result.wall_time,
        final_loss=result.final_loss,
        seed=seed,
        hard_constraints=", ".join(plan.hard),
        **settings.as_attrs(),
        **{f"recipe_{k}": v for k, v in plan.choices.items()},
    )
    nc_path = png_path = saved = None
    if out is not None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        saved = save_solution(folder / f"{problem.name}.eqx", result, plan, pf, seed=seed)
        ds.attrs["saved_field"] = saved.name
        nc_path = write_netcdf(ds, folder / f"{problem.name}.nc")
        png_path = solve_figure(ds, folder / f"{problem.name}.png")
    grid_rel = ds.attrs.get("relative_l2")
    rel = nodes if nodes is not None else grid_rel
    if verbose:
        print(f"status: {result.status} ({result.message})")
        print(
            f"final loss {result.final_loss:.3e}; {result.steps} steps in {result.wall_time:.1f} s"
        )
        if nodes is not None:
            print(
                f"relative L2 error at the {ds.attrs['reference_nodes']} reference nodes: "
                f"{nodes:.3e} (on the output grid, against their interpolant: {grid_rel:.3e})"
            )
        elif grid_rel is not None:
            kind = "exact" if problem.exact else "reference"
            print(f"relative L2 error vs {kind} solution: {grid_rel:.3e}")
        if nc_path is not None:
            print(f"wrote {nc_path}, {png_path} and {saved}")
    return RunResult(
        name=problem.name,
        relative_l2=None if rel is None else float(rel),
        status=result.status,
        settings=settings,
        result=result,
        dataset=ds,
        netcdf=nc_path,
        png=png_path,
        wall_time=time.perf_counter() - t0,
        plan=plan,
        saved=saved,
    )
