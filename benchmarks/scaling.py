"""Data-parallel `fit`: time per training step on 1, 2 and 4 devices.

Strong scaling keeps the total number of collocation points fixed; weak scaling keeps the
points per device fixed. Each configuration trains a SIREN on the 2-D Poisson sin·sin
problem (PDE residual with the forward Laplacian + Dirichlet boundary) through the public
`fieldpde.fit(..., devices=...)`; a step's time is the wall time of one compiled block of
`STEPS` Adam steps (collocation draw and placement included), median of `--repeat` blocks,
after one block to compile. Devices are taken from one process, side by side.

On a machine without accelerators the devices are fake CPU devices made with
``--xla_force_host_platform_device_count`` (set here before JAX starts when absent): they
share the machine's cores, so the speed-up is bounded by the core count, and one device
already uses several cores for large matrix products. On GPUs run it as is.

    python benchmarks/scaling.py               # 4 devices, 8192 points (strong), 2048/device (weak)
    python benchmarks/scaling.py --points 32768 --per-device 8192 --width 128
"""

import argparse
import os
import platform
import statistics
import sys
import time

if "jax" not in sys.modules and "device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
    ).strip()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

from fieldpde import SIREN, Problem, fit  # noqa: E402
from fieldpde.constraints import Dirichlet, Residual  # noqa: E402
from fieldpde.domains import Rectangle  # noqa: E402

STEPS = 50


def problem_with(points: int) -> Problem:
    domain = Rectangle((-1.0, -1.0), (1.0, 1.0))

    def residual(x, d):
        f = -2 * jnp.pi**2 * jnp.sin(jnp.pi * x[0]) * jnp.sin(jnp.pi * x[1])
        return d.laplacian - f

    return Problem(
        {
            "pde": Residual(residual, domain, num_points=points, method="uniform"),
            "bc": Dirichlet(0.0, domain, num_points=max(points // 8, 1), method="uniform"),
        }
    )


def step_time(points: int, devices, width: int, repeat: int) -> float:
    problem = problem_with(points)
    net = SIREN.init(2, width, 1, depth=4, key=jax.random.key(0), first_omega=3.0)
    # one optimiser object for every call, so the compiled block is reused after the first
    optimizer = optax.adam(1e-4)

    def run(seed):
        return fit(
            problem,
            net,
            key=jax.random.key(seed),
            steps=STEPS,
            resample_every=STEPS,
            progress=False,
            devices=devices,
            optimizer=optimizer,
        )

    run(1)  # compile
    times = []
    for r in range(repeat):
        t0 = time.perf_counter()
        jax.block_until_ready(jax.tree.leaves(run(2 + r).field))
        times.append((time.perf_counter() - t0) / STEPS)
    return statistics.median(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=8192, help="total points (strong)")
    parser.add_argument("--per-device", type=int, default=2048, help="points/device (weak)")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    devices = jax.devices()
    counts = [c for c in (1, 2, 4) if c <= len(devices)]
    print(
        f"# {len(devices)} x {devices[0].device_kind} ({jax.default_backend()}), "
        f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}; "
        f"SIREN width {args.width} depth 4, {STEPS} Adam steps per timed block"
    )
    rows = []
    for kind in ("strong", "weak"):
        base = None
        for c in counts:
            n = args.points if kind == "strong" else args.per_device * c
            t = step_time(n, devices[:c], args.width, args.repeat)
            base = base or t
            # strong: ideal time t1 / c; weak: ideal time t1
            efficiency = base / t / (c if kind == "strong" else 1)
            rows.append((kind, c, n, t * 1e3, base / t, efficiency))
    print("| scaling | devices | points | ms/step | t(1)/t(N) | efficiency |")
    print("|---|---|---|---|---|---|")
    for kind, c, n, ms, s, e in rows:
        print(f"| {kind} | {c} | {n} | {ms:.2f} | {s:.2f}x | {e:.0%} |")


if __name__ == "__main__":
    main()
