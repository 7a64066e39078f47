"""Accuracy and wall time of `fieldpde solve` on the benchmark problems (not run by pytest).

Each problem runs in its own process with its default settings (so compilation caches and
memory do not carry over), through `fieldpde.app.run` exactly as ``fieldpde solve NAME``
does, and the table reports the error
against the exact / reference solution, the target from the issue, and the wall time of the
whole run (training, L-BFGS and compilation) on this machine.

    python benchmarks/accuracy.py                       # all cases
    python benchmarks/accuracy.py helmholtz poisson_sinsin
    python benchmarks/accuracy.py --seeds 0 1 2 helmholtz
    python benchmarks/accuracy.py --untuned heat      # the default recipe: no SETTINGS, no field()

``--untuned`` runs a problem file as if it stated only its physics: its ``SETTINGS`` and
its ``field()`` are dropped, its ``problem(hard=False)`` states the boundary and initial
data its tuned field held (for files whose ``problem`` takes ``hard``), and the default
recipe (`fieldpde.app.choose`) picks the rest.
"""

import argparse
import json
import os
import platform
import resource
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
    # PINNacle (Hao et al., NeurIPS 2024) cases, scored at the COMSOL nodes: see pinnacle.py
    "poisson_2d_c": ("L2RE at nodes", 1.23e-2, +1, "PINNacle best 1.23e-2 (NTK)"),
    "poisson_boltzmann_2d": ("L2RE at nodes", 1.43e-2, +1, "PINNacle best 1.43e-2 (NTK)"),
    "burgers_1d_c": ("L2RE at nodes", 1.45e-2, +1, "PINNacle best 1.45e-2"),
}
WALL_LIMIT = {
    "helmholtz": 600,
    "poisson_sinsin": 600,
    "burgers": 600,
    "allen_cahn": 600,
    "poisson_2d_c": 600,
    "poisson_boltzmann_2d": 600,
    "burgers_1d_c": 600,
}


def run_case(name: str, seed: int, untuned: bool = False) -> dict:
    import dataclasses
    import inspect

    from fieldpde.app import Settings, load_problem_file, run

    problem = load_problem_file(name)
    settings = None
    if untuned:
        takes_hard = "hard" in inspect.signature(problem.problem).parameters
        problem = dataclasses.replace(problem, field=None)
        settings = Settings(problem={"hard": False} if takes_hard else {})
    t0 = time.perf_counter()
    out = run(problem, settings=settings, seed=seed, out="out/benchmarks", progress=False)
    value = out.relative_l2
    if name == "poisson_image":
        value = problem.module.psnr(out.result.field)
    return {
        "name": name,
        "untuned": untuned,
        "seed": seed,
        "value": value,
        "status": out.status,
        "wall_s": time.perf_counter() - t0,
        # CPU seconds of the process (all threads): on a loaded machine the wall time grows
        # with the load, this does not
        "cpu_s": resource.getrusage(resource.RUSAGE_SELF).ru_utime,
    }


def run_cases(names, seeds, untuned: bool = False, script: str = __file__) -> list[dict]:
    """Run each case and seed in its own process; the rows of those that finished.

    `script` is the benchmark whose ``--child NAME --seeds SEED [--untuned]`` runs one case
    and prints its row as ``RESULT {json}`` (this file's, or another benchmark's).
    """
    print(
        f"{platform.processor() or platform.machine()}; {os.cpu_count()} cores; "
        f"python {platform.python_version()}; load {os.getloadavg()[0]:.1f}"
    )
    rows = []
    for name in names:
        for seed in seeds:
            cmd = [sys.executable, script, "--child", name, "--seeds", str(seed)]
            proc = subprocess.run(
                cmd + (["--untuned"] if untuned else []), capture_output=True, text=True
            )
            line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if line is None:
                print(f"{name} seed {seed}: FAILED\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
                continue
            rows.append(json.loads(line[7:]))
            r = rows[-1]
            print(
                f"  finished {name} seed {seed}: {r['value']:.3e} in {r['wall_s']:.0f} s "
                f"({r['cpu_s']:.0f} CPU s)",
                flush=True,
            )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", default=list(CASES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--untuned", action="store_true", help="drop SETTINGS and field()")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        row = run_case(args.cases[0], args.seeds[0], args.untuned)
        print("RESULT " + json.dumps(row), flush=True)
        return
    rows = run_cases(args.cases, args.seeds, args.untuned)
    header = (
        f"{'problem':16s} {'seed':>4} {'metric':>18} {'value':>10} {'target':>9} "
        f"{'met':>4} {'wall s':>7} {'cpu s':>7}  notes"
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
        name = r["name"] + (" (untuned)" if r["untuned"] else "")
        print(
            f"{name:16s} {r['seed']:>4} {metric:>18} {r['value']:10.3e} {tgt:>9} {met:>4} "
            f"{r['wall_s']:7.0f} {r.get('cpu_s', float('nan')):7.0f}  {notes}"
        )


if __name__ == "__main__":
    main()
