"""Periodicity of the field (and optionally its normal derivative) across a box."""

from typing import Any, ClassVar, final

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import constraint_weight, positive_int
from .._tree import with_static
from ..domains import AbstractDomain, Box, SpaceTime
from ..ops import value_grad_laplacian
from ._base import AbstractConstraint, Batch, Kind, Norm, check_norm
from ._region import field_values, time_span_of, times_of


def _box_of(domain: AbstractDomain) -> Box:
    if isinstance(domain, Box):
        return domain
    if isinstance(domain, SpaceTime) and isinstance(domain.space, Box):
        return domain.space
    raise TypeError(
        f"`domain` of Periodic must be a Box or a SpaceTime over a Box, got {type(domain).__name__}"
    )


@final
class Periodic(AbstractConstraint):
    r"""$u(x)|_{x_a = \mathrm{lo}_a} = u(x)|_{x_a = \mathrm{hi}_a}$ along axis $a$ of a box.

    Points are drawn on the lower face and paired with their images on the upper face; with
    ``derivative=True`` the derivative along the axis must match too (C¹ periodicity, what
    a second-order PDE needs).

    Attributes:
        domain: a `Box`, or a `SpaceTime` over a box (periodic in a space axis).
        axis: the periodic coordinate.
        derivative: also match $\partial u / \partial x_a$.
        num_points, method, weight, norm: as for `Residual`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde.domains import Box
        >>> pbc = Periodic(Box([0.0, 0.0], [1.0, 1.0]), axis=0, num_points=16)
        >>> batch = pbc.sample(jax.random.key(0))
        >>> periodic = lambda x: jnp.sin(2 * jnp.pi * x[..., :1]) * x[..., 1:]
        >>> float(pbc.loss(periodic, batch)) < 1e-10
        True
        >>> float(pbc.loss(lambda x: x[..., :1], batch)) > 0  # x is not periodic
        True
    """

    kind: ClassVar[Kind] = "boundary"
    adaptive: ClassVar[bool] = False
    independent_rows: ClassVar[bool] = True

    domain: AbstractDomain
    axis: int = eqx.field(static=True)
    derivative: bool = eqx.field(static=True)
    num_points: int = eqx.field(static=True)
    method: str = eqx.field(static=True)
    weight: float = eqx.field(static=True)
    norm: Norm = eqx.field(static=True)

    def __init__(
        self,
        domain: AbstractDomain,
        axis: int,
        *,
        derivative: bool = True,
        num_points: int = 256,
        method: str = "sobol",
        weight: float = 1.0,
        norm: Norm = "squared",
    ):
        box = _box_of(domain)
        if not isinstance(axis, int) or not 0 <= axis < box.dim:
            raise ValueError(f"`axis` must be a space axis in [0, {box.dim}), got {axis!r}")
        self.domain = domain
        self.axis = axis
        self.derivative = bool(derivative)
        self.num_points = positive_int("num_points", num_points)
        self.method = method
        self.weight = constraint_weight(weight, "Periodic")
        self.norm = check_norm(norm)

    def sample(self, key: PRNGKeyArray) -> Batch:
        box = _box_of(self.domain)
        x = self.domain.sample_interior(self.num_points, key=key, method=self.method)
        lo = x.at[:, self.axis].set(box.lo[self.axis])
        hi = x.at[:, self.axis].set(box.hi[self.axis])
        return Batch(lo, extra=hi)

    @property
    def measure(self) -> float:
        return self.domain.measure / _box_of(self.domain).lengths[self.axis]

    def with_num_points(self, n: int) -> "Periodic":
        """A copy drawing `n` pairs of points per step."""
        return with_static(self, num_points=positive_int("n", n))

    @property
    def time_span(self) -> tuple[float, float] | None:
        return time_span_of(self.domain)

    def times(self, batch: Batch) -> Array | None:
        return times_of(self.domain, batch.points)

    def residual(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, "n r"]:
        lo, hi = batch.points, batch.extra
        parts = [field_values(field, lo) - field_values(field, hi)]
        if self.derivative:
            g_lo = value_grad_laplacian(field, lo, dims=self.axis).grad[..., 0]
            g_hi = value_grad_laplacian(field, hi, dims=self.axis).grad[..., 0]
            parts.append(g_lo - g_hi)
        return jnp.concatenate(parts, axis=-1)
