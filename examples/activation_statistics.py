"""The SIREN paper's activation-statistics figure: Gaussian / arcsine alternation.

A depth-6, width-2048 SIREN with the Sitzmann init is evaluated on 2048 points of [-1, 1].
Each row shows the histogram of one layer's pre-activations (against the Gaussian
N(0, s²) predicted from the previous layer: s² = c/3·E[h²] + ω²/(3d)) and of its
post-activations (against the arcsine density 1/(π√(1-y²))). The third column plots one
unit against x for this init and for a naive N(0, 1) weight init: the naive network's sines
saturate, so its units are arcsine-distributed too but have lost all structure in x (white
noise), while the Sitzmann units stay smooth functions of the input.

    python examples/activation_statistics.py [--width 2048] [--out out]
"""

import argparse
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fieldpde.nn import SIREN, activation_statistics  # noqa: E402


def naive_init(net: SIREN, key) -> SIREN:
    """Replace every weight with N(0, 1) draws (what Theorem 1 warns against)."""
    keys = jax.random.split(key, len(net.layers))
    Ws = [jax.random.normal(k, layer.W.shape) for k, layer in zip(keys, net.layers, strict=True)]
    return eqx.tree_at(lambda n: [layer.W for layer in n.layers], net, Ws)


def main(width: int = 2048, depth: int = 6, out: str = "out") -> list[dict[str, float]]:
    omega, c = 30.0, 6.0
    net = SIREN.init(1, width, 1, depth=depth, key=jax.random.key(0))
    x = jnp.linspace(-1.0, 1.0, 2048)[:, None]
    stats = activation_statistics(net, x)
    naive = activation_statistics(naive_init(net, jax.random.key(1)), x)
    rows = len(stats) - 1  # the linear readout has no nonlinearity
    fig, axes = plt.subplots(rows, 3, figsize=(13, 2.2 * rows))
    y = np.linspace(-0.999, 0.999, 400)
    summaries = []
    for i in range(rows):
        pre = np.asarray(stats[i].pre).ravel()
        post = np.asarray(stats[i].post).ravel()
        summaries.append(stats[i].summary())
        ax_pre, ax_post, ax_naive = axes[i]
        ax_pre.hist(pre, bins=120, density=True, color="C0", alpha=0.7)
        if i > 0:
            prev = np.asarray(stats[i - 1].post)
            s2 = c / 3 * np.mean(prev**2) + omega**2 / (3 * width)
            z = np.linspace(pre.min(), pre.max(), 400)
            ax_pre.plot(z, np.exp(-(z**2) / (2 * s2)) / np.sqrt(2 * np.pi * s2), "k--", lw=1)
        ax_pre.set_ylabel(f"layer {i}")
        ax_post.hist(post, bins=120, density=True, color="C1", alpha=0.7)
        ax_post.plot(y, 1 / (np.pi * np.sqrt(1 - y**2)), "k--", lw=1)
        ax_post.set_ylim(0, 3)
        ax_naive.plot(x[:, 0], naive[i].post[:, 0], color="C3", lw=0.5, label="naive N(0,1)")
        ax_naive.plot(x[:, 0], stats[i].post[:, 0], color="C0", lw=1.2, label="Sitzmann")
        print(
            f"layer {i}: pre var {summaries[-1]['pre_var']:9.3f}   "
            f"post var {summaries[-1]['post_var']:.3f}"
        )
    axes[0, 0].set_title("pre-activation (dashed: predicted Gaussian)")
    axes[0, 1].set_title("post-activation (dashed: arcsine)")
    axes[0, 2].set_title("one unit vs x")
    axes[0, 2].legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    path = Path(out) / "activation_statistics.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    print(f"figure: {path}")
    return summaries


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=2048)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--out", default="out")
    args = parser.parse_args()
    main(args.width, args.depth, args.out)
