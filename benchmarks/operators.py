"""Speed of a Laplacian-residual loss: forward-Laplacian fast path vs nested autodiff.

Times one jitted value-and-grad (w.r.t. the SIREN parameters) of

    L(θ) = mean_i (Δu_θ(x_i) - f(x_i))²

with the Laplacian computed three ways, side by side in one run:

* ``fast``      fieldpde.ops.value_grad_laplacian (value, gradient, Laplacian in one pass)
* ``hessian``   trace of jax.hessian per point, vmapped (the textbook way)
* ``jvp_grad``  forward-over-reverse: Σ_i e_iᵀ ∂(∇u)/∂x_i, vmapped

and compares the fast path with a matmul roofline: the multiply-add FLOPs its matrix
products need (forward (k+2)·n·Σ d_in·d_out·2, backward twice that) divided by the rate
this machine reaches on one large matmul of the same shape. Prints a table and the machine.

    python benchmarks/operators.py            # full grid (several minutes on 2 cores)
    python benchmarks/operators.py --quick    # the two target rows only
"""

import argparse
import os
import platform
import statistics
import time

import equinox as eqx
import jax
import jax.numpy as jnp

from fieldpde import SIREN, ops

DEPTH = 4


def loss_fn(method):
    def f(x):
        return jnp.sin(jnp.pi * x[..., 0]) * jnp.cos(jnp.pi * x[..., -1])

    def loss(net, x):
        if method == "fast":
            lap = ops.value_grad_laplacian(net, x).laplacian[..., 0]
        else:
            lap = jax.vmap(ops.laplacian(net, method=method))(x)[..., 0]
        return jnp.mean((lap - f(x)) ** 2)

    return eqx.filter_jit(eqx.filter_value_and_grad(loss))


def timeit(fn, *args, repeat: int) -> float:
    jax.block_until_ready(fn(*args))  # compile + warm up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def matmul_flops(n: int, d: int, width: int, k: int) -> float:
    sizes = [d] + [width] * (DEPTH - 1) + [1]
    forward = sum(2 * n * (k + 2) * a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    return 3 * forward  # backward: one product for the input cotangent, one for the weights


def peak_matmul_rate(n: int, width: int, k: int, repeat: int) -> float:
    """FLOP/s of one large (n (k+2), width) @ (width, width) product, the fast path's shape."""
    a = jax.random.normal(jax.random.key(0), (n * (k + 2), width), jnp.float32)
    b = jax.random.normal(jax.random.key(1), (width, width), jnp.float32)
    mm = jax.jit(jnp.matmul)
    return 2 * a.shape[0] * width * width / timeit(mm, a, b, repeat=repeat)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            names = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    dev = jax.devices()[0]
    return (
        f"{cpu}; {os.cpu_count()} cores; jax {jax.__version__} on {dev.platform} "
        f"({dev.device_kind}); float32; SIREN depth {DEPTH}"
    )


def run(configs, repeat: int):
    print(machine())
    header = (
        f"{'d':>2} {'width':>5} {'points':>6} | {'fast ms':>8} {'hessian ms':>10} "
        f"{'jvp_grad ms':>11} | {'hess/fast':>9} {'jvpg/fast':>9} | {'roofline ms':>11} "
        f"{'fast/roof':>9}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for d, width, n in configs:
        net = SIREN.init(d, width, 1, depth=DEPTH, key=jax.random.key(0))
        x = jax.random.uniform(jax.random.key(1), (n, d), minval=-1.0, maxval=1.0)
        t = {m: timeit(loss_fn(m), net, x, repeat=repeat) for m in ("fast", "hessian", "jvp_grad")}
        roof = matmul_flops(n, d, width, d) / peak_matmul_rate(n, width, d, repeat)
        row = dict(d=d, width=width, n=n, **t, roofline=roof)
        rows.append(row)
        print(
            f"{d:>2} {width:>5} {n:>6} | {t['fast'] * 1e3:8.2f} {t['hessian'] * 1e3:10.2f} "
            f"{t['jvp_grad'] * 1e3:11.2f} | {t['hessian'] / t['fast']:9.2f} "
            f"{t['jvp_grad'] / t['fast']:9.2f} | {roof * 1e3:11.2f} {t['fast'] / roof:9.2f}",
            flush=True,
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the two target rows")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.quick:
        configs = [(2, 128, 2048), (2, 256, 8192)]
    else:
        configs = [
            (d, w, n)
            for d in (2, 3)
            for w in (64, 128, 256)
            for n in (1024, 2048, 4096, 8192, 16384)
        ]
    rows = run(configs, args.repeat)
    target = next((r for r in rows if (r["d"], r["width"], r["n"]) == (2, 128, 2048)), None)
    roof = next((r for r in rows if (r["d"], r["width"], r["n"]) == (2, 256, 8192)), None)
    if target:
        ratio = target["hessian"] / target["fast"]
        print(
            f"target: fast >= 2.5x faster than hessian trace at d=2, width 128, 2048 points: "
            f"{ratio:.2f}x {'MET' if ratio >= 2.5 else 'NOT MET'}"
        )
    if roof:
        ratio = roof["fast"] / roof["roofline"]
        print(
            f"target: fast within 2x of the matmul roofline at 8192 points, width 256: "
            f"{ratio:.2f}x {'MET' if ratio <= 2 else 'NOT MET'}"
        )


if __name__ == "__main__":
    main()
