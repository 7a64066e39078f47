"""The training step of the engine against an earlier checkout, side by side (not run by pytest).

The same fit (the Helmholtz benchmark: a SIREN 64x4 under a hard Dirichlet transform, 2048
Sobol points per block of 100 Adam steps, then L-BFGS on 4096 points) runs in a fresh
process for each tree, alternating between the trees for several rounds so that the shared
machine's load hits both alike. Each child compiles first (a short fit with the same block
shapes), then times an Adam phase and an L-BFGS phase; the table gives the median ms/step
over rounds and the ratio new / old.

    git worktree add /tmp/fieldpde-old 2d59ad8      # the commit before the engine
    python benchmarks/engine_step.py --against /tmp/fieldpde-old [--rounds 5]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
import jax, jax.numpy as jnp
from fieldpde import SIREN, Problem, fit
from fieldpde.constraints import HardDirichlet, Residual
from fieldpde.domains import Box

adam, lbfgs = int(sys.argv[1]), int(sys.argv[2])
box = Box([-1.0, -1.0], [1.0, 1.0])
exact = lambda x: jnp.sin(jnp.pi * x[0]) * jnp.sin(4 * jnp.pi * x[1])
scale = 1.0 / (17 * jnp.pi**2)
pde = Residual(lambda x, d: scale * (d.laplacian + d.value - (1 - 17 * jnp.pi**2) * exact(x)),
               box, num_points=2048)
problem = Problem({"pde": pde}, exact=exact, domain=box)
net = SIREN.init(2, 64, 1, depth=4, key=jax.random.key(0), first_omega=10.0, hidden_omega=10.0)
field = HardDirichlet.on(box, net, boundary=0.0)
kw = dict(key=jax.random.key(1), learning_rate=2e-3, resample_every=100, progress=False)

def timed(**more):
    fit(problem, field, **kw, **more)  # compile these shapes
    t0 = time.perf_counter()
    out = fit(problem, field, **kw, **more)
    jax.block_until_ready(jax.tree.leaves(out.field))
    return time.perf_counter() - t0, out.steps

t_adam, n_adam = timed(steps=adam)
t_both, n_both = timed(steps=100, lbfgs_steps=lbfgs, lbfgs_points=4096)
t_short, n_short = timed(steps=100)
print("RESULT " + json.dumps({"adam": 1e3 * t_adam / n_adam,
                              "lbfgs": 1e3 * (t_both - t_short) / lbfgs}))
"""


def child(tree: Path, adam: int, lbfgs: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(adam), str(lbfgs)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        tail = f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
        raise RuntimeError(f"{tree}: the child failed\n{tail}")
    return json.loads(line[7:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, help="a checkout of the earlier commit")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--adam", type=int, default=1000, help="Adam steps timed")
    parser.add_argument("--lbfgs", type=int, default=300, help="L-BFGS steps timed")
    args = parser.parse_args()
    trees = {"old": Path(args.against).resolve(), "new": ROOT}
    print(f"{platform.processor() or platform.machine()}; {os.cpu_count()} cores; "
          f"{args.rounds} rounds alternating old/new; {args.adam} Adam and {args.lbfgs} "
          "L-BFGS steps per child")  # fmt: skip
    times: dict[str, dict[str, list[float]]] = {k: {"adam": [], "lbfgs": []} for k in trees}
    for r in range(args.rounds):
        order = list(trees) if r % 2 == 0 else list(trees)[::-1]
        for name in order:
            out = child(trees[name], args.adam, args.lbfgs)
            for phase in ("adam", "lbfgs"):
                times[name][phase].append(out[phase])
        print(f"  round {r + 1}: " + ", ".join(
            f"{n} adam {times[n]['adam'][-1]:.2f} lbfgs {times[n]['lbfgs'][-1]:.2f} ms"
            for n in trees))  # fmt: skip
    print("\n| phase | old ms/step | new ms/step | new / old |\n|---|---|---|---|")
    for phase in ("adam", "lbfgs"):
        old = statistics.median(times["old"][phase])
        new = statistics.median(times["new"][phase])
        print(f"| {phase} | {old:.2f} | {new:.2f} | {new / old:.3f} |")


if __name__ == "__main__":
    main()
