"""Initial conditions of a time-dependent problem on a space-time domain."""

from typing import Any, ClassVar, final

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import constraint_weight
from ..domains import SpaceTime
from ..ops import value_grad_laplacian
from ._base import Batch, Kind, Norm, check_norm
from ._region import AbstractRegionConstraint, Region, as_pointwise, field_values, pointwise_values


@final
class Initial(AbstractRegionConstraint):
    r"""$u(x, t_0) = g(x)$, and optionally $\partial_t u(x, t_0) = h(x)$, on the initial slice.

    `value` and `velocity` are functions of the spatial point only (``(d-1,)``, time
    excluded) or numbers; the time coordinate is the last one.

    Attributes:
        value: $g$.
        region: the initial slice of the `SpaceTime` domain given as ``domain``.
        velocity: $h$, for equations second order in time (waves); ``None`` to skip.
        num_points, method, weight, norm: as for `Residual`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde.domains import Interval, TimeInterval
        >>> cylinder = Interval(0.0, 1.0) * TimeInterval(0.0, 1.0)
        >>> ic = Initial(lambda x: jnp.sin(jnp.pi * x[0]), cylinder, num_points=16)
        >>> batch = ic.sample(jax.random.key(0))
        >>> bool((batch.points[:, -1] == 0.0).all())  # points on the slice t = 0
        True
        >>> heat = lambda x: jnp.sin(jnp.pi * x[..., :1]) * jnp.exp(-x[..., 1:])
        >>> float(ic.loss(heat, batch)) < 1e-10
        True
    """

    kind: ClassVar[Kind] = "initial"
    adaptive: ClassVar[bool] = False
    independent_rows: ClassVar[bool] = True

    value: Any = eqx.field(static=True)
    region: Region
    velocity: Any = eqx.field(static=True)
    weight: float = eqx.field(static=True)
    norm: Norm = eqx.field(static=True)

    def __init__(
        self,
        value: Any,
        domain: SpaceTime,
        *,
        velocity: Any = None,
        num_points: int = 256,
        method: str = "sobol",
        weight: float = 1.0,
        norm: Norm = "squared",
    ):
        self.region = Region(
            domain, "initial", num_points=num_points, method=method, owner="Initial"
        )
        self.value = as_pointwise(value, "value")
        self.velocity = None if velocity is None else as_pointwise(velocity, "velocity")
        self.weight = constraint_weight(weight, "Initial")
        self.norm = check_norm(norm)

    def residual(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, "n r"]:
        x = batch.points
        space = x[:, :-1]
        parts = [field_values(field, x) - pointwise_values(self.value, space)]
        if self.velocity is not None:
            u_t = value_grad_laplacian(field, x, dims=-1).grad[..., 0]
            parts.append(u_t - pointwise_values(self.velocity, space))
        return jnp.concatenate(parts, axis=-1)
