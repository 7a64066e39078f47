r"""The Helmholtz training step against its roofline, at any number of points and width.

The step is `vs_deepxde.py`'s fieldpde run (DeepXDE's Helmholtz Dirichlet example): an
`MLP` [2] + [width]*3 + [1] with sine activations and Glorot-uniform weights under
`HardDirichlet`, one `Residual` (mean squared residual) on `points` Sobol points, one Adam
(1e-3) update, run by the engine's compiled block (`run_block`, as `fit` runs it). For each
size it reports:

* ms/step: the median over `--blocks` timed blocks (after compilation) of block time /
  steps per block;
* the FLOPs of the step: matrix products counted analytically (forward: the value row of
  the first layer, then $(k+2) = 4$ jet rows through every later layer,
  $2\,n\,\text{rows}\,d_\text{in}d_\text{out}$ each; backward twice the forward) and the
  rest (XLA's ``flops`` of the one-step program minus the matrix products: sines, jets,
  Adam), and the bytes XLA's cost analysis says the ops of that program read and write
  (``bytes accessed``: every op's operands and results, as if each went through memory);
* the compute floor, matrix FLOPs / the peak matmul rate of this core plus the other
  FLOPs / the peak elementwise rate (a long fused polynomial), and the memory floor,
  bytes / the stream bandwidth of this core (a large out-of-cache array add); the
  roofline is the larger of the two, and the table gives ms/step over it.

With ``--against CHECKOUT`` the same step of an earlier checkout of fieldpde (loaded in the
same process under another name, as `engine_step.py` does) is timed beside it, blocks in
random order, so both see the same machine state. ``--tile N`` passes ``tile=N`` to the
new checkout's `Residual` (0: untiled) when it has the option.

Run it pinned to one core with one thread, as `vs_deepxde.py --threads 1` does::

    taskset -c 1 python benchmarks/step_roofline.py --sizes 480x150,4096x128
    taskset -c 1 python benchmarks/step_roofline.py --grid        # the issue-21 table
    taskset -c 1 python benchmarks/step_roofline.py --sizes 4096x128 --against ../base
"""

import argparse
import importlib
import importlib.util
import inspect
import math
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from vs_deepxde import glorot_uniform  # noqa: E402

K0 = 4 * math.pi
DEPTH = 4  # layers of the MLP, the readout included: [2] + [w]*3 + [1]
GRID_POINTS = (480, 2048, 4096, 8192, 16384)
GRID_WIDTHS = (64, 128, 256)


def load_old(tree: Path):
    """The fieldpde package of another checkout, imported as ``fieldpde_old``."""
    spec = importlib.util.spec_from_file_location(
        "fieldpde_old",
        tree / "fieldpde" / "__init__.py",
        submodule_search_locations=[str(tree / "fieldpde")],
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fieldpde_old"] = module
    spec.loader.exec_module(module)
    return module


def _exact(x):
    return jnp.sin(K0 * x[0]) * jnp.sin(K0 * x[1])


def _residual(x, d):
    return -d.laplacian - K0**2 * d.value - K0**2 * _exact(x)


def build(pkg, points: int, width: int, tile: int | None, seed: int = 0):
    """``(objective, phase, state, batch)`` of one Adam step of the Helmholtz problem."""
    constraints = importlib.import_module(pkg.__name__ + ".constraints")
    domains = importlib.import_module(pkg.__name__ + ".domains")
    train = importlib.import_module(pkg.__name__ + ".train")
    box = domains.Box([0.0, 0.0], [1.0, 1.0])
    kwargs = {}
    if tile is not None and "tile" in inspect.signature(constraints.Residual).parameters:
        kwargs["tile"] = tile if tile > 0 else None
    pde = constraints.Residual(_residual, box, num_points=points, method="sobol", **kwargs)
    problem = pkg.Problem({"pde": pde}, exact=_exact, domain=box)
    nkey, ikey = jax.random.split(jax.random.key(seed))
    net = pkg.MLP.init(2, width, 1, depth=DEPTH, key=nkey, activation="sin")
    field = constraints.HardDirichlet.on(box, glorot_uniform(net, ikey))
    params, static = eqx.partition((field, None), eqx.is_inexact_array)
    phase = train.Optax(10**6, optax.adam(1e-3), resample_every=10**6)
    objective = train.ProblemObjective(problem, static)
    state = train.TrainState.init(phase, params)
    return objective, phase, state, problem.sample(jax.random.key(seed + 1))


def block_runner(pkg, parts, steps: int):
    run_block = importlib.import_module(pkg.__name__ + ".train._block").run_block
    objective, phase, state, batch = parts

    def run():
        out = run_block(objective, phase, state, batch, None, steps, 1e6, None)
        return jax.block_until_ready(out[0].params)

    return run


def step_costs(parts) -> tuple[float, float]:
    """XLA's ``(flops, bytes accessed)`` of one compiled Adam step (no scan around it)."""
    objective, phase, state, batch = parts

    def step(params, opt_state, batch):
        return phase.update(objective, params, opt_state, batch, None)[3:5]

    compiled = jax.jit(step).lower(state.params, state.opt_state, batch).compile()
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, list | tuple) else cost
    return float(cost["flops"]), float(cost["bytes accessed"])


