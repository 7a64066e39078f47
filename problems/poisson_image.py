r"""Poisson image reconstruction (SIREN paper, Sec. 4.1): recover an image from its gradients.

A SIREN $\Phi$ is fitted so that $\nabla\Phi \approx \nabla f$ at every pixel of the
cameraman image (scikit-image ships it; install the ``images`` extra). Gradients fix the
image up to a constant, so the reconstruction is shifted to the image's mean before the
error and the PSNR (data range 2, the image being scaled to $[-1, 1]$) are computed.

A sampled image has no unique gradient, and the estimator, not the network, sets how well
the image can be recovered. Three are offered (`gradients`):

* ``"spectral"`` (default): the exact gradient, at the pixel centres, of the image's cosine
  series (the DCT interpolant, which passes through every pixel). A field whose gradient
  matches it can reproduce the image exactly.
* ``"central"``: central differences (``numpy.gradient``); they damp the finest detail.
* ``"sobel"``: the Sobel filter of the SIREN paper's code, which also smooths across each
  derivative's direction. With it the PSNR stays near 29 dB however low the loss goes,
  because the data then describe a blurred image.

The paper reports 32.91 dB for SIREN (width 256, full batches, Sobel data). These defaults
(width 128, full 128^2 batches, 2000 steps, spectral data) are sized for a CPU;
``benchmarks/poisson_image.py`` compares the estimators.
"""

from typing import Literal

import jax.numpy as jnp
import numpy as np

from fieldpde import SIREN, Problem
from fieldpde.app import Settings
from fieldpde.constraints import Observations
from fieldpde.domains import Box

DOMAIN = Box([-1.0, -1.0], [1.0, 1.0])

Estimator = Literal["spectral", "central", "sobel"]

SETTINGS = Settings(
    steps=2000,
    learning_rate=3e-4,
    resample_every=100,
    lbfgs_steps=0,
    points=128 * 128,
    x64=False,
    grid=128,
)


def image(side: int = 128) -> np.ndarray:
    """The cameraman image, block-averaged to ``side x side``, scaled to [-1, 1] (rows = y)."""
    try:
        from skimage import data
    except ImportError as err:  # pragma: no cover - exercised only without the extra
        raise SystemExit(
            "the poisson_image problem needs scikit-image: pip install 'fieldpde[images]'"
        ) from err
    img = data.camera().astype(np.float64) / 255.0
    f = img.shape[0] // side
    img = img[: side * f, : side * f].reshape(side, f, side, f).mean(axis=(1, 3))
    return 2.0 * img - 1.0


def pixel_grid(side: int) -> np.ndarray:
    """Pixel centres on [-1, 1]^2 as (x, y) points, row-major like the image."""
    c = np.linspace(-1.0, 1.0, side)
    X, Y = np.meshgrid(c, c, indexing="xy")
    return np.stack([X.ravel(), Y.ravel()], axis=-1)


def _spectral_derivative(img: np.ndarray, axis: int) -> np.ndarray:
    r"""Derivative along `axis`, per pixel, of the image's cosine series at the pixel centres.

    With $f_j = \sum_k a_k \cos(\pi k (j + 1/2) / N)$ (a DCT-II), the derivative is
    $-\sum_{k \ge 1} a_k (\pi k / N) \sin(\pi k (j + 1/2) / N)$, a DST-III.
    """
    from scipy import fft

    n = img.shape[axis]
    a = np.moveaxis(fft.dct(img, type=2, axis=axis), axis, 0) / n  # a_k, k >= 1
    k = np.arange(1, n).reshape((-1,) + (1,) * (img.ndim - 1))
    b = -a[1:] * np.pi * k / n
    # scipy's DST-III weighs its first n - 1 inputs by 2 and the last (frequency n) by 1
    x = np.concatenate([b / 2.0, np.zeros_like(b[:1])], axis=0)
    return np.moveaxis(fft.dst(x, type=3, axis=0), 0, axis)


def gradients(img: np.ndarray, method: Estimator = "spectral") -> np.ndarray:
    """Image gradient in coordinate units (pixel spacing h = 2/(n-1)), shape (n*n, 2) as (x, y).

    `method` is ``"spectral"``, ``"central"`` or ``"sobel"`` (see the module docstring).
    """
    from scipy import ndimage

    h = 2.0 / (img.shape[0] - 1)
    if method == "spectral":
        gx, gy = _spectral_derivative(img, 1) / h, _spectral_derivative(img, 0) / h
    elif method == "central":
        gy, gx = np.gradient(img, h)
    elif method == "sobel":
        # a ramp of slope a per pixel gives 8a
        gx = ndimage.sobel(img, axis=1) / (8 * h)
        gy = ndimage.sobel(img, axis=0) / (8 * h)
    else:
        raise ValueError(f"`method` must be 'spectral', 'central' or 'sobel', got {method!r}")
    return np.stack([gx.ravel(), gy.ravel()], axis=-1)


class _ImageReference:
    """The image as a reference solution, looked up at the nearest pixel."""

    def __init__(self, img: np.ndarray):
        self.img = img

    def __call__(self, points) -> np.ndarray:
        side = self.img.shape[0]
        idx = np.clip(
            np.rint((np.asarray(points) + 1.0) / 2.0 * (side - 1)).astype(int), 0, side - 1
        )
        return self.img[idx[..., 1], idx[..., 0]]


def problem(
    points: int = SETTINGS.points,
    side: int = 128,
    gradient_estimator: Estimator = "spectral",
) -> Problem:
    img = image(side)
    obs = Observations(
        jnp.asarray(pixel_grid(side)),
        jnp.asarray(gradients(img, gradient_estimator)),
        derivative="grad",
        batch_size=min(points, side * side),
    )
    return Problem(
        {"gradients": obs}, reference=_ImageReference(img), domain=DOMAIN, name="poisson_image"
    )


def field(key, *, width=128, depth=5, omega=30.0, dtype=None):
    return SIREN.init(
        2, width, 1, depth=depth, key=key, first_omega=omega, hidden_omega=omega, dtype=dtype
    )


def psnr(field, side: int = 128) -> float:
    """PSNR (dB) of the reconstruction after matching the image's mean; data range 2."""
    img = image(side)
    u = np.asarray(field(jnp.asarray(pixel_grid(side), dtype=jnp.float32))).reshape(side, side)
    u = u - u.mean() + img.mean()
    return float(10 * np.log10(4.0 / np.mean((u - img) ** 2)))
