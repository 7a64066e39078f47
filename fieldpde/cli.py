"""The ``fieldpde`` command line: ``fieldpde solve [PROBLEM] ...``, ``fieldpde fit DATA.nc``,
``fieldpde predict FIELD``."""

import argparse
import functools
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

DEFAULT_PROBLEM = "helmholtz"


def problem_dirs() -> list[Path]:
    """Where problem files are looked up by name: ./problems, the source tree, the install.

    Returns:
        The folders, in lookup order: ``problems`` under the working directory, beside the
        package (a source checkout), and ``fieldpde/_problems`` (an installed wheel).

    Example:
        >>> [folder.name for folder in problem_dirs()]
        ['problems', 'problems', '_problems']
        >>> any((folder / "helmholtz.py").exists() for folder in problem_dirs())
        True
    """
    here = Path(__file__).resolve().parent
    return [Path.cwd() / "problems", here.parent / "problems", here / "_problems"]


def load_problem_module(spec: str) -> ModuleType:
    """Import a problem file given as a path or as a name in one of `problem_dirs`.

    Args:
        spec: a path to a ``.py`` file, or the name of a problem such as ``"helmholtz"``.

    Returns:
        The imported module. It defines ``DEFAULTS`` (a dict of settings: ``steps``,
        ``points``, ``learning_rate``, ``x64``, ``grid``, ...), ``problem(points)`` (a
        `fieldpde.problem.Problem`) and ``field(key, dtype=None)`` (the untrained field).

    Raises:
        SystemExit: no such problem (the message lists the known ones), or the file lacks
            one of the three names.

    Example:
        >>> module = load_problem_module("poisson_sinsin")
        >>> module.problem(points=64).name, module.DEFAULTS["x64"]
        ('poisson_sinsin', True)
    """
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
            hint = f" (it is a script of its own: python {path})" if hasattr(module, "main") else ""
            raise SystemExit(f"fieldpde: problem file {path} lacks `{attr}`{hint}")
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
        "--starts",
        type=int,
        help="initialisations probed for the problem's probe_steps before the best one "
        "trains on (default: the problem's, else 1)",
    )
    solve.add_argument(
        "--x64",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="float64 (default: the problem's setting)",
    )
    solve.add_argument("--grid", type=int, help="nodes per axis of the output grid")
    solve.add_argument("--out", default="out", help="directory for the .nc and .png files")
    solve.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_fit_parser(sub)
    _add_predict_parser(sub)
    return parser


def _add_fit_parser(sub) -> None:
    fit = sub.add_parser("fit", help="fit a neural field to variables of a netCDF file")
    fit.add_argument("data", help="a netCDF file (anything xarray.open_dataset reads)")
    fit.add_argument(
        "--var", action="append", required=True, help="a variable to fit (repeat for several)"
    )
    fit.add_argument("--out", help="the field file to write (default: DATA with .field)")
    fit.add_argument("--width", type=int, default=128, help="SIREN hidden width")
    fit.add_argument("--depth", type=int, default=4, help="SIREN layers incl. the readout")
    fit.add_argument("--omega", type=float, default=30.0, help="first-layer omega_0")
    fit.add_argument("--hidden-omega", type=float, default=30.0, help="hidden-layer omega")
    fit.add_argument("--steps", type=int, default=2000, help="Adam steps")
    fit.add_argument("--lbfgs-steps", type=int, default=0, help="L-BFGS steps on all cells")
    fit.add_argument("--points", type=int, default=4096, help="cells per step")
    fit.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument(
        "--periodic",
        nargs="*",
        metavar="DIM[=PERIOD]",
        help="periodic dimensions (default: a global longitude); give none to disable",
    )
    fit.add_argument("--ensemble", type=int, help="fit this many members (mean and std)")
    fit.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _add_predict_parser(sub) -> None:
    predict = sub.add_parser("predict", help="evaluate a fitted field onto a grid, to netCDF")
    predict.add_argument("field", help="a field file written by `fieldpde fit`")
    where = predict.add_mutually_exclusive_group()
    where.add_argument("--like", help="a netCDF file whose coordinates give the grid")
    where.add_argument(
        "--grid",
        nargs="+",
        metavar="DIM=SPEC",
        help="new coordinates: DIM=START:STOP:NUM (inclusive; dates allowed) or DIM=xK "
        "(K times the training resolution); other dimensions keep the training grid",
    )
    predict.add_argument("--out", required=True, help="the netCDF file to write")
    predict.add_argument("--chunk", type=int, default=65536, help="points per evaluation")


