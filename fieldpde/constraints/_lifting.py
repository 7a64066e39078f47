r"""Distance functions of boundary parts, and the lifting of data that differ between parts.

A hard Dirichlet field $u = g + \phi N$ needs a distance $\phi$ that vanishes on the
Dirichlet parts of the boundary (and nowhere else in the domain), and a lifting $g$ that
equals each part's data on that part. With parts $i = 1 \dots k$, data $g_i$ and distance
functions $\phi_i$ (zero on part $i$, positive elsewhere in the domain), the
inverse-distance (transfinite) blend of Sukumar & Srivastava (CMAME 2022, eq. 31)

$$g(x) = \sum_i w_i(x)\, g_i(x), \qquad
  w_i = \frac{\phi_i^{-\mu}}{\sum_j \phi_j^{-\mu}}$$

equals $g_i$ on part $i$ (where $w_i = 1$ and every other weight is 0). With $\mu = 2$ the
weights have zero normal derivative on every part, so $\partial_n g = \sum_i w_i \partial_n
g_i$ there. Where two parts meet the blend is continuous only if their data agree, which
`fieldpde.problem.enforce_hard` checks.
"""

from collections.abc import Callable, Sequence
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..domains import AbstractDomain


def distance_scale(domain: AbstractDomain, names: Any = "boundary", n: int = 4096) -> float:
    """The largest value of the parts' distance function over `n` Sobol points of the domain.

    Args:
        domain: the domain.
        names: the boundary parts (see `fieldpde.domains.AbstractDomain.resolve_parts`).
        n: how many interior points to look at.

    Returns:
        A positive float (1 if the function is nowhere positive on the sample).

    Example:
        >>> from fieldpde.domains import Box
        >>> distance_scale(Box([0.0, 0.0], [2.0, 1.0]), "xmin") > 1.99
        True
    """
    x = domain.sample_interior(n, key=jax.random.key(0), method="sobol")
    phi = np.asarray(domain.part_distance(names, x))
    top = float(np.max(phi)) if phi.size else 0.0
    return top if top > 0 else 1.0


@final
class PartDistance(eqx.Module):
    r"""$\phi(x) / s$: the distance function of some boundary parts of a domain, rescaled.

    Attributes:
        domain: the domain.
        names: the boundary parts (see `fieldpde.domains.AbstractDomain.parts`).
        scale: $s$, e.g. the largest value of $\phi$ in the domain, so that the
            transform's factor is at most about 1 inside.

    Example:
        >>> import jax.numpy as jnp
        >>> from fieldpde.domains import Box
        >>> phi = PartDistance(Box([0.0, 0.0], [2.0, 1.0]), ("xmin",))
        >>> float(phi(jnp.array([0.5, 0.3]))), float(phi(jnp.array([0.0, 0.7])))
        (0.5, 0.0)
    """

    domain: AbstractDomain
    names: tuple[str, ...] = eqx.field(static=True)
    scale: float = eqx.field(static=True)

    def __init__(self, domain: AbstractDomain, names: Any = "boundary", scale: float = 1.0):
        """Build it.

        Args:
            domain: the domain.
            names: part names, groups or ``"boundary"`` (see `resolve_parts`).
            scale: divide the distance by this positive number.
        """
        self.domain = domain
        self.names = domain.resolve_parts(names, label="`names`: ")
        if not scale > 0:
            raise ValueError(f"`scale` must be > 0, got {scale!r}")
        self.scale = float(scale)

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        return self.domain.part_distance(self.names, x) / self.scale


@final
class Lifting(eqx.Module):
    r"""The inverse-distance blend $g = \sum_i w_i g_i$ of data given on boundary parts.

    Attributes:
        domain: the domain.
        parts: one tuple of part names per data function.
        values: the data $g_i$, pointwise ``(d,) -> ()`` or ``(m,)``, one per entry of
            `parts`.
        power: $\mu$ in $w_i \propto \phi_i^{-\mu}$.

    Example:
        $u = 1$ on the left side of the unit square and $u = 0$ on the right:

        >>> import jax.numpy as jnp
        >>> from fieldpde.domains import Box
        >>> g = Lifting(Box([0.0, 0.0], [1.0, 1.0]), [("xmin",), ("xmax",)],
        ...             [lambda x: 1.0, lambda x: 0.0])
        >>> [round(float(g(jnp.array([x, 0.5]))), 3) for x in (0.0, 0.25, 0.5, 1.0)]
        [1.0, 0.9, 0.5, 0.0]
    """

    domain: AbstractDomain
    parts: tuple[tuple[str, ...], ...] = eqx.field(static=True)
    values: tuple[Callable[[Array], Any], ...] = eqx.field(static=True)
    power: float = eqx.field(static=True)

    def __init__(
        self,
        domain: AbstractDomain,
        parts: Sequence[Any],
        values: Sequence[Callable[[Array], Any]],
        power: float = 2.0,
    ):
        """Build it.

        Args:
            domain: the domain.
            parts: part names (or groups) per data function.
            values: the data functions, as many as `parts`.
            power: the exponent $\\mu \\ge 1$.
        """
        if len(parts) != len(values) or not parts:
            raise ValueError(
                f"`parts` and `values` must be non-empty and as long as each other, got "
                f"{len(parts)} and {len(values)}"
            )
        self.domain = domain
        self.parts = tuple(domain.resolve_parts(p, label="`parts`: ") for p in parts)
        self.values = tuple(values)
        if not power >= 1:
            raise ValueError(f"`power` must be >= 1, got {power!r}")
        self.power = float(power)

    def weights(self, x: Float[Array, " d"]) -> Float[Array, " k"]:
        """The blending weights $w_i(x)$, which sum to 1.

        Args:
            x: one point, shape ``(d,)``.

        Returns:
            Shape ``(k,)``, one weight per entry of `parts`.
        """
        phis = jnp.stack([jnp.abs(self.domain.part_distance(p, x)) for p in self.parts])
        # phi_i^-mu / sum_j phi_j^-mu written with the smallest phi m as
        # (m/phi_i)^mu / sum_j (m/phi_j)^mu: the same function, finite where a phi is 0
        m = jnp.min(phis)
        positive = phis > 0
        ratios = jnp.where(positive, m / jnp.where(positive, phis, 1.0), 1.0) ** self.power
        return ratios / jnp.sum(ratios)

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, "..."]:
        w = self.weights(x)
        out = 0.0
        for i, fn in enumerate(self.values):
            out = out + w[i] * jnp.asarray(fn(x), x.dtype)
        return jnp.asarray(out, x.dtype)
