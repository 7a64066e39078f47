r"""Boundary conditions: Dirichlet $u = g$, Neumann $\partial_n u = h$, Robin.

Robin data are $a u + b \partial_n u = g$.
"""

from typing import Any, ClassVar, final

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import constraint_weight, output_components
from ..domains import AbstractDomain
from ..ops import value_grad_laplacian
from ._base import Batch, Kind, Norm, check_norm
from ._region import (
    AbstractRegionConstraint,
    Part,
    Region,
    as_pointwise,
    field_values,
    pointwise_values,
)


def _normal_derivative(field: Any, batch: Batch) -> Array:
    """$\\partial u / \\partial n = \\nabla u \\cdot n$ per point and output, ``(n, m)``."""
    if batch.normals is None:
        raise ValueError("a normal derivative needs boundary points with normals")
    grad = value_grad_laplacian(field, batch.points).grad  # (n, m, d)
    return jnp.einsum("nmd,nd->nm", grad, batch.normals)


def select(values: Array, components: tuple[int, ...] | None) -> Array:
    """Columns `components` of ``(n, m)`` values (all of them for ``None``)."""
    if components is None:
        return values
    m = values.shape[-1]
    if max(components) >= m:
        raise ValueError(
            f"`components` {components} name outputs the field lacks: it has {m} output(s)"
        )
    return values[:, np.asarray(components)]


@final
class Dirichlet(AbstractRegionConstraint):
    """Dirichlet data $u = g$ on the boundary.

    Attributes:
        value: $g$, a callable of one point (``(d,) -> ()`` or ``(m,)``) or a number.
        region: where points are drawn: the ``part`` of ``domain`` (default
            ``"boundary"``; a space-time domain may use ``"lateral"`` or ``"initial"``),
            ``num_points`` per step with ``method``, as for `Residual`.
        weight, norm: as for `Residual`.
        components: the output components the data prescribe (``None``: all of them);
            `value` then gives one number per listed component, e.g. ``components=(0, 1)``
            for the velocity of a ``(u, v, p)`` field, leaving the pressure free.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde.domains import Box
        >>> bc = Dirichlet(lambda x: x[0], Box([0.0, 0.0], [1.0, 1.0]), num_points=64)
        >>> batch = bc.sample(jax.random.key(0))
        >>> float(bc.loss(lambda x: x[..., :1], batch))   # u = x meets g = x exactly
        0.0
        >>> wall = Dirichlet(0.0, Box([0.0, 0.0], [1.0, 1.0]), components=(0, 1))
        >>> uvp = lambda x: jnp.stack([0 * x[..., 0], 0 * x[..., 0], 1 + x[..., 0]], -1)
        >>> float(wall.loss(uvp, wall.sample(jax.random.key(0))))  # the pressure is free
        0.0
    """

    kind: ClassVar[Kind] = "boundary"
    adaptive: ClassVar[bool] = False
    independent_rows: ClassVar[bool] = True

    value: Any = eqx.field(static=True)
    region: Region
    weight: float = eqx.field(static=True)
    norm: Norm = eqx.field(static=True)
    components: tuple[int, ...] | None = eqx.field(static=True)

    def __init__(
        self,
        value: Any,
        domain: AbstractDomain,
        *,
        num_points: int = 256,
        method: str = "sobol",
        weight: float = 1.0,
        norm: Norm = "squared",
        part: Part = "boundary",
        components: Any = None,
    ):
        self.value = as_pointwise(value, "value")
        self.region = Region(domain, part, num_points=num_points, method=method, owner="Dirichlet")
        self.weight = constraint_weight(weight, "Dirichlet")
        self.norm = check_norm(norm)
        self.components = output_components(components, "Dirichlet")

    def residual(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, "n r"]:
        u = select(field_values(field, batch.points), self.components)
        return u - pointwise_values(self.value, batch.points)


