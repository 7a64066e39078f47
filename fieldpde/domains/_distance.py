r"""Approximate distance functions (ADFs) and the R-functions that compose them.

An ADF $\phi$ of a domain is zero on its boundary, positive inside and negative outside, and
*normalised to first order*: $|\nabla\phi| = 1$ on the smooth parts of the boundary, so
$\phi$ behaves like the signed distance there (Sukumar & Srivastava, "Exact imposition of
boundary conditions with distance functions in physics-informed deep neural networks",
CMAME 2022). Set operations compose ADFs by Rvachev's R-functions (the $R_0$ system):

$$\phi_1 \wedge \phi_2 = \phi_1 + \phi_2 - \sqrt{\phi_1^2 + \phi_2^2}, \qquad
  \phi_1 \vee \phi_2 = \phi_1 + \phi_2 + \sqrt{\phi_1^2 + \phi_2^2},$$

whose sign is that of the Boolean "and" / "or" of the signs, and which keep the first-order
normalisation wherever one argument vanishes and the other does not. A segment from $p_1$ to
$p_2$ (length $L$, centre $c$) has the trimmed ADF

$$\phi = \sqrt{f^2 + \Big(\frac{\sqrt{t^2 + f^4} - t}{2}\Big)^2}, \qquad
  f = \frac{(p_2 - p_1) \times (x - p_1)}{L}, \quad t = \frac{(L/2)^2 - |x - c|^2}{L},$$

zero on the segment only; several pieces join by the R-equivalence
$\phi = (\sum_i \phi_i^{-1})^{-1}$, computed here without dividing by a vanishing $\phi_i$.

Every function acts on the last axis and broadcasts over leading ones, so it serves one
point or a batch, and every square root has a finite derivative at zero (the derivative is
taken as 0 there), so the hard-constraint transforms built from them can be differentiated
everywhere.
"""

from collections.abc import Sequence

import jax.numpy as jnp
from jaxtyping import Array, Float


def safe_sqrt(s: Array) -> Array:
    """$\\sqrt{s}$ for $s \\ge 0$ whose derivative at $s = 0$ is 0 instead of infinite."""
    positive = s > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, s, 1.0)), 0.0)


def r_and(a: Array, b: Array) -> Array:
    """The R-conjunction $a + b - \\sqrt{a^2 + b^2}$: positive where both are."""
    return a + b - safe_sqrt(a * a + b * b)


def r_or(a: Array, b: Array) -> Array:
    """The R-disjunction $a + b + \\sqrt{a^2 + b^2}$: positive where either is."""
    return a + b + safe_sqrt(a * a + b * b)


def _fold(op, values: Sequence[Array]) -> Array:
    """Combine `values` pairwise in a balanced tree (neighbours first)."""
    items = list(values)
    if not items:
        raise ValueError("nothing to combine")
    while len(items) > 1:
        nxt = [op(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        if len(items) % 2:
            nxt.append(items[-1])
        items = nxt
    return items[0]


def r_and_all(values: Sequence[Array]) -> Array:
    """The R-conjunction of several ADFs (the intersection of their domains)."""
    return _fold(r_and, values)


def r_or_all(values: Sequence[Array]) -> Array:
    """The R-disjunction of several ADFs (the union of their domains)."""
    return _fold(r_or, values)


def equivalence(values: Sequence[Array]) -> Array:
    r"""$(\sum_i \phi_i^{-1})^{-1}$ of non-negative $\phi_i$, 0 where any of them is.

    Written as $m / \sum_i (m / \phi_i)$ with $m = \min_i \phi_i$, which is the same function
    (it does not depend on $m$) but never divides by zero and never underflows.
    """
    phis = jnp.stack(list(values), axis=-1)
    m = jnp.min(phis, axis=-1, keepdims=True)
    positive = phis > 0
    ratios = jnp.where(positive, m / jnp.where(positive, phis, 1.0), 1.0)
    return m[..., 0] / jnp.sum(ratios, axis=-1)


def half_space(x: Float[Array, "*batch d"], axis: int, offset: float, sign: float) -> Array:
    """$\\pm(x_i - a)$: the signed distance to the plane $x_i = a$, positive on one side."""
    return sign * (x[..., axis] - offset)


def box_distance(x: Float[Array, "*batch d"], lo: Sequence[float], hi: Sequence[float]) -> Array:
    """The ADF of a box: each axis's two faces by R-conjunction, then the axes."""
    per_axis = [
        r_and(half_space(x, i, a, 1.0), half_space(x, i, b, -1.0))
        for i, (a, b) in enumerate(zip(lo, hi, strict=True))
    ]
    return r_and_all(per_axis)


def ball_distance(x: Float[Array, "*batch d"], center: Sequence[float], radius: float) -> Array:
    """$(r^2 - |x - c|^2) / (2r)$: zero on the sphere, gradient of length 1 there."""
    c = jnp.asarray(center, x.dtype)
    return (radius**2 - jnp.sum((x - c) ** 2, axis=-1)) / (2.0 * radius)


def segment_distance(
    x: Float[Array, "*batch 2"], p1: Sequence[float], p2: Sequence[float]
) -> Array:
    """The trimmed ADF of the segment $p_1 p_2$ (unsigned: zero on the segment only)."""
    a = jnp.asarray(p1, x.dtype)
    b = jnp.asarray(p2, x.dtype)
    e = b - a
    length = jnp.sqrt(jnp.sum(e * e))
    rel = x - a
    f = (e[0] * rel[..., 1] - e[1] * rel[..., 0]) / length
    centre = 0.5 * (a + b)
    t = ((0.5 * length) ** 2 - jnp.sum((x - centre) ** 2, axis=-1)) / length
    psi = safe_sqrt(t * t + f**4)
    return safe_sqrt(f * f + (0.5 * (psi - t)) ** 2)
