"""The ``fieldpde`` command line: ``solve``, ``fit`` and ``predict``; argument parsing only.

The work is done by `fieldpde.app` (`run`, `fit_netcdf`, `predict_netcdf`), imported only
once the arguments are parsed, so ``fieldpde --help``, ``--version`` and argument errors
answer without loading JAX.

Exit codes (for pipelines and batch schedulers):

- 0: done;
- 1: bad input (a missing file, a bad argument or setting): a one-line ``fieldpde: ...``
  message on stderr, before any training;
- 2: a usage error (unknown option, missing argument), from argparse;
- 3: training failed: the loss became non-finite or diverged (the outputs are still
  written, from the last good parameters, so the run can be inspected).

Set ``FIELDPDE_DEBUG=1`` to get the full traceback instead of the one-line message.
"""

import argparse
import os
import sys
import time

DEFAULT_PROBLEM = "helmholtz"
EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE, EXIT_TRAINING_FAILED = 0, 1, 2, 3
VERSION = "0.1.0"


def _number(kind: type, minimum: float, *, strict: bool = False):
    """An argparse type: `kind` (int or float) of at least `minimum` (above it if `strict`)."""
    noun = "an integer" if kind is int else "a number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        if not (value > minimum if strict else value >= minimum) or value == float("inf"):
            bound = f"> {minimum}" if strict else f">= {minimum}"
            what = "a finite number " if kind is float else ""
            raise argparse.ArgumentTypeError(f"must be {what}{bound}, got {text}")
        return value

    return parse


_positive_int = _number(int, 1)
_count = _number(int, 0)
_positive_float = _number(float, 0, strict=True)


def _omega(text: str) -> float | tuple[float, ...]:
    values = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a number or one per axis (e.g. 3,12), got {text!r}"
            ) from None
        if not value > 0 or value == float("inf"):
            raise argparse.ArgumentTypeError(f"frequencies must be finite and > 0, got {text}")
        values.append(value)
    return values[0] if len(values) == 1 else tuple(values)


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a probability in (0, 1), got {text!r}")
    return value


def _periodic(text: str) -> tuple[str, float]:
    name, _, period = text.partition("=")
    if not name:
        raise argparse.ArgumentTypeError(f"expected DIM or DIM=PERIOD, got {text!r}")
    if not period:
        return name, 360.0
    try:
        value = float(period)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected DIM=PERIOD with a number, got {text!r}"
        ) from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"the period must be > 0, got {text!r}")
    return name, value


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``fieldpde: argument --points: must be >= 1, got 0``."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"fieldpde: {message} (see {self.prog} --help)\n")


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default unless it has none or its help already says it."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default is None or action.default is False or "default" in text:
            return text
        return super()._get_help_string(action)


def _problem_names() -> str:
    """The problem names for ``solve --help``, read without importing the package's JAX."""
    from pathlib import Path

    here = Path(__file__).resolve().parent
    names = set()
    for folder in (Path.cwd() / "problems", here.parent / "problems", here / "_problems"):
        if folder.is_dir():
            for path in folder.glob("*.py"):
                text = path.read_text(encoding="utf-8", errors="replace")
                if "\ndef problem(" in text:
                    names.add(path.stem)
    return ", ".join(sorted(names))


