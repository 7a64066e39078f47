"""Parametric time-dependent surrogate: Burgers over the viscosity, three conditioned fields.

Runs `examples/burgers_family.py` (9 training viscosities log-spaced in [0.01/pi, 0.1/pi],
8 held out between them, snapshots on a 256 x 101 (x, t) grid from the diffrax spectral
reference; HyperSIREN, FiLM-SIREN and a tanh MLP on (x, t, mu) trained on the same data for
the same 3000 steps, float32) and prints, per model, the parameter count, training time,
train and held-out relative L2 (mean and worst over the held-out viscosities), and the
time to answer a new viscosity on the grid, against a diffrax solve of that viscosity on
the same grid. Targets: HyperSIREN held-out relative L2 <= 2e-2 and below the MLP's.

    python benchmarks/time_surrogate.py [--seeds 0] [--steps 3000] [--fast]
"""

import argparse
import importlib.util
import os
import platform
import statistics
from pathlib import Path

import jax

TARGET = 2e-2


def _example():
    path = Path(__file__).resolve().parent.parent / "examples" / "burgers_family.py"
    spec = importlib.util.spec_from_file_location("burgers_family", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--fast", action="store_true", help="tiny sizes (a smoke test)")
    args = parser.parse_args()
    example = _example()
    s = dict(example.FAST if args.fast else example.FULL)
    if args.steps is not None:
        s["steps"] = args.steps
    print(
        f"{platform.processor() or platform.machine()}; {os.cpu_count()} cores; "
        f"jax {jax.__version__} on {jax.default_backend()}; float32 models; "
        f"{s['n_train']} training nu, {s['n_train'] - 1} held out; grid {s['grid']} x "
        f"{s['times']}; {s['steps']} steps x {s['batch']} points per snapshot"
    )
    header = (
        f"{'model':10s} {'seed':>4s} {'params':>6s} | {'train s':>7s} | {'train L2':>8s} "
        f"{'held mean':>9s} {'held max':>8s} | {'query ms':>8s}"
    )
    print(header)
    print("-" * len(header))
    rows = {name: [] for name in example.MODELS}
    solves = []
    for seed in args.seeds:
        result = example.run(seed=seed, fast=args.fast, steps=args.steps)
        solves.append(result["diffrax_solve_s"])
        for name, m in result["metrics"].items():
            rows[name].append(m)
            print(
                f"{name:10s} {seed:4d} {m['params']:6d} | {m['train_s']:7.1f} | "
                f"{m['train_rel_l2']:8.2e} {m['held_out_mean']:9.2e} {m['held_out_max']:8.2e} | "
                f"{m['query_ms']:8.2f}"
            )
    solve_ms = 1e3 * statistics.median(solves)
    print(f"{'diffrax':10s} {'':4s} {'':6s} | {'':7s} | {'':8s} {'':9s} {'':8s} | {solve_ms:8.0f}")
    print()
    median = {n: statistics.median(m["held_out_mean"] for m in ms) for n, ms in rows.items()}
    worst = {n: statistics.median(m["held_out_max"] for m in ms) for n, ms in rows.items()}
    query = {n: statistics.median(m["query_ms"] for m in ms) for n, ms in rows.items()}
    print(f"{'model':10s} | {'held-out mean':>13s} {'worst nu':>9s} | {'diffrax/query':>13s}")
    for name in rows:
        print(
            f"{name:10s} | {median[name]:13.2e} {worst[name]:9.2e} | "
            f"{solve_ms / query[name]:12.0f}x"
        )
    hyper, mlp = median["HyperSIREN"], median["MLP"]
    print(
        f"target: HyperSIREN held-out relative L2 <= {TARGET:.0e}: {hyper:.2e} "
        f"{'MET' if hyper <= TARGET else 'NOT MET'}"
    )
    print(
        f"target: HyperSIREN below the MLP: {hyper:.2e} vs {mlp:.2e} "
        f"{'MET' if hyper < mlp else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()
