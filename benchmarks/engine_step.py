"""The training step of the engine against an earlier checkout, side by side (not run by pytest).

The earlier checkout's package is loaded in the same process under another name
(``fieldpde_old``), so both compiled blocks run on the same machine state: the Helmholtz
benchmark (a SIREN 64x4 under a hard Dirichlet transform, 2048 Sobol points, a block of 100
Adam steps; L-BFGS blocks of 100 steps on 4096 points), each compiled once, then timed in
random order over many blocks. The table gives the median ms/step of each and the ratio
new / old (the median over blocks of each side's time).

    git worktree add /tmp/fieldpde-old 2d59ad8      # the commit before the engine
    python benchmarks/engine_step.py --against /tmp/fieldpde-old [--blocks 40]
"""

import argparse
import importlib
import importlib.util
import os
import platform
import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import fieldpde
from fieldpde.train import LBFGS, Adam, ProblemObjective, TrainState
from fieldpde.train._block import run_block


def load_old(tree: Path):
    spec = importlib.util.spec_from_file_location(
        "fieldpde_old",
        tree / "fieldpde" / "__init__.py",
        submodule_search_locations=[str(tree / "fieldpde")],
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["fieldpde_old"] = module
    spec.loader.exec_module(module)
    return module


def helmholtz(pkg, points: int):
    constraints = importlib.import_module(pkg.__name__ + ".constraints")
    domains = importlib.import_module(pkg.__name__ + ".domains")
    box = domains.Box([-1.0, -1.0], [1.0, 1.0])
    exact = lambda x: jnp.sin(jnp.pi * x[0]) * jnp.sin(4 * jnp.pi * x[1])  # noqa: E731
    scale = 1.0 / (17 * jnp.pi**2)
    pde = constraints.Residual(
        lambda x, d: scale * (d.laplacian + d.value - (1 - 17 * jnp.pi**2) * exact(x)),
        box,
        num_points=points,
    )
    problem = pkg.Problem({"pde": pde}, exact=exact, domain=box)
    net = pkg.SIREN.init(
        2, 64, 1, depth=4, key=jax.random.key(0), first_omega=10.0, hidden_omega=10.0
    )
    field = constraints.HardDirichlet.on(box, net, boundary=0.0)
    return problem, field, problem.sample(jax.random.key(3))


def timed(fns: dict, blocks: int) -> dict:
    for f in fns.values():
        f()  # compile
    times = {k: [] for k in fns}
    rng = np.random.default_rng(0)
    for _ in range(blocks):
        order = list(fns)
        rng.shuffle(order)
        for k in order:
            t0 = time.perf_counter()
            fns[k]()
            times[k].append(time.perf_counter() - t0)
    return {k: float(np.median(v)) for k, v in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, help="a checkout of the earlier commit")
    parser.add_argument("--blocks", type=int, default=40, help="timed blocks of each kind")
    args = parser.parse_args()
    old = load_old(Path(args.against).resolve())
    old_fit = importlib.import_module("fieldpde_old.train._fit")
    length = 100
    print(
        f"{platform.processor() or platform.machine()}; {os.cpu_count()} cores; jax "
        f"{jax.__version__}; blocks of {length} steps, {args.blocks} of each, random order"
    )
    rows = []
    for phase_name, points in (("Adam", 2048), ("L-BFGS", 4096)):
        p_old, f_old, b_old = helmholtz(old, points)
        p_new, f_new, b_new = helmholtz(fieldpde, points)
        t_old, s_old = eqx.partition((f_old, None), eqx.is_inexact_array)
        t_new, s_new = eqx.partition((f_new, None), eqx.is_inexact_array)
        if phase_name == "Adam":
            opt = old_fit._default_optimizer(2e-3, 1000)
            o_state = opt.init(t_old)
            phase = Adam(1000, learning_rate=2e-3)

            def run_old(
                p_old=p_old, s_old=s_old, t_old=t_old, o_state=o_state, b_old=b_old, opt=opt
            ):
                out = old_fit._adam_block(
                    p_old, s_old, t_old, o_state, jnp.asarray(jnp.inf), jnp.asarray(0),
                    b_old, opt, length, 1e6,
                )  # fmt: skip
                return jax.block_until_ready(out[0])
        else:
            lbfgs = optax.lbfgs(memory_size=50)  # one object: the old block compiles once
            phase = LBFGS(1000, optimizer=lbfgs)

            def run_old(p_old=p_old, s_old=s_old, t_old=t_old, b_old=b_old, lbfgs=lbfgs):
                out = old_fit._lbfgs_block(p_old, s_old, t_old, b_old, lbfgs, length)
                return jax.block_until_ready(out[0])

        objective = ProblemObjective(p_new, s_new)
        state = TrainState.init(phase, t_new)

        def run_new(objective=objective, phase=phase, state=state, b_new=b_new):
            out = run_block(objective, phase, state, b_new, None, length, 1e6, None)
            return jax.block_until_ready(out[0].params)

        t = timed({"old": run_old, "new": run_new}, args.blocks)
        rows.append((phase_name, points, 1e3 * t["old"] / length, 1e3 * t["new"] / length))
    print("\n| phase | points | old ms/step | new ms/step | new / old |\n|---|---|---|---|---|")
    for name, points, a, b in rows:
        print(f"| {name} | {points} | {a:.2f} | {b:.2f} | {b / a:.3f} |")


if __name__ == "__main__":
    main()