def _parser() -> argparse.ArgumentParser:
    formatter = _Help
    parser = _Parser(
        prog="fieldpde",
        description="Physics-informed neural fields.",
        epilog="exit codes: 0 done, 1 bad input, 2 usage error, 3 training failed",
    )
    parser.add_argument("--version", action="version", version=f"fieldpde {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    solve = sub.add_parser(
        "solve",
        help="train a field on a problem and report its error",
        formatter_class=formatter,
        epilog=f"known problems: {_problem_names()}",
    )
    solve.add_argument(
        "problem", nargs="?", default=DEFAULT_PROBLEM, help="a problem file or a name"
    )
    solve.add_argument("--steps", type=_count, help="Adam steps (default: the problem's)")
    solve.add_argument(
        "--lbfgs-steps",
        type=_count,
        help="steps of the phase after Adam (L-BFGS, or the problem's SSBroyden, ...)",
    )
    solve.add_argument("--points", type=_positive_int, help="collocation points per step")
    solve.add_argument("--lr", type=_positive_float, help="peak learning rate")
    solve.add_argument("--seed", type=int, default=0)
    solve.add_argument(
        "--starts",
        type=_positive_int,
        help="initialisations probed for the problem's probe_steps before the best one "
        "trains on (default: the problem's, else 1)",
    )
    solve.add_argument(
        "--x64",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="float64 (default: the problem's setting)",
    )
    solve.add_argument("--grid", type=_positive_int, help="nodes per axis of the output grid")
    solve.add_argument(
        "--network",
        choices=("siren", "tanh", "sin", "gelu", "silu", "softplus"),
        help="the default field's network (default: chosen from the problem)",
    )
    solve.add_argument("--width", type=_positive_int, help="the field's hidden width")
    solve.add_argument(
        "--depth", type=_positive_int, help="the field's layers, the linear readout included"
    )
    solve.add_argument(
        "--omega",
        type=_omega,
        help="first-layer frequency: one number, or one per axis as 3,12 (time included; "
        "default: from the spectrum of the problem's data)",
    )
    solve.add_argument(
        "--hard",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="hold Dirichlet and initial data exactly (default: wherever the domain allows)",
    )
    solve.add_argument(
        "--adaptive",
        action="store_true",
        help="draw PDE points where the residual is large (RAR-D adaptive sampling)",
    )
    solve.add_argument(
        "--out", default="out", help="directory for the .nc, .png and trained .eqx files"
    )
    solve.add_argument("--no-progress", action="store_true", help="hide the progress output")
    _add_fit_parser(sub, formatter)
    _add_predict_parser(sub, formatter)
    return parser


def _add_fit_parser(sub, formatter) -> None:
    fit = sub.add_parser(
        "fit", help="fit a neural field to variables of a netCDF file", formatter_class=formatter
    )
    fit.add_argument("data", help="a netCDF file (anything xarray.open_dataset reads)")
    fit.add_argument(
        "--var", action="append", required=True, help="a variable to fit (repeat for several)"
    )
    fit.add_argument("--out", help="the field file to write (default: DATA with .field)")
    fit.add_argument("--width", type=_positive_int, default=128, help="SIREN hidden width")
    fit.add_argument(
        "--depth", type=_positive_int, default=4, help="SIREN layers incl. the readout"
    )
    fit.add_argument("--omega", type=_positive_float, default=30.0, help="first-layer omega_0")
    fit.add_argument(
        "--hidden-omega", type=_positive_float, default=30.0, help="hidden-layer omega"
    )
    fit.add_argument("--steps", type=_count, default=2000, help="Adam steps")
    fit.add_argument("--lbfgs-steps", type=_count, default=0, help="L-BFGS steps on all cells")
    fit.add_argument("--points", type=_positive_int, default=4096, help="cells per step")
    fit.add_argument("--lr", type=_positive_float, default=1e-3, help="peak learning rate")
    fit.add_argument("--seed", type=_count, default=0)
    fit.add_argument(
        "--periodic",
        nargs="*",
        type=_periodic,
        metavar="DIM[=PERIOD]",
        help="periodic dimensions (default: a global longitude); give none to disable",
    )
    fit.add_argument("--ensemble", type=_positive_int, help="fit this many members (mean and std)")
    fit.add_argument(
        "--calibrate",
        type=_positive_float,
        metavar="FRACTION",
        help="hold out this fraction of the cells (e.g. 0.1) to calibrate the ensemble's std",
    )
    fit.add_argument("--no-progress", action="store_true", help="hide the progress output")


