"""The SIREN paper's image fit: a SIREN with the paper's readout fits the 256^2 cameraman.

The paper notebook's setting (see `_siren_paper.py`): 65536 pixel coordinates in [-1, 1]^2,
``Siren(2, 256, 3 hidden layers, 1, outermost_linear=True)`` (a depth-5 `SIREN` with
``readout_init="paper"``), the mean squared error over all pixels, full-batch Adam at lr
1e-4 for 500 steps. The notebook prints loss 0.321 at step 0 and 0.00886 at step 100
(0.00114 at step 490). The figure shows the loss curve against the notebook's, the fitted
image, its gradient norm and its Laplacian (from `fieldpde.ops.value_grad_laplacian`).
The image needs scikit-image (``pip install 'fieldpde[images]'``).

    python examples/siren_image_fit.py [--steps 500] [--seed 2] [--out out]
"""

import argparse
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _siren_paper import SEED, cameraman, curve_and_images, mgrid, paper_siren  # noqa: E402

from fieldpde.ops import value_grad_laplacian  # noqa: E402
from fieldpde.train import minimize  # noqa: E402

# the notebook's printed losses (every 10 steps; a few of them)
PAPER = {0: 0.321211, 10: 0.052471, 50: 0.012846, 100: 0.008857, 200: 0.004606, 300: 0.002219,
         400: 0.001458, 490: 0.001136}  # fmt: skip


def run(steps: int = 500, side: int = 256, width: int = 256, seed: int = SEED):
    """Fit the image; returns the network, the loss before each step and the image."""
    img, real = cameraman(side)
    x = jnp.asarray(mgrid(side))
    y = jnp.asarray(img.reshape(-1, 1))
    net = paper_siren(jax.random.key(seed), width)
    t0 = time.perf_counter()
    net, losses = minimize(
        lambda m: jnp.mean((m(x) - y) ** 2), net, steps=steps, optimizer=optax.adam(1e-4)
    )
    losses = np.asarray(losses)
    return net, losses, img, real, time.perf_counter() - t0


def main(
    steps: int = 500, side: int = 256, width: int = 256, seed: int = SEED, out: str = "out"
) -> dict:
    net, losses, img, real, seconds = run(steps, side, width, seed)
    print(f"{steps} Adam steps on {side}^2 pixels, width {width}, seed {seed}: {seconds:.0f} s")
    report = {}
    for step in sorted(PAPER):
        if step < steps:
            report[step] = float(losses[step])
            print(f"step {step:4d}  loss {losses[step]:.6f}   (paper {PAPER[step]:.6f})")

    d = value_grad_laplacian(net, jnp.asarray(mgrid(side)))
    shown = [
        (d.value[:, 0], "SIREN output"),
        (jnp.linalg.norm(d.grad[:, 0], axis=-1), "|gradient|"),
        (d.laplacian[:, 0], "Laplacian"),
    ]
    curve_and_images(
        losses,
        PAPER,
        label="fieldpde",
        ylabel="MSE",
        title="image fit loss",
        shown=shown,
        side=side,
        real=real,
        path=Path(out) / "siren_image_fit.png",
    )
    return {"losses": report, "real_image": real, "seconds": seconds}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", default="out")
    args = parser.parse_args()
    main(args.steps, seed=args.seed, out=args.out)
