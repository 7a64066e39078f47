"""`fit_xarray(ensemble_size=E)` as one vmapped program against E sequential fits.

The data are the gappy SST cube of `examples/geo_gapfill.py` at a few grid and network
sizes. The vmapped ensemble (`fieldpde.train.fit_ensemble`) and the sequential loop (the
same members, each its own `fit` with the same keys, as `fit_xarray` ran them before
the engine) are both compiled beforehand and then timed alternately; the table gives the
median times, their ratio and the largest difference between their predictions (the same
computation batched, so equal up to the order of floating-point sums).

The floor is what one member's training step cannot go below on this machine: its matmul
FLOPs (forward and backward, 3x the forward's 2 x points x sum of in x out) at the best
matmul rate measured here (`step_roofline.peak_rates`), plus its sines and cosines (one
pair per hidden unit and point: the forward's sine, the backward's cosine) at the best rate
of `fieldpde.ops.sincos` (the sine SIREN uses) on a large array. "x floor"
is each path's time per member and step over that floor: vmapping can remove overhead,
not work, so the ratio of the two paths cannot exceed the sequential path's "x floor".
The last two columns time the bare Adam step on one fixed batch (no sampling, no engine),
of one SIREN and of the members vmapped (per member): where the second is not below the
first, the step is compute-bound and batching the members cannot make it cheaper.

    python benchmarks/grid_ensemble.py [--rounds 3] [--members 8] [--cases 0 1 2]
"""

import argparse
import importlib.util
import os
import platform
import statistics
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from step_roofline import best_time, peak_rates

from fieldpde.io import _fit as fit_module
from fieldpde.io import fit_xarray
from fieldpde.ops import sincos
from fieldpde.train import fit

ROOT = Path(__file__).resolve().parent.parent
CASES = [  # (grid (time, lat, lon), width, depth, points per step, steps)
    ((4, 8, 16), 16, 3, 256, 500),
    ((4, 16, 32), 32, 3, 1024, 500),
    ((6, 40, 96), 64, 4, 4096, 500),
]


