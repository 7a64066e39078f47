"""The SIREN paper notebook's data and network, shared by its image-fit and Poisson examples.

The notebook (Sitzmann et al.'s Colab, reproduced on the reference page) loads the
cameraman image with ``torchvision.transforms.Resize(side)`` (PIL bilinear resampling with
antialiasing) then ``ToTensor`` and ``Normalize(0.5, 0.5)``, so the pixels lie in [-1, 1];
its coordinates are ``torch.meshgrid`` of ``linspace(-1, 1, side)`` in ``ij`` order
(coordinate 0 runs down the rows), flattened row-major; its network is
``Siren(2, 256, hidden_layers=3, 1, outermost_linear=True)``: in fieldpde terms a depth-5
SIREN with ``readout_init="paper"``, trained with Adam at lr 1e-4 on full batches.
"""

import numpy as np

SEED = 2  # see docs/examples.md: the paper's torch seed cannot be reproduced in JAX


def cameraman(side: int) -> tuple[np.ndarray, bool]:
    """The notebook's ``side x side`` cameraman in [-1, 1] (float32), and whether it is real.

    Without scikit-image (which ships the image) a synthetic stand-in of the same size and
    range is returned instead, so the examples' fast mode runs anywhere; the paper's numbers
    need the real image (``pip install 'fieldpde[images]'``).
    """
    from PIL import Image

    try:
        from skimage import data
    except ImportError:
        print("scikit-image is not installed: using a synthetic image (not the paper's data)")
        t = np.linspace(-1.0, 1.0, side, dtype=np.float32)
        Y, X = np.meshgrid(t, t, indexing="ij")
        pattern = np.sin(6 * X) * np.cos(4 * Y) + (X**2 + Y**2 < 0.3)
        pattern = pattern / np.abs(pattern).max()
        return pattern.astype(np.float32), False
    img = Image.fromarray(data.camera()).resize((side, side), Image.BILINEAR)
    pixels = np.asarray(img, dtype=np.float32) / 255.0
    return (pixels - 0.5) / 0.5, True


def mgrid(side: int) -> np.ndarray:
    """The notebook's ``get_mgrid(side, 2)``: ``(side**2, 2)`` points of [-1, 1]^2, ij order."""
    t = np.linspace(-1.0, 1.0, side, dtype=np.float32)
    return np.stack(np.meshgrid(t, t, indexing="ij"), axis=-1).reshape(-1, 2)


def sobel_gradients(img: np.ndarray) -> np.ndarray:
    """The notebook's ``PoissonEqn`` target: Sobel filters of the ``(1, side, side)`` tensor.

    ``scipy.ndimage.sobel`` smooths along every other axis, the singleton channel axis
    included (``[1, 2, 1]`` with reflection sums to 4), so these are 4 times the 2-D Sobel
    filter's values; the notebook fits them as they are, and so does this.
    """
    from scipy import ndimage

    im3 = img[None].astype(np.float32)
    gx = ndimage.sobel(im3, axis=1)[0]
    gy = ndimage.sobel(im3, axis=2)[0]
    return np.stack([gx, gy], axis=-1).reshape(-1, 2)


def paper_siren(key, width: int = 256):
    """``Siren(2, width, hidden_layers=3, 1, outermost_linear=True)`` of the notebook."""
    import jax.numpy as jnp

    from fieldpde.nn import SIREN

    return SIREN.init(2, width, 1, depth=5, key=key, readout_init="paper", dtype=jnp.float32)


def curve_and_images(
    losses,
    paper: dict,
    *,
    label: str,
    ylabel: str,
    title: str,
    shown,
    side: int,
    real: bool,
    path,
):
    """The loss curve beside the paper's points, then the images in `shown`; saved to `path`."""
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 1 + len(shown), figsize=(5 * (1 + len(shown)), 4.6))
    axes[0].semilogy(losses, label=label)
    axes[0].semilogy(list(paper), list(paper.values()), "o", label="paper notebook")
    axes[0].set(xlabel="step", ylabel=ylabel, title=title)
    axes[0].legend()
    for ax, (image, name) in zip(axes[1:], shown, strict=True):
        ax.imshow(np.asarray(image).reshape(side, side), cmap="gray")
        ax.set(title=name if real else f"{name} (synthetic image)")
        ax.axis("off")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"figure: {path}")
    return path
