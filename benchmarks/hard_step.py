"""The cost of a hard constraint on a CSG domain against the box's, per Adam step (not pytest).

The same Laplace residual, SIREN 64x4 and 2048 points per step under three hard fields:
the box's `BoxDistance` with constant data (``HardDirichlet.on(box)``, the transform the
shipped problems used), PINNacle's Poisson 2d-C (a square minus four disks; u = 1 on the
sides and 0 on the circles: an R-function distance of five parts and an inverse-distance
lifting of two data), and its Poisson 2d-CG domain (a square minus four disks of different
radii). Each Adam block of 50 steps is compiled once, then the blocks are timed in random
order; the table gives the median ms/step and the ratio to the box.

    python benchmarks/hard_step.py [--blocks 30] [--points 2048]
"""

import argparse
import os
import platform
import sys
from pathlib import Path

import equinox as eqx
import jax

from fieldpde import SIREN, Problem
from fieldpde.constraints import Dirichlet, HardDirichlet, Residual
from fieldpde.domains import Box, Difference, Disk
from fieldpde.problem import enforce_hard
from fieldpde.train import Adam, ProblemObjective, TrainState
from fieldpde.train._block import run_block

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_step import timed  # noqa: E402

BLOCK = 50


def _net():
    return SIREN.init(2, 64, 1, depth=4, key=jax.random.key(0), first_omega=3.0)


def box_case(points):
    box = Box([-0.5, -0.5], [0.5, 0.5])
    pde = Residual(lambda x, d: d.laplacian, box, num_points=points)
    return Problem({"pde": pde}, domain=box), HardDirichlet.on(box, _net(), boundary=1.0)


def csg_case(points, half, holes):
    domain = Difference(Box([-half, -half], [half, half]), [Disk(c, r) for c, r in holes])
    pde = Residual(lambda x, d: d.laplacian, domain, num_points=points)
    sides = Dirichlet(1.0, domain, part="outer")
    circles = Dirichlet(0.0, domain, part="holes")
    split = enforce_hard(Problem({"pde": pde, "s": sides, "h": circles}, domain=domain), _net())
    return split.problem, split.field


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=30, help="timed blocks of each case")
    parser.add_argument("--points", type=int, default=2048)
    args = parser.parse_args()
    cases = {
        "box (BoxDistance)": box_case(args.points),
        "Poisson 2d-C (5 parts, 2 data)": csg_case(
            args.points, 0.5, [((sx * 0.3, sy * 0.3), 0.1) for sx in (-1, 1) for sy in (-1, 1)]
        ),
        "Poisson 2d-CG (5 parts, 2 data)": csg_case(
            args.points,
            1.0,
            [((0.5, 0.5), 0.2), ((0.4, -0.4), 0.4), ((-0.2, -0.7), 0.1), ((-0.6, 0.5), 0.3)],
        ),
    }
    phase = Adam(10 * BLOCK, learning_rate=1e-3)
    fns = {}
    for name, (problem, field) in cases.items():
        trainable, static = eqx.partition((field, None), eqx.is_inexact_array)
        objective = ProblemObjective(problem, static)
        state = TrainState.init(phase, trainable)
        batch = problem.sample(jax.random.key(3))

        def go(objective=objective, state=state, batch=batch):
            out = run_block(objective, phase, state, batch, None, BLOCK, 1e6, None)
            return jax.block_until_ready(out[0].params)

        fns[name] = go
    print(
        f"{platform.processor() or platform.machine()}; {os.cpu_count()} cores; jax "
        f"{jax.__version__}; load {os.getloadavg()[0]:.1f}; {args.points} points, blocks of "
        f"{BLOCK} Adam steps, {args.blocks} of each in random order"
    )
    t = timed(fns, args.blocks)
    base = t["box (BoxDistance)"]
    print("\n| hard field | ms/step | / box |\n|---|---|---|")
    for name, v in t.items():
        print(f"| {name} | {1e3 * v / BLOCK:.2f} | {v / base:.2f} |")


if __name__ == "__main__":
    main()
