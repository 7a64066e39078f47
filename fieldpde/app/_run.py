r"""`run`: the main job of ``fieldpde solve``, for the command line, benchmarks and Python.

It loads a problem file, trains its field under the file's settings (overridden by the
caller's), evaluates the trained field on a grid against the exact or reference solution,
and writes ``OUT/NAME.nc`` and ``OUT/NAME.png``. float64, when the settings ask for it, is
switched on for the run only (`jax.enable_x64`), not for the rest of the process.
"""

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, final

import jax

from ..train import FitResult, fit, fit_best_of
from ._output import solve_figure, write_netcdf
from ._problem_file import ProblemFile, load_problem_file
from ._settings import Settings


@final
@dataclass(frozen=True)
class RunResult:
    """What `run` returns.

    Attributes:
        name: the problem's name.
        relative_l2: the relative L2 error on the output grid (``None`` without an exact
            or reference solution).
        status: the training status (``"completed"``, ``"nan"``, ``"diverged"``, ...).
        settings: the `Settings` the run used.
        result: the `fieldpde.train.FitResult`.
        dataset: the grid Dataset written to `netcdf`.
        netcdf, png: the files written (``None`` when nothing was written).
        wall_time: seconds for the whole run.

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
        settings: settings to use instead of the file's own.
        seed: start ``i`` is initialised with ``fold_in(key(seed), i)`` (start 0 with
            ``key(seed)``); the points are drawn with ``key(seed + 1)``.
        out: the folder for ``NAME.nc`` and ``NAME.png`` (``None``: write nothing).
        progress: as for `fieldpde.train.fit`.
        verbose: print what is done (the settings, the status, the error).
        **overrides: single settings to change (``steps=100``, ``x64=True``, ...; see
            `Settings`).

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
    with jax.enable_x64(settings.x64):
        return _run(pf, settings, seed, out, progress, verbose, t0)


def _run(pf, settings, seed, out, progress, verbose, t0) -> RunResult:
    import jax.numpy as jnp

    from ..io import evaluate_on_grid

    dtype = jnp.float64 if settings.x64 else jnp.float32
    problem = pf.problem(points=settings.points, **settings.problem)
    seed_key = jax.random.key(seed)  # start 0 is the single-start field
    keys = [seed_key] + [jax.random.fold_in(seed_key, i) for i in range(1, settings.starts)]
    fields = [pf.field(k, dtype=dtype, **settings.field) for k in keys]
    training = settings.training()
    if verbose:
        best_of = (
            f", best of {settings.starts} starts after {settings.probe_steps} steps"
            if settings.starts > 1
            else ""
        )
        if settings.phases is None:
            plan = f"{settings.steps} Adam steps + {settings.lbfgs_steps} L-BFGS steps"
        else:
            plan = " -> ".join(f"{type(p).__name__} {p.steps}" for p in settings.phases)
        print(
            f"fieldpde solve {problem.name}: {plan}, {settings.points} points/step, "
            f"{'float64' if settings.x64 else 'float32'}{best_of}",
            flush=True,
        )
    common = dict(key=jax.random.key(seed + 1), progress=progress, causal=settings.causal)
    if settings.starts > 1:
        result = fit_best_of(
            problem, fields, probe_steps=settings.probe_steps, **common, **training
        )
    else:
        result = fit(problem, fields[0], **common, **training)
    ds = evaluate_on_grid(problem, result.field, shape=settings.grid)
    ds.attrs.update(
        status=result.status,
        steps=result.steps,
        wall_time_s=result.wall_time,
        final_loss=result.final_loss,
        seed=seed,
        **settings.as_attrs(),
    )
    nc_path = png_path = None
    if out is not None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        nc_path = write_netcdf(ds, folder / f"{problem.name}.nc")
        png_path = solve_figure(ds, folder / f"{problem.name}.png")
    rel = ds.attrs.get("relative_l2")
    if verbose:
        print(f"status: {result.status} ({result.message})")
        print(
            f"final loss {result.final_loss:.3e}; {result.steps} steps in {result.wall_time:.1f} s"
        )
        if rel is not None:
            kind = "exact" if problem.exact else "reference"
            print(f"relative L2 error vs {kind} solution: {rel:.3e}")
        if nc_path is not None:
            print(f"wrote {nc_path} and {png_path}")
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
    )