def solve(args: argparse.Namespace) -> dict:
    """Run ``fieldpde solve`` for parsed arguments; returns the error, timing and results.

    Trains the problem's field with `fieldpde.train.fit` under the problem's ``DEFAULTS``
    (overridden by the command-line options), evaluates it on a grid and writes
    ``OUT/NAME.nc`` and ``OUT/NAME.png``. Sets JAX's float64 flag for the whole process
    (``--x64``/``--no-x64``, else the problem's ``x64`` setting).

    Args:
        args: the parsed ``fieldpde solve`` arguments (see `parse_args`).

    Returns:
        A dict with ``relative_l2`` (None without an exact or reference solution),
        ``status``, ``wall_time``, the paths ``netcdf`` and ``png``, the `FitResult` as
        ``result`` and the problem ``module``.

    Example:
        A problem file: $-u'' = 2$ on $[0, 1]$ with $u(0) = u(1) = 0$, so $u = x(1 - x)$:

        >>> import os, tempfile, textwrap, jax
        >>> tmp = tempfile.mkdtemp()
        >>> with open(os.path.join(tmp, "bar.py"), "w") as f:
        ...     _ = f.write(textwrap.dedent('''
        ...         from fieldpde import SIREN, Problem
        ...         from fieldpde.constraints import HardDirichlet, Residual
        ...         from fieldpde.domains import Interval
        ...         BAR = Interval(0.0, 1.0)
        ...         DEFAULTS = dict(steps=300, points=32, learning_rate=1e-2, grid=11)
        ...         def problem(points):
        ...             pde = Residual(lambda x, d: d.laplacian + 2.0, BAR, num_points=points)
        ...             return Problem([pde], exact=lambda x: x[0] * (1 - x[0]), name="bar")
        ...         def field(key, dtype=None):
        ...             net = SIREN.init(1, 16, 1, depth=2, key=key, first_omega=2.0, dtype=dtype)
        ...             return HardDirichlet.on(BAR, net, boundary=0.0)
        ...     '''))
        >>> x64 = "--x64" if jax.config.jax_enable_x64 else "--no-x64"  # keep the flag as is
        >>> out = solve(parse_args(["solve", os.path.join(tmp, "bar.py"), "--out", tmp,
        ...     "--no-progress", x64]))
        fieldpde solve bar: 300 Adam steps + 0 L-BFGS steps, 32 points/step, float...
        status: completed (300 Adam steps)
        final loss ...
        wrote ...bar.nc and ...bar.png
        >>> out["status"], out["relative_l2"] < 0.05
        ('completed', True)
    """
    module = load_problem_module(args.problem)
    settings = dict(module.DEFAULTS)
    for name, value in (
        ("steps", args.steps),
        ("lbfgs_steps", args.lbfgs_steps),
        ("points", args.points),
        ("learning_rate", args.lr),
        ("x64", args.x64),
        ("grid", args.grid),
        ("starts", args.starts),
    ):
        if value is not None:
            settings[name] = value
    import jax

    jax.config.update("jax_enable_x64", bool(settings.get("x64", False)))
    import jax.numpy as jnp

    from ._checks import positive_int
    from .io import evaluate_on_grid
    from .train import fit, fit_best_of

    dtype = jnp.float64 if settings.get("x64") else jnp.float32
    problem = module.problem(points=settings["points"])
    starts = positive_int("--starts", settings.get("starts", 1))
    probe_steps = settings.get("probe_steps", 300)
    seed_key = jax.random.key(args.seed)  # start 0 is the single-start field
    keys = [seed_key] + [jax.random.fold_in(seed_key, i) for i in range(1, starts)]
    fields = [module.field(k, dtype=dtype) for k in keys]
    best_of = f", best of {starts} starts after {probe_steps} steps" if starts > 1 else ""
    print(
        f"fieldpde solve {problem.name}: {settings['steps']} Adam steps + "
        f"{settings.get('lbfgs_steps', 0)} L-BFGS steps, {settings['points']} points/step, "
        f"{'float64' if settings.get('x64') else 'float32'}{best_of}",
        flush=True,
    )
    lbfgs_points = settings.get("lbfgs_points")
    if lbfgs_points is not None and args.points is not None:
        lbfgs_points = max(lbfgs_points * args.points // module.DEFAULTS["points"], 1)
    run = fit
    if starts > 1:
        run = functools.partial(fit_best_of, probe_steps=probe_steps)
    result = run(
        problem,
        fields if starts > 1 else fields[0],
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


def fit_data(args: argparse.Namespace) -> dict:
    """Run ``fieldpde fit`` for parsed arguments; returns the field and its training error.

    Fits the ``--var`` variables of a netCDF file with `fieldpde.io.fit_xarray` and saves
    the field (``DATA.field`` unless ``--out`` is given). JAX's global flags are left alone.

    Args:
        args: the parsed ``fieldpde fit`` arguments (see `parse_args`).

    Returns:
        A dict with the `fieldpde.io.FittedField` as ``field``, the path ``out`` of the
        field file and ``rmse``, variable -> RMSE at the data cells.

    Example:
        >>> import os, tempfile, numpy as np, xarray as xr
        >>> data = os.path.join(tempfile.mkdtemp(), "h.nc")
        >>> x = np.linspace(0.0, 1.0, 20)
        >>> xr.Dataset({"h": ("x", np.sin(3 * x))}, coords={"x": x}).to_netcdf(data)
        >>> out = fit_data(parse_args(["fit", data, "--var", "h", "--width", "16", "--depth",
        ...     "3", "--omega", "5", "--steps", "200", "--no-progress"]))
        fitted h over x (linear): 20 cells
          h: RMSE at the data cells ...
        wrote ...h.field
        >>> out["rmse"]["h"] < 0.05, os.path.exists(out["out"])
        (True, True)
    """
    import numpy as np
    import xarray as xr

    from .io import fit_xarray

    path = Path(args.data)
    if not path.exists():
        raise SystemExit(f"fieldpde: no data file {str(path)!r}")
    with xr.open_dataset(path) as ds:
        missing = [v for v in args.var if v not in ds.data_vars]
        if missing:
            raise SystemExit(
                f"fieldpde: {path} has no variable(s) {missing}; it has {list(ds.data_vars)}"
            )
        obj = ds[args.var[0]] if len(args.var) == 1 else ds[args.var]
        obj = obj.load()
    periodic: object = "auto"
    if args.periodic is not None:
        periodic = {}
        for item in args.periodic:
            name, _, period = item.partition("=")
            periodic[name] = float(period) if period else 360.0
    field = fit_xarray(
        obj,
        width=args.width,
        depth=args.depth,
        omega=args.omega,
        hidden_omega=args.hidden_omega,
        steps=args.steps,
        lbfgs_steps=args.lbfgs_steps,
        points=args.points,
        learning_rate=args.lr,
        seed=args.seed,
        periodic=periodic,
        ensemble_size=args.ensemble,
        progress=False if args.no_progress else None,
    )
    out = Path(args.out) if args.out else path.with_suffix(".field")
    field.save(out)
    fitted = field.predict()
    rmse = {}
    for name in args.var:
        data = np.asarray(obj[name] if len(args.var) > 1 else obj, dtype=float)
        pred = np.asarray(fitted[name] if isinstance(fitted, xr.Dataset) else fitted, dtype=float)
        rmse[name] = float(np.sqrt(np.nanmean((pred - data) ** 2)))
    axes = ", ".join(f"{a.name} ({a.kind})" for a in field.source.axes)
    print(f"fitted {', '.join(args.var)} over {axes}: {field.source.training['cells']} cells")
    for name, value in rmse.items():
        print(f"  {name}: RMSE at the data cells {value:.4g}")
    print(f"wrote {out}")
    return {"field": field, "out": str(out), "rmse": rmse}


def predict_data(args: argparse.Namespace) -> dict:
    """Run ``fieldpde predict`` for parsed arguments; returns the xarray object written.

    Evaluates a saved field on the coordinates of ``--like`` or on ``--grid`` coordinates
    (the training grid otherwise) and writes a netCDF file.

    Args:
        args: the parsed ``fieldpde predict`` arguments (see `parse_args`).

    Returns:
        A dict with the prediction (a DataArray or Dataset) as ``out`` and its ``path``.

    Example:
        >>> import os, tempfile, numpy as np, xarray as xr
        >>> from fieldpde.io import fit_xarray
        >>> tmp = tempfile.mkdtemp()
        >>> da = xr.DataArray(np.arange(6.0), coords={"x": np.arange(6.0)}, dims="x", name="h")
        >>> fit_xarray(da, width=8, depth=2, steps=5, progress=False).save(f"{tmp}/h.field")
        >>> out = predict_data(parse_args(["predict", f"{tmp}/h.field", "--grid", "x=0:5:11",
        ...     "--out", f"{tmp}/fine.nc"]))
        wrote ...fine.nc (x: 11)
        >>> out["out"].sizes["x"], out["out"].x.values[:3].tolist()
        (11, [0.0, 0.5, 1.0])
    """
    import xarray as xr

    from .io import load_field

    try:
        field = load_field(args.field)
    except (FileNotFoundError, ValueError) as err:
        raise SystemExit(f"fieldpde: {err}") from err
    like, coords = None, {}
    if args.like:
        if not Path(args.like).exists():
            raise SystemExit(f"fieldpde: no file {args.like!r} for --like")
        with xr.open_dataset(args.like) as ds:
            like = ds.coords.to_dataset().load()
    for spec in args.grid or []:
        name, value = _grid_spec(field, spec)
        coords[name] = value
    try:
        out = field.predict(like, chunk=args.chunk, **coords)
    except (TypeError, ValueError) as err:
        raise SystemExit(f"fieldpde: {err}") from err
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds = out if isinstance(out, xr.Dataset) else out.to_dataset(name=out.name or "field")
    _atomic_netcdf(ds, path)
    sizes = ", ".join(f"{d}: {n}" for d, n in ds.sizes.items())
    print(f"wrote {path} ({sizes})")
    return {"out": out, "path": str(path)}


def _grid_spec(field, spec: str):
    """``DIM=START:STOP:NUM`` or ``DIM=xK`` as (DIM, coordinate values)."""
    import numpy as np

    from .io import refine

    name, sep, value = spec.partition("=")
    if not sep or name not in field.dims:
        raise SystemExit(
            f"fieldpde: --grid {spec!r}: expected DIM=START:STOP:NUM or DIM=xK with DIM one "
            f"of {field.dims}"
        )
    axis = field.source.axes[field.dims.index(name)]
    try:
        if value.startswith("x"):
            if name not in field.source.coords:
                raise ValueError("the dimension has no training coordinate to refine")
            return name, refine(field.source.coords[name].values, int(value[1:]))
        start, stop, num = value.split(":")
        num = int(num)
        if axis.kind == "time":
            t0 = np.datetime64(start, "ns").astype(np.int64)
            t1 = np.datetime64(stop, "ns").astype(np.int64)
            ns = np.rint(np.linspace(float(0), float(t1 - t0), num)).astype(np.int64) + t0
            return name, ns.astype("datetime64[ns]")
        return name, np.linspace(float(start), float(stop), num)
    except ValueError as err:
        raise SystemExit(f"fieldpde: --grid {spec!r}: {err}") from err


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
    """Parse ``fieldpde`` command-line arguments.

    Args:
        argv: the arguments after the program name (default: ``sys.argv[1:]``).

    Returns:
        The `argparse.Namespace`; ``command`` is ``"solve"``, ``"fit"`` or ``"predict"``.

    Example:
        >>> args = parse_args(["solve", "helmholtz", "--steps", "100", "--no-x64"])
        >>> args.command, args.problem, args.steps, args.x64, args.out
        ('solve', 'helmholtz', 100, False, 'out')
    """
    return _parser().parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """The ``fieldpde`` command: ``solve``, ``fit`` or ``predict``, then the time taken.

    Args:
        argv: the arguments after the program name (default: ``sys.argv[1:]``).

    Returns:
        The exit status, 0; errors exit through `SystemExit` with a message.

    Example:
        >>> import os, tempfile, numpy as np, xarray as xr
        >>> data = os.path.join(tempfile.mkdtemp(), "h.nc")
        >>> xr.Dataset({"h": ("x", np.arange(5.0))}, coords={"x": np.arange(5.0)}).to_netcdf(data)
        >>> main(["fit", data, "--var", "h", "--width", "8", "--depth", "2", "--steps", "5",
        ...     "--no-progress"])
        fitted h over x (linear): 5 cells
          h: RMSE at the data cells ...
        wrote ...h.field
        0
        >>> main(["solve", "no_such_problem"])
        Traceback (most recent call last):
        SystemExit: fieldpde: no problem 'no_such_problem'; known problems: ...
    """
    args = parse_args(argv)
    t0 = time.perf_counter()
    if args.command == "solve":
        solve(args)
    elif args.command == "fit":
        fit_data(args)
    elif args.command == "predict":
        predict_data(args)
    print(f"done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
