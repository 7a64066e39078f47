"""The sin(a x), a in [1, 4] family: FiLM-SIREN and Hyper-RFF after 2000 steps, over seeds.

Runs `examples/sin_family.py`'s training (the reference notebook's setting, float32) for
each seed and prints per-seed and median train MSE and held-out sweep MSE (mean over
a = 1.2, 1.46, ..., 3.8 of the MSE on 200 points of [-3, 3]) against the targets: train
MSE <= 1e-4 (FiLM-SIREN) and <= 5e-5 (Hyper-RFF), held-out sweep MSE <= 1e-3, and the
sweep's worst held-out a <= 2e-3.

    python benchmarks/sin_family.py [--seeds 0 1 2] [--steps 2000] [--peak-lr 3e-3]
"""

import argparse
import importlib.util
import os
import platform
import statistics
from pathlib import Path

import jax

TARGETS = {"FiLM-SIREN": 1e-4, "Hyper-RFF": 5e-5}
SWEEP_TARGET = 1e-3
SWEEP_MAX_TARGET = 2e-3


def _example():
    path = Path(__file__).resolve().parent.parent / "examples" / "sin_family.py"
    spec = importlib.util.spec_from_file_location("sin_family", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--peak-lr", type=float, default=None, help="default: the example's")
    args = parser.parse_args()
    example = _example()
    peak_lr = example.PEAK_LR if args.peak_lr is None else args.peak_lr
    print(
        f"{platform.processor() or platform.machine()}; {os.cpu_count()} cores; "
        f"jax {jax.__version__} on {jax.default_backend()}; "
        f"{'float64' if jax.config.jax_enable_x64 else 'float32'}; {args.steps} steps, "
        f"peak learning rate {peak_lr:g}"
    )
    rows = {name: [] for name in TARGETS}
    header = (
        f"{'model':11s} {'seed':>4s} | {'train MSE':>10s} {'sweep MSE':>10s} "
        f"{'sweep max':>10s} | {'wall s':>7s}"
    )
    print(header)
    print("-" * len(header))
    for seed in args.seeds:
        _, _, metrics = example.run(seed=seed, steps=args.steps, peak_lr=peak_lr)
        for name, m in metrics.items():
            rows[name].append(m)
            print(
                f"{name:11s} {seed:4d} | {m['train_mse']:10.2e} {m['sweep_mse']:10.2e} "
                f"{m['sweep_max']:10.2e} | {m['wall_s']:7.1f}"
            )
    print()
    print(
        f"{'model':11s} | {'median train':>12s} {'target':>8s} {'ok':>3s} | "
        f"{'median sweep':>12s} {'target':>8s} {'ok':>3s} | {'worst a':>9s} {'target':>8s} "
        f"{'ok':>3s}"
    )
    for name, ms in rows.items():
        train = statistics.median(m["train_mse"] for m in ms)
        sweep = statistics.median(m["sweep_mse"] for m in ms)
        worst = max(m["sweep_max"] for m in ms)
        ok_train = "yes" if train <= TARGETS[name] else "NO"
        ok_sweep = "yes" if sweep <= SWEEP_TARGET else "NO"
        ok_worst = "yes" if worst <= SWEEP_MAX_TARGET else "NO"
        print(
            f"{name:11s} | {train:12.2e} {TARGETS[name]:8.0e} {ok_train:>3s} | "
            f"{sweep:12.2e} {SWEEP_TARGET:8.0e} {ok_sweep:>3s} | {worst:9.2e} "
            f"{SWEEP_MAX_TARGET:8.0e} {ok_worst:>3s}"
        )


if __name__ == "__main__":
    main()
