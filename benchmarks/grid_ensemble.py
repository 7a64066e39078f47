"""`fit_xarray(ensemble_size=E)` as one vmapped program against E sequential fits.

The data are the gappy SST cube of `examples/geo_gapfill.py` at a few grid and network
sizes. The vmapped ensemble (`fieldpde.train.fit_ensemble`) and the sequential loop (the
same members, each its own `fit` with the same keys, as `fit_xarray` ran them before
the engine) are both compiled beforehand and then timed alternately; the table gives the
median times, their ratio and the largest difference between their predictions (the same
computation batched, so equal up to the order of floating-point sums).

    python benchmarks/grid_ensemble.py [--rounds 3] [--members 8] [--cases 0 1 2]
"""

import argparse
import importlib.util
import os
import platform
import statistics
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from fieldpde.io import _fit as fit_module
from fieldpde.io import fit_xarray
from fieldpde.train import fit

ROOT = Path(__file__).resolve().parent.parent
CASES = [  # (grid (time, lat, lon), width, depth, points per step, steps)
    ((4, 8, 16), 16, 3, 256, 500),
    ((4, 16, 32), 32, 3, 1024, 500),
    ((6, 40, 96), 64, 4, 4096, 500),
]


def _example():
    spec = importlib.util.spec_from_file_location("geo", ROOT / "examples" / "geo_gapfill.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Sequential:
    """Stands in for `fit_ensemble` inside `fit_xarray`: one `fit` per member, in a loop."""

    def __call__(self, problem, fields, *, keys, **settings):
        outs = []
        for e in range(keys.shape[0]):
            member = jax.tree.map(lambda a, e=e: a[e] if eqx.is_array(a) else a, fields)
            outs.append(fit(problem, member, key=keys[e], **settings).field)
        arrays = [eqx.filter(o, eqx.is_array) for o in outs]
        stacked = jax.tree.map(lambda *a: jnp.stack(a), *arrays)
        n = keys.shape[0]

        class Result:
            fields = eqx.combine(stacked, eqx.filter(outs[0], eqx.is_array, inverse=True))
            history = {"loss": np.zeros((n, 1)), "failed_at": np.full(n, -1)}
            status = ("completed",) * n
            steps = settings["steps"]

        return Result()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--cases", type=int, nargs="+", default=None, help="case indices")
    args = parser.parse_args()
    geo = _example()
    vmapped = fit_module.fit_ensemble
    machine = f"{platform.processor() or platform.machine()}; {os.cpu_count()} cores"
    print(
        f"{machine}; jax {jax.__version__}; {args.members} members; medians over "
        f"{args.rounds} rounds"
    )
    print("| grid | SIREN | points/step | steps | vmapped s | sequential s | ratio | max diff |")
    print("|---|---|---|---|---|---|---|---|")
    cases = CASES if args.cases is None else [CASES[i] for i in args.cases]
    for grid, width, depth, points, steps in cases:
        obs, _ = geo.observed(geo.truth(*grid))
        kw = dict(width=width, depth=depth, points=points, steps=steps, progress=False)

        def run(sequential: bool, obs=obs, kw=kw):
            fit_module.fit_ensemble = _Sequential() if sequential else vmapped
            try:
                t0 = time.perf_counter()
                field = fit_xarray(obs, ensemble_size=args.members, **kw)
                jax.block_until_ready(jax.tree.leaves(field.net))
                return time.perf_counter() - t0, field
            finally:
                fit_module.fit_ensemble = vmapped

        run(False), run(True)  # compile both
        t_v, t_s = [], []
        for r in range(args.rounds):
            for sequential in (False, True) if r % 2 == 0 else (True, False):
                t, field = run(sequential)
                (t_s if sequential else t_v).append(t)
                if sequential:
                    seq_field = field
                else:
                    vmap_field = field
        a, b = vmap_field.predict(), seq_field.predict()
        diff = float(np.nanmax(np.abs(a["sst"].values - b["sst"].values)))
        tv, ts = statistics.median(t_v), statistics.median(t_s)
        print(f"| {grid} | {width}x{depth} | {points} | {steps} | {tv:.2f} | {ts:.2f} | "
              f"{ts / tv:.2f}x | {diff:.1e} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
