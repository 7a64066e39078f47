"""SIREN vs a same-size ReLU MLP on f(x) = sin(8πx) + 0.5 cos(20πx).

Both networks have width 64 and depth 4 and take 2000 Adam steps at lr 1e-3 on 256 points
(the reference notebook's setting; it reports train MSE 1e-6 for SIREN, 7e-2 for ReLU).

    python examples/siren_vs_relu.py [--steps 2000] [--out out]
"""

import argparse
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fieldpde.nn import MLP, SIREN  # noqa: E402
from fieldpde.train import minimize  # noqa: E402


def target(x):
    return jnp.sin(8 * jnp.pi * x) + 0.5 * jnp.cos(20 * jnp.pi * x)


def main(steps: int = 2000, out: str = "out") -> dict[str, float]:
    x = jnp.linspace(-1.0, 1.0, 256)[:, None]
    y = target(x)
    k_siren, k_relu = jax.random.split(jax.random.key(0))
    nets = {
        "SIREN": SIREN.init(1, 64, 1, depth=4, key=k_siren),
        "ReLU MLP": MLP.init(1, 64, 1, depth=4, key=k_relu, activation="relu"),
    }
    fitted, curves, results = {}, {}, {}
    for name, net in nets.items():
        t0 = time.perf_counter()
        fitted[name], curves[name] = minimize(
            lambda n: jnp.mean((n(x) - y) ** 2), net, steps=steps, learning_rate=1e-3
        )
        results[name] = float(jnp.mean((fitted[name](x) - y) ** 2))
        print(f"{name:9s} train MSE {results[name]:.3e}  ({time.perf_counter() - t0:.1f} s)")

    x_fine = jnp.linspace(-1.0, 1.0, 1024)[:, None]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4))
    axes[0].plot(x_fine[:, 0], target(x_fine)[:, 0], "k--", lw=1, label="truth")
    for name, net in fitted.items():
        axes[0].plot(x_fine[:, 0], net(x_fine)[:, 0], label=name)
        axes[1].semilogy(curves[name], label=name)
    axes[0].set(xlabel="x", ylabel="f(x)", title=f"Fit after {steps} Adam steps")
    axes[1].set(xlabel="step", ylabel="train MSE", title="Training loss")
    for ax in axes:
        ax.legend()
    fig.tight_layout()
    path = Path(out) / "siren_vs_relu.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"figure: {path}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--out", default="out")
    args = parser.parse_args()
    main(args.steps, args.out)
