"""Second-order phases against L-BFGS: error against wall time, and cost per step (not pytest).

**Accuracy against time.** For each problem file (Poisson sin·sin, Helmholtz, Burgers,
Allen-Cahn) the same network from the same seed is trained by the problem's Adam phase and
then by one of L-BFGS (today's default), SSBroyden and natural gradient, all on the same
fixed batch of points and under the same wall-clock budget (compilation included; the
error evaluations between blocks are not counted). The relative L2 error against the exact
or reference solution is recorded after every block: the table gives it at a few fractions
of the budget and the plot (``docs/optimizers.png``) draws it against time.

**Cost per step.** One compiled block of each phase on a Poisson problem (a SIREN with
about 10^3 and 10^4 parameters), timed in random order side by side, median over blocks,
reported in ms/step and against an L-BFGS step.

    python benchmarks/optimizers.py                                  # all, 300 s each
    python benchmarks/optimizers.py poisson_sinsin --budget 60 --no-cost
    python benchmarks/optimizers.py --cost-only
    python benchmarks/optimizers.py helmholtz --seeds 0 1 --methods lbfgs ng
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

PROBLEMS = ("poisson_sinsin", "helmholtz", "burgers", "allen_cahn")
METHODS = {"lbfgs": "Adam + L-BFGS", "ssbroyden": "Adam + SSBroyden", "ng": "Adam + NG"}
FRACTIONS = (0.25, 0.5, 1.0)


def adam_phase(settings):
    """The Adam phase the problem's defaults start with (``None``: they have none)."""
    from fieldpde.train import Adam

    if settings.phases is not None:
        return next((p for p in settings.phases if isinstance(p, Adam)), None)
    if settings.steps == 0:
        return None
    return Adam(
        settings.steps,
        learning_rate=settings.learning_rate,
        resample_every=settings.resample_every,
    )


def second_phase(method: str, points: int | None, ng_points: int | None):
    from fieldpde.train import LBFGS, NaturalGradient, SSBroyden

    many = 10**6  # the budget ends the phase
    if method == "lbfgs":
        return LBFGS(many, points=points, block=100)
    if method == "ssbroyden":
        return SSBroyden(many, points=points, block=50)
    return NaturalGradient(many, points=ng_points or points, block=5)


def run_case(name: str, method: str, seed: int, budget: float, args) -> dict:
    """One training run; returns its error history (seconds, relative L2)."""
    import jax

    from fieldpde.app import load_problem_file
    from fieldpde.io import evaluate_on_grid
    from fieldpde.train import fit

    pf = load_problem_file(name)
    s = pf.settings
    if args.x64:
        s = s.replace(x64=True)
    jax.config.update("jax_enable_x64", s.x64)
    import jax.numpy as jnp

    dtype = jnp.float64 if s.x64 else jnp.float32
    problem = pf.problem(points=s.points, **s.problem)
    field = pf.field(jax.random.key(seed), dtype=dtype, **s.field)
    adam = adam_phase(s)
    if args.adam is not None and adam is not None:
        adam = type(adam)(
            args.adam, learning_rate=adam.learning_rate, resample_every=adam.resample_every
        )
    points = s.lbfgs_points if s.phases is None else None
    phases = ([adam] if adam is not None else []) + [second_phase(method, points, args.ng_points)]
    t0 = time.perf_counter()
    paused = 0.0  # seconds spent measuring, not training
    history = []

    def measure(step, field_now, params_now, losses):
        nonlocal paused
        t_in = time.perf_counter()
        elapsed = t_in - t0 - paused
        rel = evaluate_on_grid(problem, field_now, shape=args.grid or s.grid).attrs["relative_l2"]
        history.append((elapsed, float(rel), int(step), float(sum(losses.values()))))
        paused += time.perf_counter() - t_in
        return elapsed > budget

    result = fit(
        problem,
        field,
        key=jax.random.key(seed + 1),
        phases=phases,
        progress=False,
        callbacks=(measure,),
    )
    return {
        "problem": name,
        "method": method,
        "seed": seed,
        "status": result.status,
        "message": result.message,
        "adam_steps": 0 if adam is None else adam.steps,
        "history": history,
    }


