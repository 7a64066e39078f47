"""A new mu on a 256x256 grid: trained family surrogates against the FD solve, side by side.

For each family (`problems/poisson_family.py`, `problems/helmholtz_family.py`) and model kind
it loads the surrogate that the family script saved (``OUT/NAME.eqx`` or
``OUT/NAME_MODEL.eqx``; train it first, e.g. ``python problems/poisson_family.py``), checks
its relative L2 error against the 257^2 FD solution at the held-out mu, and times, in one
process and for the same new parameter values (median over ``--queries`` of them):

* FD: the sparse finite-difference solve of that mu on the n x n grid (scipy SuperLU);
* uncached: the jitted surrogate at every (x, mu) of the grid;
* cached: a `BasisSurrogate`'s `GridQuery`, whose basis on the grid was computed once
  beforehand (its one-off cost is the "setup" column); per new mu it runs the parameter
  net once and one (n^2 x (R+1)) @ (R+1) product.
* lspg (a second row for each basis model): the same basis, with the coefficients of a
  new mu solved by least squares on the PDE residual at ``--projection-points`` Sobol
  points (`ResidualProjection`) instead of read off the parameter net; "uncached" then
  builds the basis on the grid as well, "cached" is one residual pass, one
  (512 x (R+1)) least-squares solve and the grid product.

The target: held-out relative L2 <= 1e-2 and FD / surrogate >= 100.

    python benchmarks/parametric_query.py [--families poisson helmholtz] [--models basis siren]
"""

import argparse
import functools
import importlib.util
import os
import platform
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from fieldpde.app import held_out_errors, load_surrogate, time_query
from fieldpde.nn import BasisSurrogate
from fieldpde.surrogate import ResidualProjection

ROOT = Path(__file__).resolve().parent.parent
ERROR_TARGET, SPEED_TARGET = 1e-2, 100.0


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "problems" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(args, module, fam, fam_name, label, answer, mus):
    errors = held_out_errors(
        fam,
        answer,
        module.HELD_OUT,
        reference=functools.partial(module.reference, shape=args.fd_shape),
    )
    err = max(errors.values())
    bounds = list(zip(fam.space.lo, fam.space.hi, strict=True))
    t = time_query(answer, bounds, mus, module.solve, n=args.n)
    best = t.speedup_cached or t.speedup_uncached
    ok = err <= ERROR_TARGET and best >= SPEED_TARGET
    cached = f"{1e3 * t.cached:8.3f}" if t.cached is not None else f"{'-':>8s}"
    setup = f"{1e3 * t.cache_setup:7.1f}" if t.cache_setup is not None else f"{'-':>7s}"
    ratio = f"{t.speedup_cached:9.0f}" if t.cached is not None else f"{'-':>9s}"
    print(
        f"{fam_name:9s} {label:6s} | {err:11.2e} | {1e3 * t.reference:7.1f} "
        f"{1e3 * t.uncached:9.2f} {cached} {setup} | {t.speedup_uncached:7.1f} "
        f"{ratio} | {'yes' if ok else 'no':>3s}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=["poisson", "helmholtz"])
    parser.add_argument("--models", nargs="+", default=["basis", "siren"])
    parser.add_argument("--dir", default="out", help="where the family scripts saved")
    parser.add_argument("--n", type=int, default=256, help="query grid nodes per axis")
    parser.add_argument("--queries", type=int, default=9, help="new mu values timed")
    parser.add_argument("--fd-shape", type=int, default=257, help="reference grid for errors")
    parser.add_argument(
        "--projection-points",
        type=int,
        default=512,
        help="basis models also answer by residual projection (lspg row) on this many "
        "Sobol points; 0 to skip",
    )
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}; {os.cpu_count()} cores; "
        f"jax {jax.__version__} on {jax.default_backend()}; float32 queries; "
        f"{args.n}x{args.n} grid; medians over {args.queries} new mu"
    )
    header = (
        f"{'family':9s} {'model':6s} | {'held-out L2':>11s} | {'FD ms':>7s} {'uncached':>9s} "
        f"{'cached':>8s} {'setup':>7s} | {'FD/unc':>7s} {'FD/cached':>9s} | {'ok':>3s}"
    )
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    for fam_name in args.families:
        module = _script(f"{fam_name}_family")
        lo, hi = np.asarray(module.PARAMETERS.lo), np.asarray(module.PARAMETERS.hi)
        mus = [tuple(lo + (hi - lo) * rng.uniform(size=lo.size)) for _ in range(args.queries)]
        for model in args.models:
            default = module.SETTINGS.model
            stem = f"{fam_name}_family" + ("" if model == default else f"_{model}")
            path = Path(args.dir) / f"{stem}.eqx"
            if not path.exists():
                flag = "" if model == default else f" --model {model}"
                print(
                    f"{fam_name:9s} {model:6s} | missing {path}: python problems/"
                    f"{fam_name}_family.py{flag}"
                )
                continue
            like = module.field(jax.random.key(0), model=model, dtype=jnp.float32)
            field, meta = load_surrogate(path, like)
            fam = module.family(points=64)
            answers = [(model, field)]
            if isinstance(field, BasisSurrogate) and args.projection_points:
                key = jax.random.key(2)
                proj = ResidualProjection.for_family(
                    fam, field, points=args.projection_points, key=key
                )
                answers.append(("lspg", proj))
            for label, answer in answers:
                _row(args, module, fam, fam_name, label, answer, mus)
    print(
        f"held-out L2: the largest relative L2 error over the family's held-out mu "
        f"({args.fd_shape}^2 FD); "
        "times in ms per new mu; setup: the one-off basis on the grid (not per mu)"
    )


if __name__ == "__main__":
    main()
