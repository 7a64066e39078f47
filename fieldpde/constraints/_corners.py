r"""A distance function that vanishes like the solution at reentrant corners.

Near a corner of interior angle $\alpha > \pi$ between two Dirichlet parts, the solution
of an elliptic problem behaves like $r^{\beta}$, $\beta = \pi/\alpha$ ($r^{2/3}$ at the
L-shape's inner corner), while a distance function $\phi$ vanishes like $r$. In the hard
field $u = g + \phi N$ the network would have to be singular, $N \sim r^{\beta - 1}$.
Multiplying the distance by $(\rho_c / L)^{\beta_c - 1}$ at each corner $c$, with
$\rho_c = \sqrt{|x - c|^2 + \epsilon^2}$ and $L$ the bounding box's diagonal, gives a
factor that vanishes like $r^{\beta_c}$ there: the network stays bounded. Away from the
corners the factor is smooth and at least the distance ($\rho_c \le L$, $\beta_c < 1$),
and it is still zero exactly where $\phi$ is.
"""

from collections.abc import Callable
from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ..domains import AbstractDomain, interior_angles, reentrant_corners


@final
class SingularCorners(eqx.Module):
    r"""$\phi(x) \prod_c (\rho_c(x) / L)^{\beta_c - 1}$, $\beta_c = \pi / \alpha_c$.

    Attributes:
        distance: $\phi$, a callable of one point.
        corners: the corner points $c$.
        exponents: $\beta_c$ per corner (in $(0, 1)$).
        length: $L$.

    Example:
        >>> import jax.numpy as jnp
        >>> from fieldpde.domains import Polygon
        >>> from fieldpde.constraints import PartDistance
        >>> L = Polygon([(-1, -1), (1, -1), (1, 0), (0, 0), (0, 1), (-1, 1)])
        >>> phi = SingularCorners.of(L, PartDistance(L))
        >>> phi.exponents
        (0.6666666666666666,)
        >>> r = jnp.array([1e-2, 1e-4])  # along the bisector into the domain: phi ~ r^(2/3)
        >>> v = jnp.stack([phi(jnp.array([-t, -t]) / jnp.sqrt(2.0)) for t in r])
        >>> round(float(jnp.log(v[0] / v[1]) / jnp.log(r[0] / r[1])), 2)
        0.67
    """

    distance: Callable[[Array], Array]
    corners: tuple[tuple[float, ...], ...] = eqx.field(static=True)
    exponents: tuple[float, ...] = eqx.field(static=True)
    length: float = eqx.field(static=True)

    def __init__(
        self, distance: Callable[[Array], Array], corners: Any, exponents: Any, length: float
    ):
        if not callable(distance):
            raise TypeError(f"`distance` must be callable, got {type(distance).__name__}")
        corners = tuple(tuple(float(v) for v in c) for c in np.asarray(corners, np.float64))
        exponents = tuple(float(b) for b in exponents)
        if len(exponents) != len(corners):
            raise ValueError(
                f"`exponents` gives {len(exponents)} values for {len(corners)} corners"
            )
        if any(not 0.0 < b < 1.0 for b in exponents):
            raise ValueError(f"`exponents` must lie in (0, 1) (reentrant corners), got {exponents}")
        if not length > 0:
            raise ValueError(f"`length` must be positive, got {length!r}")
        self.distance = distance
        self.corners = corners
        self.exponents = exponents
        self.length = float(length)

    @classmethod
    def of(cls, domain: AbstractDomain, distance: Callable[[Array], Array]):
        """The factor for every reentrant corner of a 2-D `domain`
        (`fieldpde.domains.reentrant_corners`), or `distance` itself when it has none."""
        corners = reentrant_corners(domain) if domain.dim == 2 else np.zeros((0, domain.dim))
        if not len(corners):
            return distance
        betas = np.pi / interior_angles(domain, corners)
        lo, hi = (np.asarray(a, np.float64) for a in domain.bounding_box())
        return cls(distance, corners, betas, float(np.linalg.norm(hi - lo)))

    def __call__(self, x: Array) -> Array:
        out = self.distance(x)
        eps2 = (1e-6 * self.length) ** 2  # keeps the factor finite at the corner itself
        for c, beta in zip(self.corners, self.exponents, strict=True):
            rho2 = (jnp.sum((x - jnp.asarray(c, x.dtype)) ** 2) + eps2) / self.length**2
            out = out * rho2 ** (0.5 * (beta - 1.0))
        return out
