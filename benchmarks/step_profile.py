"""XLA's per-op profile of the Helmholtz training step, and its optimised HLO.

Builds `step_roofline.py`'s step (DeepXDE's Helmholtz example, an `MLP` of the given width
under `HardDirichlet`, one Adam update in the engine's compiled block), runs one block under
`jax.profiler.trace`, and prints the ops (XLA thunks: fusions, dots, conditionals) that
took the most time per step, with how often each ran per step (a tiled step runs each op
once per tile). ``--hlo FILE`` also writes the optimised HLO of the block.

    taskset -c 1 python benchmarks/step_profile.py --points 4096 --width 128
    taskset -c 1 python benchmarks/step_profile.py --points 4096 --width 128 --tile 0
"""

import argparse
import collections
import gzip
import json
import sys
import tempfile
from pathlib import Path

import jax

sys.path.insert(0, str(Path(__file__).resolve().parent))

import step_roofline as sr  # noqa: E402

import fieldpde  # noqa: E402

# host-side and framework events, not ops of the compiled program
_HOST = ("$", "ThunkExecutor", "PjitFunction", "CommonPjRt", "while")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=4096)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--tile", type=int, default=None, help="Residual(tile=...) (0: untiled)")
    parser.add_argument("--steps", type=int, default=10, help="steps in the profiled block")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--hlo", type=Path, default=None, help="write the optimised HLO here")
    args = parser.parse_args()
    parts = sr.build(fieldpde, args.points, args.width, args.tile)
    run = sr.block_runner(fieldpde, parts, args.steps)
    run()
    run()
    with tempfile.TemporaryDirectory() as tmp:
        with jax.profiler.trace(tmp, create_perfetto_trace=True):
            run()
        trace = next(Path(tmp).rglob("*.trace.json.gz"))
        events = json.load(gzip.open(trace))["traceEvents"]
    total: collections.Counter = collections.Counter()
    count: collections.Counter = collections.Counter()
    for e in events:
        if e.get("ph") == "X" and not e["name"].startswith(_HOST):
            total[e["name"]] += e["dur"]
            count[e["name"]] += 1
    steps = args.steps
    ops_ms = sum(total.values()) / 1e3 / steps
    print(
        f"{args.points} points, width {args.width}, tile {args.tile}: {ops_ms:.2f} ms/step "
        f"in {len(total)} ops (profiled, {steps} steps)"
    )
    print(f"{'ms/step':>9} {'share':>6} {'runs/step':>9}  op")
    for name, us in total.most_common(args.top):
        ms = us / 1e3 / steps
        print(f"{ms:9.3f} {ms / ops_ms:6.1%} {count[name] / steps:9.1f}  {name}")
    if args.hlo is not None:
        from fieldpde.train._block import run_block

        objective, phase, state, batch = parts

        def block(state, batch):
            return run_block(objective, phase, state, batch, None, steps, 1e6, None)

        lowered = jax.jit(block).lower(state, batch)
        args.hlo.write_text(lowered.compile().as_text())
        print(f"optimised HLO written to {args.hlo}")


if __name__ == "__main__":
    main()
