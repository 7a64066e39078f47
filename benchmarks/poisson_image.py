"""Poisson image reconstruction: PSNR for each gradient estimator, side by side.

The SIREN paper fits the cameraman image from its Sobel gradients (32.91 dB). The data a
field is fitted to bound what it can recover, so this benchmark runs the same network and
training (``problems/poisson_image.py`` defaults) on the three estimators the problem
offers and prints the PSNR after matching the image's mean, the final loss and the wall
time. A lower loss with Sobel data does not raise the PSNR: those data describe a blurred
image.

    python benchmarks/poisson_image.py                     # defaults, all estimators
    python benchmarks/poisson_image.py --steps 500 sobel   # a shorter check of one
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_DB = 32.9


def main():
    sys.path.insert(0, str(ROOT))
    import inspect

    from fieldpde.app import load_problem_file

    loaded = load_problem_file("poisson_image")
    module, settings = loaded.module, loaded.settings
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("estimators", nargs="*", default=["spectral", "central", "sobel"])
    parser.add_argument("--steps", type=int, default=settings.steps)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import jax
    import jax.numpy as jnp

    from fieldpde import fit

    net = {k: p.default for k, p in inspect.signature(module.field).parameters.items()}
    side = inspect.signature(module.problem).parameters["side"].default
    print(
        f"{platform.processor() or platform.machine()}; {os.cpu_count()} cores; "
        f"jax {jax.__version__} on {jax.devices()[0].platform}; SIREN {net['width']}x"
        f"{net['depth']} (omega {net['omega']}), {settings.points} pixels/step, {args.steps} "
        f"Adam steps (cosine from {settings.learning_rate}), {side}^2 cameraman"
    )
    rows = []
    for name in args.estimators:
        problem = module.problem(points=settings.points, gradient_estimator=name)
        field = module.field(jax.random.key(args.seed), dtype=jnp.float32)
        t0 = time.perf_counter()
        result = fit(
            problem,
            field,
            key=jax.random.key(args.seed + 1),
            steps=args.steps,
            learning_rate=settings.learning_rate,
            resample_every=settings.resample_every,
            progress=False,
            dtype=jnp.float32,
        )
        wall = time.perf_counter() - t0
        rows.append((name, module.psnr(result.field), result.final_loss, wall))
        print(f"  {name}: {rows[-1][1]:.2f} dB in {wall:.0f} s", flush=True)
    header = f"{'estimator':10s} {'PSNR dB':>8s} {'loss':>10s} {'wall s':>7s}"
    print(f"\n{header}  target >= {TARGET_DB}")
    for name, psnr, loss, wall in rows:
        met = "MET" if psnr >= TARGET_DB else "not met"
        print(f"{name:10s} {psnr:8.2f} {loss:10.3e} {wall:7.0f}  {met}")


if __name__ == "__main__":
    main()
