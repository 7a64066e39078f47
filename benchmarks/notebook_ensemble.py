"""The SIREN notebook's ensemble at its seed, and what rounding alone does to it (issue 17).

`examples/notebook_ensemble.py` runs the notebook's code (16 members x 4000 full-batch Adam
steps at lr 5e-3, float64). Its minimum and median final member losses are the notebook's
(-398.6 / -393.6); its maximum and the gap/data std ratio are not (-387.1 and 43.7x there).
This benchmark reruns it from starts nudged at the level of float64's rounding (every initial
weight times 1 + 1e-15 N(0, 1); `nudge` 0 is the notebook's own start) and prints, per run:
the min / median / max final loss, the worst member, that member's best loss over the last
500 steps, the std at the data, the gap/data ratio, and whether the issue's targets hold
(min, median and max within 1% of the notebook's, ratio >= 35x, std at the data <= 0.01).

At lr 5e-3 on this stiff likelihood (noise 0.05) Adam's loss spikes tens of times per run
and recovers within a few steps; a member caught in a spike at the last step is the
"worst member". Which member that is, if any, is decided by rounding.

    python benchmarks/notebook_ensemble.py [--runs 8] [--epochs 4000]
"""

import argparse
import importlib.util
import platform
import time
from pathlib import Path

import jax
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = (-398.6, -393.6, -387.1)


def _example():
    path = ROOT / "examples" / "notebook_ensemble.py"
    spec = importlib.util.spec_from_file_location("notebook_ensemble", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8, help="nudges 0 .. runs-1")
    parser.add_argument("--epochs", type=int, default=4000)
    args = parser.parse_args()
    example = _example()
    print(f"{platform.machine()}; jax {jax.__version__}; float64; 16 members x {args.epochs}")
    print(
        "| nudge | min | median | max | worst member | its best, last 500 | std at data "
        "| gap/data | targets | s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    met = 0
    for nudge in range(args.runs):
        t0 = time.perf_counter()
        with jax.enable_x64(True):
            r = example.run(args.epochs, 16, nudge=nudge)
        final = r["losses"][:, -1]
        worst = int(np.argmax(final))
        got = (r["loss_min"], r["loss_median"], r["loss_max"])
        ok = (
            all(abs(g - t) <= 0.01 * abs(t) for g, t in zip(got, NOTEBOOK, strict=True))
            and r["ratio"] >= 35
            and r["std_data"] <= 0.01
        )
        met += ok
        print(
            f"| {nudge} | {got[0]:.1f} | {got[1]:.1f} | {got[2]:.1f} | {worst} | "
            f"{r['losses'][worst, -500:].min():.1f} | {r['std_data']:.4f} | {r['ratio']:.1f}x | "
            f"{'met' if ok else 'no'} | {time.perf_counter() - t0:.0f} |",
            flush=True,
        )
    print(f"targets met in {met} of {args.runs} runs (notebook: {NOTEBOOK}, 43.7x, 0.006)")


if __name__ == "__main__":
    main()
