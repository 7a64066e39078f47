r"""A gauge: fix the constant a PDE leaves free (the pressure of incompressible flow).

Incompressible Navier-Stokes and Stokes equations, and pure-Neumann problems, determine one
output only up to a constant: $p$ and $p + c$ solve them equally. A `Gauge` fixes it, either
at one point, $u_j(x_0) = g$, or on average over the domain,
$\frac{1}{|\Omega|}\int_\Omega u_j\,dx = g$ (a Monte-Carlo mean over the step's points).
"""

from typing import Any, ClassVar, final

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import constraint_weight, positive_int
from .._tree import with_static
from ..domains import AbstractDomain
from ._base import AbstractConstraint, Batch, Kind, Norm, check_norm
from ._region import Region, field_values, time_span_of


@final
class Gauge(AbstractConstraint):
    r"""Fix output `component` at a point ($u_j(x_0) = g$) or its mean ($\bar u_j = g$).

    The term is $w\,(u_j(x_0) - g)^2$, or $w\,(\mathrm{mean}_i\,u_j(x_i) - g)^2$ over
    `num_points` interior points drawn each step (its measure is 1: it is one equation).

    Attributes:
        component: the output index $j$ (e.g. 2, the pressure of a ``(u, v, p)`` field).
        value: $g$ (default 0).
        point: $x_0$, or ``None`` for the mean over the domain.
        region: the interior of ``domain``, where the mean's points are drawn.
        weight, norm: as for `Residual`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde.domains import Box
        >>> box = Box([0.0, 0.0], [1.0, 1.0])
        >>> uvp = lambda x: jnp.stack([x[..., 0], x[..., 1], 3.0 + x[..., 0]], -1)
        >>> at = Gauge(box, component=2, point=(0.0, 0.0))
        >>> mean = Gauge(box, component=2, num_points=256)
        >>> float(at.loss(uvp, at.sample(jax.random.key(0))))  # p(0, 0) = 3
        9.0
        >>> round(float(mean.loss(uvp, mean.sample(jax.random.key(0)))), 3)  # mean 3.5
        12.25
    """

    kind: ClassVar[Kind] = "data"  # pyright: ignore[reportIncompatibleVariableOverride]
    adaptive: ClassVar[bool] = False  # pyright: ignore[reportIncompatibleVariableOverride]

    component: int = eqx.field(static=True)
    value: float = eqx.field(static=True)
    point: tuple[float, ...] | None = eqx.field(static=True)
    region: Region
    weight: float = eqx.field(static=True)
    norm: Norm = eqx.field(static=True)

    def __init__(
        self,
        domain: AbstractDomain,
        *,
        component: int,
        value: float = 0.0,
        point: Any = None,
        num_points: int = 1024,
        method: str = "sobol",
        weight: float = 1.0,
        norm: Norm = "squared",
    ):
        if isinstance(component, bool) or not isinstance(component, int) or component < 0:
            raise ValueError(
                f"`component` of Gauge must be an output index >= 0, got {component!r}"
            )
        self.component = component
        self.value = float(value)
        if point is not None:
            point = tuple(float(v) for v in point)
            if len(point) != domain.dim:
                raise ValueError(
                    f"`point` of Gauge must have {domain.dim} coordinates (the domain's), "
                    f"got {point!r}"
                )
        self.point = point
        self.region = Region(
            domain, "interior", num_points=num_points, method=method, owner="Gauge"
        )
        self.weight = constraint_weight(weight, "Gauge")
        self.norm = check_norm(norm)

    @property
    def independent_rows(self) -> bool:  # type: ignore[override]
        # the mean's one row depends on every point of the batch
        return self.point is not None

    @property
    def domain(self) -> AbstractDomain:  # type: ignore[override]
        return self.region.domain

    @property
    def num_points(self) -> int:  # type: ignore[override]
        return 1 if self.point is not None else self.region.num_points

    @property
    def time_span(self) -> tuple[float, float] | None:  # type: ignore[override]
        return time_span_of(self.region.domain)

    @property
    def measure(self) -> float:
        return 1.0

    def sample(self, key: PRNGKeyArray) -> Batch:
        if self.point is not None:
            return Batch(jnp.asarray([self.point], dtype=jnp.result_type(float)))
        return self.region.sample(key)

    def with_num_points(self, n: int) -> "Gauge":
        if self.point is not None:
            return self
        return with_static(self, region=with_static(self.region, num_points=positive_int("n", n)))

    def times(self, batch: Batch) -> Array | None:
        return None

    def residual(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, "n r"]:
        u = field_values(field, batch.points)
        if self.component >= u.shape[1]:
            raise ValueError(
                f"`component` {self.component} of Gauge names an output the field lacks: it "
                f"has {u.shape[1]} output(s)"
            )
        return (jnp.mean(u[:, self.component]) - self.value).reshape(1, 1)
