"""fieldpde.io on the geo_gapfill example grid: fit quality, gap filling, large predictions.

Rows of the table:

- PSNR of the fit at the training cells (target >= 40 dB; data range of those cells),
- RMSE inside the cloud box the fit never saw, against `scipy.interpolate.griddata` linear
  interpolation of the same month (target: lower),
- RMSE of the 4x super-resolved grid against the exact synthetic field (no target),
- time and peak memory of predicting one month on a SIDE x SIDE (default 4000 x 4000)
  lat/lon grid, measured in a fresh process that loads the saved field: the peak of host
  (numpy) arrays during the call from `tracemalloc`, and the process's peak resident
  memory from `resource.getrusage`, which includes the JAX runtime and compiled code.

    python benchmarks/io.py                 # the example's defaults
    python benchmarks/io.py --steps 500 --side 1000   # quicker
    python benchmarks/io.py --predict-only            # only the 4000 x 4000 prediction
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's fieldpde, whichever is installed


def big_predict(field_path: str, side: int, chunk: int) -> dict:
    """Predict one month on a side x side grid: time, peak memory (RSS and host arrays)."""
    import resource
    import tracemalloc

    import numpy as np

    from fieldpde.io import load_field

    field = load_field(field_path)
    month = field.source.coords["time"].values[:1]
    # warm up: compile the chunk evaluation once
    field.predict(time=month, lat=np.linspace(-70, 70, 8), lon=np.linspace(0, 359, 8), chunk=chunk)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()  # numpy reports its array allocations to tracemalloc
    t0 = time.perf_counter()
    out = field.predict(
        time=month,
        lat=np.linspace(73.0, -73.0, side),
        lon=np.linspace(0.0, 360.0, side, endpoint=False),
        chunk=chunk,
    )
    seconds = time.perf_counter() - t0
    host_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": seconds,
        "peak_mb": peak,
        "base_mb": base,
        "host_peak_mb": host_peak,
        "output_mb": out.nbytes / 2**20,
        "finite": bool(np.isfinite(out.values).all()),
        "points": int(out.size),
    }


def run_big(field, side: int, chunk: int):
    """Save `field` and predict side x side in a fresh process; the result dict or None."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sst.field")
        field.save(path)
        proc = subprocess.run(
            [sys.executable, __file__, "--child", path, str(side), str(chunk)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        print(f"large prediction FAILED\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        return None
    return json.loads(line[7:])


def big_rows(big: dict, side: int) -> list:
    return [
        (f"predict {side}x{side} time (s)", f"{big['seconds']:.1f}", "", None),
        (
            f"predict {side}x{side} host arrays peak (MB)",
            f"{big['host_peak_mb']:.0f}",
            "bounded",
            big["finite"],
        ),
        ("  output array (MB)", f"{big['output_mb']:.0f}", "", None),
        (
            "  process peak RSS (MB; before predicting)",
            f"{big['peak_mb']:.0f} ({big['base_mb']:.0f})",
            "",
            None,
        ),
    ]


def print_table(rows: list) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"{'metric':{width}s} {'value':>12} {'target':>10} {'met':>4}")
    print("-" * (width + 30))
    for name, value, target, met in rows:
        flag = "" if met is None else ("yes" if met else "NO")
        print(f"{name:{width}s} {value:>12} {target:>10} {flag:>4}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--lbfgs-steps", type=int, default=0)
    parser.add_argument("--side", type=int, default=4000)
    parser.add_argument("--chunk", type=int, default=65536)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--predict-only",
        action="store_true",
        help="only time the large prediction, with an untrained field of the same size",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        path, side, chunk = args.child
        print("RESULT " + json.dumps(big_predict(path, int(side), int(chunk))), flush=True)
        return

    sys.path.insert(0, str(ROOT / "examples"))
    import geo_gapfill
    import jax

    print(
        f"{platform.processor() or platform.machine()}; {os.cpu_count()} cores; "
        f"jax {jax.__version__} on {jax.default_backend()}; float32"
    )
    if args.predict_only:
        from fieldpde.io import fit_xarray

        obs, _ = geo_gapfill.observed(geo_gapfill.truth())
        field = fit_xarray(obs, width=128, depth=4, steps=0, progress=False)
        big = run_big(field, args.side, args.chunk)
        if big is not None:
            print_table(big_rows(big, args.side))
        return
    t0 = time.perf_counter()
    r = geo_gapfill.run(
        steps=args.steps, lbfgs_steps=args.lbfgs_steps, seed=args.seed, progress=False
    )
    arch = r["field"].source.architecture
    shape = "x".join(str(n) for n in r["truth"].shape)
    print(
        f"example grid (time, lat, lon) {shape}, {r['field'].source.training['cells']} finite "
        f"cells; SIREN width {arch['width']} depth {arch['depth']}; {args.steps} Adam + "
        f"{args.lbfgs_steps} L-BFGS steps; fit {r['fit_s']:.0f} s "
        f"(total {time.perf_counter() - t0:.0f} s)"
    )
    big = run_big(r["field"], args.side, args.chunk)

    rows = [
        ("PSNR at training cells (dB)", f"{r['psnr']:.2f}", ">= 40", r["psnr"] >= 40),
        (
            f"gap box RMSE, field ({r['gap_cells']} cells, degC)",
            f"{r['gap_rmse_field']:.3f}",
            f"< {r['gap_rmse_linear']:.3f}",
            r["gap_rmse_field"] < r["gap_rmse_linear"],
        ),
        ("gap box RMSE, griddata linear (degC)", f"{r['gap_rmse_linear']:.3f}", "", None),
        ("4x grid RMSE vs exact field (degC)", f"{r['rmse_4x']:.3f}", "", None),
    ]
    if big is not None:
        rows += big_rows(big, args.side)
    print_table(rows)


if __name__ == "__main__":
    main()