def at(history, t):
    """The error of the last measurement at or before `t` seconds (``nan`` if none)."""
    best = [rel for sec, rel, *_ in history if sec <= t * 1.02]
    return best[-1] if best else float("nan")


def accuracy(args) -> list[dict]:
    rows = []
    for name in args.problems:
        for seed in args.seeds:
            for method in args.methods:
                cmd = [sys.executable, __file__, "--child", name, method, str(seed)]
                cmd += ["--budget", str(args.budget)]
                if args.adam is not None:
                    cmd += ["--adam", str(args.adam)]
                if args.ng_points is not None:
                    cmd += ["--ng-points", str(args.ng_points)]
                if args.grid is not None:
                    cmd += ["--grid", str(args.grid)]
                if args.x64:
                    cmd += ["--x64"]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                line = next(
                    (ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None
                )
                if line is None:
                    print(f"{name} {method} seed {seed}: FAILED\n{proc.stderr[-3000:]}")
                    continue
                rows.append(json.loads(line[7:]))
                h = rows[-1]["history"]
                print(
                    f"  {name} {METHODS[method]} seed {seed}: {h[-1][1]:.2e} after "
                    f"{h[-1][0]:.0f} s ({rows[-1]['status']})",
                    flush=True,
                )
    table(rows, args.budget)
    return rows


def table(rows, budget: float) -> None:
    cols = " | ".join(f"rel. L2 at {f:g} B" for f in FRACTIONS)
    print(f"\n| problem | method | seed | {cols} | best | status |")
    print("|---|---|---|" + "---|" * len(FRACTIONS) + "---|---|")
    for r in rows:
        vals = " | ".join(f"{at(r['history'], f * budget):.2e}" for f in FRACTIONS)
        best = min(rel for _, rel, *_ in r["history"])
        print(
            f"| {r['problem']} | {METHODS[r['method']]} | {r['seed']} | {vals} | {best:.2e} "
            f"| {r['status']} |"
        )


def plot(rows, budget: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r["problem"] for r in rows))
    fig, axes = plt.subplots(
        1, len(names), figsize=(4 * len(names), 3.4), squeeze=False, layout="constrained"
    )
    colours = {"lbfgs": "tab:blue", "ssbroyden": "tab:orange", "ng": "tab:green"}
    for ax, name in zip(axes[0], names, strict=True):
        for r in rows:
            if r["problem"] != name:
                continue
            h = np.array([(sec, rel) for sec, rel, *_ in r["history"]])
            label = METHODS[r["method"]] if r["seed"] == min(x["seed"] for x in rows) else None
            ax.semilogy(h[:, 0], h[:, 1], color=colours[r["method"]], label=label, lw=1.2)
        ax.set_title(name)
        ax.set_xlabel("wall time (s)")
        ax.set_xlim(0, budget)
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("relative L2 error")
    axes[0][0].legend(fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def cost(args) -> None:
    """ms/step of one compiled block of each phase at ~1e3 and ~1e4 parameters."""
    import equinox as eqx
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree

    from fieldpde import SIREN, Problem
    from fieldpde.constraints import HardDirichlet, Residual
    from fieldpde.domains import Box
    from fieldpde.train import (
        LBFGS,
        SSBFGS,
        Adam,
        NaturalGradient,
        ProblemObjective,
        SSBroyden,
        TrainState,
    )
    from fieldpde.train._block import run_block

    box = Box([0.0, 0.0], [1.0, 1.0])

    def exact(x):
        return jnp.sin(jnp.pi * x[0]) * jnp.sin(jnp.pi * x[1])

    print(f"\ncost per step: Poisson, float64, {args.cost_points} points, blocks in random order")
    print("\n| parameters | phase | ms/step | / L-BFGS step |\n|---|---|---|---|")
    for width in (30, 99):  # 1051 and 10297 parameters
        pde = Residual(
            lambda x, d: d.laplacian + 2 * jnp.pi**2 * exact(x), box, num_points=args.cost_points
        )
        problem = Problem({"pde": pde}, exact=exact, domain=box)
        net = SIREN.init(2, width, 1, depth=3, key=jax.random.key(0), dtype=jnp.float64)
        field = HardDirichlet.on(box, net, boundary=0.0)
        trainable, static = eqx.partition((field, None), eqx.is_inexact_array)
        size = ravel_pytree(trainable)[0].size
        batch = problem.sample(jax.random.key(1))
        objective = ProblemObjective(problem, static)
        phases = {
            "L-BFGS": (LBFGS(10**6), 20),
            "Adam": (Adam(10**6), 20),
            "SSBFGS": (SSBFGS(10**6), 10),
            "SSBroyden": (SSBroyden(10**6), 10),
            "natural gradient": (NaturalGradient(10**6), 2),
        }
        fns, states = {}, {}
        for label, (phase, length) in phases.items():
            states[label] = TrainState.init(phase, trainable)

            # each block goes on from the last, so the steps timed are typical ones, not
            # the first few from the identity (whose line searches are the longest)
            def go(
                label=label,
                phase=phase,
                length=length,
                objective=objective,
                batch=batch,
                states=states,
            ):
                out = run_block(objective, phase, states[label], batch, None, length, None, None)
                states[label] = out[0]
                return jax.block_until_ready(out[0].params)

            fns[label] = (go, length)
        for go, _ in fns.values():
            go()  # compile, and the first steps of each
        times = {k: [] for k in fns}
        rng = np.random.default_rng(0)
        for _ in range(args.cost_blocks):
            order = list(fns)
            rng.shuffle(order)
            for k in order:
                go, length = fns[k]
                t = time.perf_counter()
                go()
                times[k].append((time.perf_counter() - t) / length)
        ms = {k: 1e3 * float(np.median(v)) for k, v in times.items()}
        for k, v in ms.items():
            print(f"| {size} | {k} | {v:.1f} | {v / ms['L-BFGS']:.1f} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("problems", nargs="*", default=list(PROBLEMS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--budget", type=float, default=300.0, help="seconds per run")
    parser.add_argument("--adam", type=int, default=None, help="Adam steps (default: the file's)")
    parser.add_argument("--ng-points", type=int, default=None, help="points for NG's batch")
    parser.add_argument("--x64", action="store_true", help="float64 for every problem")
    parser.add_argument("--grid", type=int, default=None, help="error grid nodes per axis")
    parser.add_argument("--plot", default="docs/optimizers.png")
    parser.add_argument("--json", default="out/optimizers.json", help="histories written here")
    parser.add_argument("--from-json", help="table and plot of the runs in this file only")
    parser.add_argument("--no-cost", action="store_true", help="skip the cost per step")
    parser.add_argument("--cost-only", action="store_true", help="only the cost per step")
    parser.add_argument("--cost-points", type=int, default=1024)
    parser.add_argument("--cost-blocks", type=int, default=5)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, method, seed = args.child
        out = run_case(name, method, int(seed), args.budget, args)
        print("RESULT " + json.dumps(out), flush=True)
        return
    load = os.getloadavg()
    print(
        f"{platform.processor() or platform.machine()}; {os.cpu_count()} cores; load "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; budget {args.budget:g} s per run"
    )
    if args.from_json:
        rows = json.loads(Path(args.from_json).read_text())
        table(rows, args.budget)
        if args.plot:
            plot(rows, args.budget, Path(args.plot))
        return
    if not args.cost_only:
        rows = accuracy(args)
        if rows and args.plot:
            plot(rows, args.budget, Path(args.plot))
    if not args.no_cost:
        cost(args)


if __name__ == "__main__":
    main()
