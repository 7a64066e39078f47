"""Accuracy and wall time of `fieldpde solve` on the benchmark problems (not run by pytest).

Each problem runs in its own process with its default settings (so compilation caches and
memory do not carry over), through `fieldpde.app.run` exactly as ``fieldpde solve NAME``
does, and the table reports the error
against the exact / reference solution, the target from the issue, and the wall time of the
whole run (training, L-BFGS and compilation) on this machine.

    python benchmarks/accuracy.py                       # all cases
    python benchmarks/accuracy.py helmholtz poisson_sinsin
    python benchmarks/accuracy.py --seeds 0 1 2 helmholtz
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

CASES = {
    # name: (metric, target, direction)  direction +1: value must be <= target
    "helmholtz": ("relative L2", 1e-6, +1, "wall <= 600 s; published PINN 7e-2, LRA 1.3e-3"),
    "poisson_sinsin": ("relative L2", 1e-8, +1, "float64; wall <= 600 s"),
    "poisson_image": ("PSNR dB", 32.9, -1, "SIREN paper: 32.91 dB"),
    "poisson_lshape": ("relative L2 vs FD", None, +1, "reference: FD 257^2"),
    "heat": ("relative L2", 1e-4, +1, "float64; exact solution"),
    "wave": ("relative L2", None, +1, "float64; exact solution"),
    "burgers": ("relative L2 vs MOL", 5e-5, +1, "wall <= 600 s; published PINN 6.7e-4"),
    "allen_cahn": ("relative L2 vs MOL", 1e-3, +1, "wall <= 600 s; jaxpi 5.8e-4 (A100)"),
}
WALL_LIMIT = {"helmholtz": 600, "poisson_sinsin": 600, "burgers": 600, "allen_cahn": 600}


def run_case(name: str, seed: int) -> dict:
    from fieldpde.app import load_problem_file, run

    problem = load_problem_file(name)
    t0 = time.perf_counter()
    out = run(problem, seed=seed, out="out/benchmarks", progress=False)
    value = out.relative_l2
    if name == "poisson_image":
        value = problem.module.psnr(out.result.field)
    return {
        "name": name,
        "seed": seed,
        "value": value,
        "status": out.status,
        "wall_s": time.perf_counter() - t0,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", default=list(CASES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(run_case(args.cases[0], args.seeds[0])), flush=True)
        return
    print(
        f"{platform.processor() or platform.machine()}; {os.cpu_count()} cores; "
        f"python {platform.python_version()}"
    )
    rows = []
    for name in args.cases:
        for seed in args.seeds:
            proc = subprocess.run(
                [sys.executable, __file__, "--child", name, "--seeds", str(seed)],
                capture_output=True,
                text=True,
            )
            line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if line is None:
                print(f"{name} seed {seed}: FAILED\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
                continue
            rows.append(json.loads(line[7:]))
            print(f"  finished {name} seed {seed} in {rows[-1]['wall_s']:.0f} s", flush=True)
    header = (
        f"{'problem':16s} {'seed':>4} {'metric':>18} {'value':>10} {'target':>9} "
        f"{'met':>4} {'wall s':>7}  notes"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        metric, target, direction, notes = CASES[r["name"]]
        if target is None:
            met = "-"
        else:
            met = "yes" if (r["value"] - target) * direction <= 0 else "NO"
        if r["wall_s"] > WALL_LIMIT.get(r["name"], float("inf")):
            met = "NO"
        tgt = "-" if target is None else f"{target:g}"
        print(
            f"{r['name']:16s} {r['seed']:>4} {metric:>18} {r['value']:10.3e} {tgt:>9} {met:>4} "
            f"{r['wall_s']:7.0f}  {notes}"
        )


if __name__ == "__main__":
    main()