def _add_predict_parser(sub, formatter) -> None:
    predict = sub.add_parser(
        "predict", help="evaluate a fitted field onto a grid, to netCDF", formatter_class=formatter
    )
    predict.add_argument(
        "field", help="a field file written by `fieldpde fit`, or an .eqx by `fieldpde solve`"
    )
    where = predict.add_mutually_exclusive_group()
    where.add_argument("--like", help="a netCDF file whose coordinates give the grid")
    where.add_argument(
        "--grid",
        nargs="+",
        metavar="DIM=SPEC",
        help="new coordinates: DIM=START:STOP:NUM (inclusive; dates allowed) or DIM=xK "
        "(K times the training resolution); other dimensions keep the training grid; for "
        "a `fieldpde solve` field: nodes per axis (one number, or one per axis)",
    )
    predict.add_argument("--out", required=True, help="the netCDF file to write")
    predict.add_argument("--chunk", type=_positive_int, default=65536, help="points per evaluation")
    predict.add_argument(
        "--quantiles",
        nargs="+",
        type=_probability,
        metavar="P",
        help="ensemble fields: also write the members' quantiles at these probabilities "
        "(e.g. 0.05 0.95) as <name>_quantile",
    )


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


def _progress(args: argparse.Namespace):
    return False if args.no_progress else None


def _execute(args: argparse.Namespace) -> int:
    """Run a parsed command; returns its exit code (errors propagate as exceptions)."""
    if args.command == "solve":
        from .app import run
        from .train import AdaptiveSampling

        out = run(
            args.problem,
            seed=args.seed,
            out=args.out,
            progress=_progress(args),
            steps=args.steps,
            lbfgs_steps=args.lbfgs_steps,
            points=args.points,
            learning_rate=args.lr,
            x64=args.x64,
            grid=args.grid,
            starts=args.starts,
            network=args.network,
            width=args.width,
            depth=args.depth,
            omega=args.omega,
            hard=args.hard,
            adaptive=AdaptiveSampling() if args.adaptive else None,
        )
        if not out.ok:
            print(f"fieldpde: training failed: {out.result.message}", file=sys.stderr)
            return EXIT_TRAINING_FAILED
        return EXIT_OK
    if args.command == "fit":
        from .app import fit_netcdf

        periodic: object = "auto"
        if args.periodic is not None:
            periodic = dict(args.periodic)
        fit_netcdf(
            args.data,
            args.var,
            out=args.out,
            periodic=periodic,
            width=args.width,
            depth=args.depth,
            omega=args.omega,
            hidden_omega=args.hidden_omega,
            steps=args.steps,
            lbfgs_steps=args.lbfgs_steps,
            points=args.points,
            learning_rate=args.lr,
            seed=args.seed,
            ensemble_size=args.ensemble,
            calibrate=args.calibrate,
            progress=_progress(args),
        )
        return EXIT_OK
    from .app import is_solution_file, predict_netcdf, predict_solution

    if is_solution_file(args.field):
        if args.like is not None:
            raise ValueError("`--like` needs a `fieldpde fit` field; give --grid N instead")
        if args.quantiles:
            raise ValueError("`--quantiles` needs an ensemble field of `fieldpde fit --ensemble N`")
        shape = None
        if args.grid:
            try:
                counts = [int(g) for g in args.grid]
            except ValueError:
                raise ValueError(
                    f"`--grid` of a `fieldpde solve` field is nodes per axis, got {args.grid}"
                ) from None
            shape = counts[0] if len(counts) == 1 else tuple(counts)
        path = predict_solution(args.field, out=args.out, shape=shape)
        print(f"wrote {path}")
        return EXIT_OK
    predict_netcdf(
        args.field,
        out=args.out,
        like=args.like,
        grid=args.grid or (),
        chunk=args.chunk,
        quantiles=args.quantiles,
    )
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """The ``fieldpde`` command: ``solve``, ``fit`` or ``predict``, then the time taken.

    Args:
        argv: the arguments after the program name (default: ``sys.argv[1:]``).

    Returns:
        The exit status (see the module docstring); a bad input prints one line
        ``fieldpde: ...`` on stderr and returns 1.

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
        1
    """
    args = parse_args(argv)
    t0 = time.perf_counter()
    try:
        code = _execute(args)
    except (ValueError, TypeError, FileNotFoundError, IsADirectoryError, PermissionError) as err:
        if os.environ.get("FIELDPDE_DEBUG"):
            raise
        print(f"fieldpde: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