def matmul_flops(points: int, width: int, d: int = 2, k: int = 2) -> float:
    sizes = [d] + [width] * (DEPTH - 1) + [1]
    forward = 2 * points * d * width  # first layer: value row only (jac rows are rows of W)
    pairs = zip(sizes[1:-1], sizes[2:], strict=True)
    forward += sum(2 * points * (k + 2) * a * b for a, b in pairs)
    return 3 * forward


def _times(fn, repeat: int) -> list[float]:
    """`repeat` wall times of `fn()`, after one untimed warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def median_time(fn, repeat: int) -> float:
    return float(np.median(_times(fn, repeat)))


def best_time(fn, repeat: int) -> float:
    return float(np.min(_times(fn, repeat)))


def peak_rates(repeat: int = 15) -> dict:
    """This core's peak matmul FLOP/s, fused elementwise FLOP/s and stream bytes/s (the
    best of `repeat` runs: a peak is what the core can reach, not what it usually does)."""
    mm = jax.jit(jnp.matmul)
    matmul = 0.0
    # the best of a few large products (the step's own shapes run fastest on this core)
    for rows, width in ((8192, 512), (16384, 256), (4096, 256), (2048, 128)):
        a = jax.random.normal(jax.random.key(0), (rows, width), jnp.float32)
        b = jax.random.normal(jax.random.key(1), (width, width), jnp.float32)
        t = best_time(lambda a=a, b=b: jax.block_until_ready(mm(a, b)), repeat)
        matmul = max(matmul, 2 * rows * width * width / t)

    # a Horner polynomial of degree 32 on an in-cache array: 64 flops per element
    def poly(x):
        acc = jnp.full_like(x, 0.5)
        for _ in range(32):
            acc = acc * x + 0.25
        return acc

    x = jax.random.uniform(jax.random.key(2), (1 << 16,), jnp.float32)
    pj = jax.jit(poly)
    elementwise = 64 * x.size / best_time(lambda: jax.block_until_ready(pj(x)), repeat)
    # stream: an in-place (donated) scale-and-add of 256 MiB, far beyond the caches
    add = jax.jit(lambda v: v * 1.0001 + 1.0, donate_argnums=0)
    box = [jnp.ones((1 << 26,), jnp.float32)]

    def stream_once():
        box[0] = jax.block_until_ready(add(box[0]))

    stream = 2 * box[0].nbytes / best_time(stream_once, repeat)
    return {"matmul": matmul, "elementwise": elementwise, "stream": stream}


def roofline(points: int, width: int, flops: float, nbytes: float, rates: dict) -> dict:
    mm = matmul_flops(points, width)
    other = max(flops - mm, 0.0)
    compute = mm / rates["matmul"] + other / rates["elementwise"]
    memory = nbytes / rates["stream"]
    return {
        "matmul_flops": mm,
        "other_flops": other,
        "bytes": nbytes,
        "compute_s": compute,
        "memory_s": memory,
        "roofline_s": max(compute, memory),
    }


def default_steps(points: int, width: int) -> int:
    """Steps per timed block: about 0.3-0.6 s of work at this core's speed."""
    work = points * width * width  # the matmul part dominates
    return int(max(5, min(200, round(4e9 / (work * 3)))))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            names = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    cores = sorted(os.sched_getaffinity(0))
    return f"{cpu}; pinned to core(s) {cores}; jax {jax.__version__}; float32"


