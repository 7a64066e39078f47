r"""Boundary conditions: Dirichlet $u = g$, Neumann $\partial_n u = h$, Robin $a u + b \partial_n u = g$."""

from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from ..domains import AbstractDomain
from ..ops import value_grad_laplacian
from ._base import AbstractConstraint, Batch, Norm, check_norm
from ._region import (
    Part,
    as_pointwise,
    check_region,
    field_values,
    pointwise_values,
    region_measure,
    sample_region,
)


def _normal_derivative(field: Any, batch: Batch) -> Array:
    """$\\partial u / \\partial n = \\nabla u \\cdot n$ per point and output, ``(n, m)``."""
    if batch.normals is None:
        raise ValueError("a normal derivative needs boundary points with normals")
    grad = value_grad_laplacian(field, batch.points).grad  # (n, m, d)
    return jnp.einsum("nmd,nd->nm", grad, batch.normals)


class _BoundaryConstraint(AbstractConstraint):
    """Shared fields and sampling of the boundary constraints (not public)."""

    domain: eqx.AbstractVar[AbstractDomain]
    num_points: eqx.AbstractVar[int]
    method: eqx.AbstractVar[str]
    part: eqx.AbstractVar[Part]

    def sample(self, key: PRNGKeyArray) -> Batch:
        return sample_region(self.domain, self.part, self.num_points, key, self.method)

    @property
    def measure(self) -> float:
        return region_measure(self.domain, self.part)




def _init_region(self, domain, part, num_points, method, weight, norm, owner):
    self.num_points = check_region(domain, part, num_points, owner)
    self.domain = domain
    self.part = part
    self.method = method
    self.weight = float(weight)
    self.norm = check_norm(norm)


@final
class Dirichlet(_BoundaryConstraint):
    """Dirichlet data $u = g$ on the boundary.

    Attributes:
        value: $g$, a callable of one point (``(d,) -> ()`` or ``(m,)``) or a number.
        domain: the domain whose boundary is sampled (``part="boundary"``; a space-time
            domain may use ``"lateral"`` or ``"initial"``).
        num_points, method, weight, norm: as for `Residual`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde.domains import Box
        >>> bc = Dirichlet(lambda x: x[0], Box([0.0, 0.0], [1.0, 1.0]), num_points=64)
        >>> batch = bc.sample(jax.random.key(0))
        >>> float(bc.loss(lambda x: x[..., :1], batch))   # u = x meets g = x exactly
        0.0
    """

    value: Any = eqx.field(static=True)
    domain: AbstractDomain
    num_points: int = eqx.field(static=True)
    method: str = eqx.field(static=True)
    part: Part = eqx.field(static=True)
    weight: float = eqx.field(static=True)
    norm: Norm = eqx.field(static=True)

    def __init__(self, value: Any, domain: AbstractDomain, *, num_points: int = 256,
                 method: str = "sobol", weight: float = 1.0, norm: Norm = "squared",
                 part: Part = "boundary"):
        self.value = as_pointwise(value, "value")
        _init_region(self, domain, part, num_points, method, weight, norm, "Dirichlet")

    def residual(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, "n r"]:
        return field_values(field, batch.points) - pointwise_values(self.value, batch.points)


@final
class Neumann(_BoundaryConstraint):
    """Neumann data $\\partial u/\\partial n = h$, with the outward unit normal $n$.

    Attributes:
        flux: $h$, a callable of one point or a number.
        domain, num_points, method, weight, norm, part: as for `Dirichlet`.
    """

    flux: Any = eqx.field(static=True)
    domain: AbstractDomain
    num_points: int = eqx.field(static=True)
    method: str = eqx.field(static=True)
    part: Part = eqx.field(static=True)
    weight: float = eqx.field(static=True)
    norm: Norm = eqx.field(static=True)

    def __init__(self, flux: Any, domain: AbstractDomain, *, num_points: int = 256,
                 method: str = "sobol", weight: float = 1.0, norm: Norm = "squared",
                 part: Part = "boundary"):
        if part in ("interior", "initial"):
            raise ValueError(f"`part` of Neumann must be a boundary part, got {part!r}")
        self.flux = as_pointwise(flux, "flux")
        _init_region(self, domain, part, num_points, method, weight, norm, "Neumann")

    def residual(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, "n r"]:
        return _normal_derivative(field, batch) - pointwise_values(self.flux, batch.points)


@final
class Robin(_BoundaryConstraint):
    """Robin data $a\\,u + b\\,\\partial u/\\partial n = g$.

    Attributes:
        a, b: the numbers $a$ and $b$.
        value: $g$, a callable of one point or a number.
        domain, num_points, method, weight, norm, part: as for `Dirichlet`.
    """

    a: float = eqx.field(static=True)
    b: float = eqx.field(static=True)
    value: Any = eqx.field(static=True)
    domain: AbstractDomain
    num_points: int = eqx.field(static=True)
    method: str = eqx.field(static=True)
    part: Part = eqx.field(static=True)
    weight: float = eqx.field(static=True)
    norm: Norm = eqx.field(static=True)

    def __init__(self, a: float, b: float, value: Any, domain: AbstractDomain, *,
                 num_points: int = 256, method: str = "sobol", weight: float = 1.0,
                 norm: Norm = "squared", part: Part = "boundary"):
        if part in ("interior", "initial"):
            raise ValueError(f"`part` of Robin must be a boundary part, got {part!r}")
        self.a, self.b = float(a), float(b)
        self.value = as_pointwise(value, "value")
        _init_region(self, domain, part, num_points, method, weight, norm, "Robin")

    def residual(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, "n r"]:
        u = field_values(field, batch.points)
        return (self.a * u + self.b * _normal_derivative(field, batch)
                - pointwise_values(self.value, batch.points))
