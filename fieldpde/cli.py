"""The ``fieldpde`` command line: ``fieldpde solve [PROBLEM] ...``."""

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

DEFAULT_PROBLEM = "helmholtz"


def problem_dirs() -> list[Path]:
    """Where problem files are looked up by name: ./problems, the source tree, the install."""
    here = Path(__file__).resolve().parent
    return [Path.cwd() / "problems", here.parent / "problems", here / "_problems"]


def load_problem_module(spec: str) -> ModuleType:
    """Import a problem file given as a path or as a name in one of `problem_dirs`."""
    path = Path(spec)
    if not (path.suffix == ".py" and path.exists()):
        candidates = [d / f"{spec.removesuffix('.py')}.py" for d in problem_dirs()]
        found = next((c for c in candidates if c.exists()), None)
        if found is None:
            names = sorted(
                {
                    p.stem
                    for d in problem_dirs()
                    if d.is_dir()
                    for p in d.glob("*.py")
                    if not p.stem.startswith("_")
                }
            )
            raise SystemExit(f"fieldpde: no problem {spec!r}; known problems: {', '.join(names)}")
        path = found
    module_spec = importlib.util.spec_from_file_location(f"fieldpde_problem_{path.stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    for attr in ("DEFAULTS", "problem", "field"):
        if not hasattr(module, attr):
            raise SystemExit(f"fieldpde: problem file {path} lacks `{attr}`")
    return module


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fieldpde", description="Physics-informed neural fields.")
    sub = parser.add_subparsers(dest="command", required=True)
    solve = sub.add_parser("solve", help="train a field on a problem and report its error")
    solve.add_argument(
        "problem",
        nargs="?",
        default=DEFAULT_PROBLEM,
        help="a problem file or a name in problems/ (default: helmholtz)",
    )
    solve.add_argument("--steps", type=int, help="Adam steps (default: the problem's)")
    solve.add_argument("--lbfgs-steps", type=int, help="L-BFGS steps after Adam")
    solve.add_argument("--points", type=int, help="collocation points per step")
    solve.add_argument("--lr", type=float, help="peak learning rate")
    solve.add_argument("--seed", type=int, default=0)
    solve.add_argument(
        "--x64",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="float64 (default: the problem's setting)",
    )
    solve.add_argument("--grid", type=int, help="nodes per axis of the output grid")
    solve.add_argument("--out", default="out", help="directory for the .nc and .png files")
    solve.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def solve(args: argparse.Namespace) -> dict:
    """Run ``fieldpde solve`` for parsed arguments; returns the error, timing and results."""
    module = load_problem_module(args.problem)
    settings = dict(module.DEFAULTS)
    for name, value in (
        ("steps", args.steps),
        ("lbfgs_steps", args.lbfgs_steps),
        ("points", args.points),
        ("learning_rate", args.lr),
        ("x64", args.x64),
        ("grid", args.grid),
    ):
        if value is not None:
            settings[name] = value
    import jax

    jax.config.update("jax_enable_x64", bool(settings.get("x64", False)))
    import jax.numpy as jnp

    from .io import evaluate_on_grid
    from .train import fit

    dtype = jnp.float64 if settings.get("x64") else jnp.float32
    problem = module.problem(points=settings["points"])
    field = module.field(jax.random.key(args.seed), dtype=dtype)
    print(
        f"fieldpde solve {problem.name}: {settings['steps']} Adam steps + "
        f"{settings.get('lbfgs_steps', 0)} L-BFGS steps, {settings['points']} points/step, "
        f"{'float64' if settings.get('x64') else 'float32'}",
        flush=True,
    )
    lbfgs_points = settings.get("lbfgs_points")
    if lbfgs_points is not None and args.points is not None:
        lbfgs_points = max(lbfgs_points * args.points // module.DEFAULTS["points"], 1)
    result = fit(
        problem,
        field,
        key=jax.random.key(args.seed + 1),
        steps=settings["steps"],
        learning_rate=settings.get("learning_rate", 1e-3),
        resample_every=settings.get("resample_every", 100),
        lbfgs_steps=settings.get("lbfgs_steps", 0),
        lbfgs_points=lbfgs_points,
        progress=False if args.no_progress else None,
        causal=_causal(settings.get("causal")),
    )
    ds = evaluate_on_grid(problem, result.field, shape=settings.get("grid", 101))
    ds.attrs.update(
        status=result.status,
        steps=result.steps,
        wall_time_s=result.wall_time,
        final_loss=result.final_loss,
        seed=args.seed,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    nc_path = out / f"{problem.name}.nc"
    _atomic_netcdf(ds, nc_path)
    png_path = out / f"{problem.name}.png"
    _figure(ds, png_path)
    rel = ds.attrs.get("relative_l2")
    print(f"status: {result.status} ({result.message})")
    print(f"final loss {result.final_loss:.3e}; {result.steps} steps in {result.wall_time:.1f} s")
    if rel is not None:
        print(
            f"relative L2 error vs {'exact' if problem.exact else 'reference'} solution: {rel:.3e}"
        )
    print(f"wrote {nc_path} and {png_path}")
    return {
        "relative_l2": rel,
        "status": result.status,
        "wall_time": result.wall_time,
        "netcdf": str(nc_path),
        "png": str(png_path),
        "result": result,
        "module": module,
    }


def _causal(setting):
    """A problem's ``DEFAULTS["causal"]`` (None or keyword arguments of `Causal`) for `fit`."""
    if setting is None:
        return None
    from .train import Causal

    return Causal(**setting)


def _atomic_netcdf(ds, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        ds.to_netcdf(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _figure(ds, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in ("u", "reference", "error") if n in ds]
    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 4.2), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        da = ds[name]
        if da.ndim == 2:
            da.plot(ax=ax, cmap="magma" if name == "error" else "RdBu_r")
        else:
            da.plot(ax=ax)
        ax.set_title(name)
    title = ds.attrs.get("problem", "")
    if "relative_l2" in ds.attrs:
        title += f"   relative L2 = {ds.attrs['relative_l2']:.2e}"
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse ``fieldpde`` command-line arguments."""
    return _parser().parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t0 = time.perf_counter()
    if args.command == "solve":
        solve(args)
    print(f"done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