def parse_sizes(text: str) -> list[tuple[int, int]]:
    out = []
    for item in text.split(","):
        n, w = item.lower().split("x")
        out.append((int(n), int(w)))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="480x150,4096x128", help="POINTSxWIDTH,...")
    parser.add_argument("--grid", action="store_true", help="points 480..16384 x width 64..256")
    parser.add_argument("--blocks", type=int, default=7, help="timed blocks per size")
    parser.add_argument("--steps", type=int, default=None, help="steps per block (default: auto)")
    parser.add_argument("--against", type=Path, default=None, help="an earlier checkout")
    parser.add_argument("--tile", type=int, default=None, help="Residual(tile=...) (0: untiled)")
    parser.add_argument(
        "--peak-matmul",
        type=float,
        default=None,
        help="GFLOP/s: use this peak matmul rate where it beats the one measured (the "
        "measured one drops when other work shares the machine)",
    )
    parser.add_argument(
        "--peak-elementwise", type=float, default=None, help="GFLOP/s, as --peak-matmul"
    )
    args = parser.parse_args()
    sizes = (
        [(n, w) for w in GRID_WIDTHS for n in GRID_POINTS] if args.grid else parse_sizes(args.sizes)
    )
    old = load_old(args.against.resolve()) if args.against is not None else None
    rates = peak_rates()
    if args.peak_matmul is not None:
        rates["matmul"] = max(rates["matmul"], 1e9 * args.peak_matmul)
    if args.peak_elementwise is not None:
        rates["elementwise"] = max(rates["elementwise"], 1e9 * args.peak_elementwise)
    print(machine())
    print(
        f"peak matmul {rates['matmul'] / 1e9:.0f} GFLOP/s, fused elementwise "
        f"{rates['elementwise'] / 1e9:.1f} GFLOP/s, stream {rates['stream'] / 1e9:.1f} GB/s; "
        f"tile={args.tile}"
    )
    header = (
        "| points | width | steps/block | ms/step | old ms/step | matmul MFLOP | other MFLOP "
        "| MB moved | compute floor ms | memory floor ms | roofline ms | x roofline |"
    )
    print(header)
    print("|---" * 12 + "|")
    rng = np.random.default_rng(0)
    for points, width in sizes:
        steps = args.steps or default_steps(points, width)
        parts = build(fieldpde, points, width, args.tile)
        runs = {"new": block_runner(fieldpde, parts, steps)}
        if old is not None:
            runs["old"] = block_runner(old, build(old, points, width, None), steps)
        for fn in runs.values():
            fn()  # compile
        times = {k: [] for k in runs}
        for _ in range(args.blocks):
            order = list(runs)
            rng.shuffle(order)
            for k in order:
                t0 = time.perf_counter()
                runs[k]()
                times[k].append(time.perf_counter() - t0)
        ms = {k: 1e3 * float(np.median(v)) / steps for k, v in times.items()}
        flops, nbytes = step_costs(build(fieldpde, points, width, 0))
        roof = roofline(points, width, flops, nbytes, rates)
        old_ms = f"{ms['old']:.2f}" if "old" in ms else "-"
        print(
            f"| {points} | {width} | {steps} | {ms['new']:.2f} | {old_ms} "
            f"| {roof['matmul_flops'] / 1e6:.0f} | {roof['other_flops'] / 1e6:.0f} "
            f"| {roof['bytes'] / 1e6:.0f} | {1e3 * roof['compute_s']:.2f} "
            f"| {1e3 * roof['memory_s']:.2f} | {1e3 * roof['roofline_s']:.2f} "
            f"| {ms['new'] / (1e3 * roof['roofline_s']):.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