@final
class Neumann(AbstractRegionConstraint):
    """Neumann data $\\partial u/\\partial n = h$, with the outward unit normal $n$.

    Attributes:
        flux: $h$, a callable of one point or a number.
        region, weight, norm, components: as for `Dirichlet`.

    Example:
        >>> import jax
        >>> from fieldpde.domains import Interval
        >>> # on [0, 1] the outward normal is -1 at 0 and +1 at 1, so u = x has flux 2x - 1
        >>> bc = Neumann(lambda x: 2.0 * x[0] - 1.0, Interval(0.0, 1.0), num_points=2)
        >>> batch = bc.sample(jax.random.key(0))
        >>> float(bc.loss(lambda x: x, batch)), float(bc.loss(lambda x: x**2, batch))
        (0.0, 2.0)
    """

    kind: ClassVar[Kind] = "boundary"
    adaptive: ClassVar[bool] = False
    independent_rows: ClassVar[bool] = True

    flux: Any = eqx.field(static=True)
    region: Region
    weight: float = eqx.field(static=True)
    norm: Norm = eqx.field(static=True)
    components: tuple[int, ...] | None = eqx.field(static=True)

    def __init__(
        self,
        flux: Any,
        domain: AbstractDomain,
        *,
        num_points: int = 256,
        method: str = "sobol",
        weight: float = 1.0,
        norm: Norm = "squared",
        part: Part = "boundary",
        components: Any = None,
    ):
        if part in ("interior", "initial"):
            raise ValueError(f"`part` of Neumann must be a boundary part, got {part!r}")
        self.flux = as_pointwise(flux, "flux")
        self.region = Region(domain, part, num_points=num_points, method=method, owner="Neumann")
        self.weight = constraint_weight(weight, "Neumann")
        self.norm = check_norm(norm)
        self.components = output_components(components, "Neumann")

    def residual(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, "n r"]:
        flux = select(_normal_derivative(field, batch), self.components)
        return flux - pointwise_values(self.flux, batch.points)


@final
class Robin(AbstractRegionConstraint):
    """Robin data $a\\,u + b\\,\\partial u/\\partial n = g$.

    Attributes:
        a, b: the numbers $a$ and $b$.
        value: $g$, a callable of one point or a number.
        region, weight, norm: as for `Dirichlet`.

    Example:
        >>> import jax
        >>> from fieldpde.domains import Interval
        >>> # u = x: u + du/dn is 0 - 1 = -1 at x = 0 and 1 + 1 = 2 at x = 1, i.e. 3x - 1
        >>> bc = Robin(1.0, 1.0, lambda x: 3.0 * x[0] - 1.0, Interval(0.0, 1.0), num_points=2)
        >>> float(bc.loss(lambda x: x, bc.sample(jax.random.key(0))))
        0.0
    """

    kind: ClassVar[Kind] = "boundary"
    adaptive: ClassVar[bool] = False
    independent_rows: ClassVar[bool] = True

    a: float = eqx.field(static=True)
    b: float = eqx.field(static=True)
    value: Any = eqx.field(static=True)
    region: Region
    weight: float = eqx.field(static=True)
    norm: Norm = eqx.field(static=True)

    def __init__(
        self,
        a: float,
        b: float,
        value: Any,
        domain: AbstractDomain,
        *,
        num_points: int = 256,
        method: str = "sobol",
        weight: float = 1.0,
        norm: Norm = "squared",
        part: Part = "boundary",
    ):
        if part in ("interior", "initial"):
            raise ValueError(f"`part` of Robin must be a boundary part, got {part!r}")
        self.a, self.b = float(a), float(b)
        self.value = as_pointwise(value, "value")
        self.region = Region(domain, part, num_points=num_points, method=method, owner="Robin")
        self.weight = constraint_weight(weight, "Robin")
        self.norm = check_norm(norm)

    def residual(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, "n r"]:
        u = field_values(field, batch.points)
        return (
            self.a * u
            + self.b * _normal_derivative(field, batch)
            - pointwise_values(self.value, batch.points)
        )