def _example():
    spec = importlib.util.spec_from_file_location("geo", ROOT / "examples" / "geo_gapfill.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Sequential:
    """Stands in for `fit_ensemble` inside `fit_xarray`: one `fit` per member, in a loop."""

    def __call__(self, problem, fields, *, keys, **settings):
        outs = []
        for e in range(keys.shape[0]):
            member = jax.tree.map(lambda a, e=e: a[e] if eqx.is_array(a) else a, fields)
            outs.append(fit(problem, member, key=keys[e], **settings).field)
        arrays = [eqx.filter(o, eqx.is_array) for o in outs]
        stacked = jax.tree.map(lambda *a: jnp.stack(a), *arrays)
        n = keys.shape[0]

        class Result:
            fields = eqx.combine(stacked, eqx.filter(outs[0], eqx.is_array, inverse=True))
            history = {"loss": np.zeros((n, 1)), "failed_at": np.full(n, -1)}
            status = ("completed",) * n
            steps = settings["steps"]

        return Result()


def sine_rate(repeat: int = 10) -> float:
    """(sin, cos) pairs per second: the best of `repeat` runs of `fieldpde.ops.sincos` on
    4M float32 values."""
    x = jax.random.uniform(jax.random.key(3), (1 << 22,), jnp.float32, -10.0, 10.0)
    pair = jax.jit(sincos)
    return x.size / best_time(lambda: jax.block_until_ready(pair(x)), repeat)


def floor_seconds(points, d_in, width, depth, rates) -> float:
    """One member's step at this machine's peak rates: matmuls plus sines and cosines."""
    sizes = [d_in] + [width] * (depth - 1) + [1]
    matmul = 3 * 2 * points * sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    pairs = points * width * (depth - 1)
    return matmul / rates["matmul"] + pairs / rates["sine"]


def bare_step_ms(points, d_in, width, depth, members, repeat: int = 3) -> tuple[float, float]:
    """ms per member and Adam step on one fixed batch: one SIREN alone, and `members`
    SIRENs vmapped (the best of `repeat` scans of 50 steps each)."""
    import optax

    from fieldpde import SIREN

    keys = jax.random.split(jax.random.key(0), members)
    nets = eqx.filter_vmap(
        lambda k: SIREN.init(d_in, width, 1, depth=depth, key=k, first_omega=30.0)
    )(keys)
    params, static = eqx.partition(nets, eqx.is_inexact_array)
    x = jax.random.uniform(jax.random.key(1), (points, d_in), jnp.float32, -1.0, 1.0)
    y = jnp.sin(3 * x[:, :1])
    opt = optax.adam(1e-3)

    def loss(p):
        return jnp.mean((eqx.combine(p, static)(x) - y) ** 2)

    def steps(p, s, vmapped):
        grad = jax.vmap(jax.grad(loss)) if vmapped else jax.grad(loss)
        update = jax.vmap(opt.update) if vmapped else opt.update

        def step(c, _):
            u, s2 = update(grad(c[0]), c[1], c[0])
            return (optax.apply_updates(c[0], u), s2), None

        return jax.lax.scan(step, (p, s), None, length=50)[0]

    out = []
    for vmapped, count in ((False, 1), (True, members)):
        p = params if vmapped else jax.tree.map(lambda a: a[0], params)
        s = jax.vmap(opt.init)(p) if vmapped else opt.init(p)
        run = jax.jit(lambda p, s, v=vmapped: steps(p, s, v))
        seconds = best_time(lambda r=run, p=p, s=s: jax.block_until_ready(r(p, s)), repeat)
        out.append(seconds / 50 / count)
    return out[0] * 1e3, out[1] * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--cases", type=int, nargs="+", default=None, help="case indices")
    args = parser.parse_args()
    geo = _example()
    vmapped = fit_module.fit_ensemble
    machine = f"{platform.processor() or platform.machine()}; {os.cpu_count()} cores"
    print(
        f"{machine}; jax {jax.__version__}; {args.members} members; medians over "
        f"{args.rounds} rounds"
    )
    rates = {"matmul": peak_rates()["matmul"], "sine": sine_rate()}
    print(f"peak matmul {rates['matmul'] / 1e9:.0f} GFLOP/s, {rates['sine'] / 1e9:.2f} G sincos/s")
    print(
        "| grid | SIREN | points/step | steps | vmapped s | sequential s | ratio | max diff "
        "| floor ms/member-step | vmapped x floor | sequential x floor | bare step ms, 1 SIREN "
        "| bare step ms/member, vmapped |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    cases = CASES if args.cases is None else [CASES[i] for i in args.cases]
    for grid, width, depth, points, steps in cases:
        obs, _ = geo.observed(geo.truth(*grid))
        kw = dict(width=width, depth=depth, points=points, steps=steps, progress=False)

        def run(sequential: bool, obs=obs, kw=kw):
            fit_module.fit_ensemble = _Sequential() if sequential else vmapped
            try:
                t0 = time.perf_counter()
                field = fit_xarray(obs, ensemble_size=args.members, **kw)
                jax.block_until_ready(jax.tree.leaves(field.net))
                return time.perf_counter() - t0, field
            finally:
                fit_module.fit_ensemble = vmapped

        run(False), run(True)  # compile both
        t_v, t_s = [], []
        for r in range(args.rounds):
            for sequential in (False, True) if r % 2 == 0 else (True, False):
                t, field = run(sequential)
                (t_s if sequential else t_v).append(t)
                if sequential:
                    seq_field = field
                else:
                    vmap_field = field
        a, b = vmap_field.predict(), seq_field.predict()
        diff = float(np.nanmax(np.abs(a["sst"].values - b["sst"].values)))
        tv, ts = statistics.median(t_v), statistics.median(t_s)
        d_in = vmap_field.source.architecture["in_features"]
        floor = floor_seconds(min(points, int(np.isfinite(obs.values).sum())), d_in, width,
                              depth, rates)  # fmt: skip
        per = args.members * steps
        batch = min(points, int(np.isfinite(obs.values).sum()))
        one, each = bare_step_ms(batch, d_in, width, depth, args.members)
        print(f"| {grid} | {width}x{depth} | {points} | {steps} | {tv:.2f} | {ts:.2f} | "
              f"{ts / tv:.2f}x | {diff:.1e} | {floor * 1e3:.3f} | {tv / per / floor:.2f} | "
              f"{ts / per / floor:.2f} | {one:.3f} | {each:.3f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
