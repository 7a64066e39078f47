r"""Space constraints integrated over a parameter box too: one problem per $\mu$, trained as one.

`WithParameters` draws one $\mu_i$ per point, $n$ pairs per step. `WithParameterPairs`
draws $n$ points and $q$ parameter values and evaluates the residual at all $n q$ pairs
$(x_i, \mu_j)$: the same Monte-Carlo estimate of
$\int_M \int_\Omega \lVert C(x, \mu) \rVert\,dx\,d\mu$, from far more pairs. For a field
with ``pair_derivatives`` (a `fieldpde.surrogate.BasisSurrogate`) the pairs are nearly free:
the basis is differentiated once per point and the coefficients computed once per parameter.
Any other field is evaluated at the $n q$ concatenated points.
"""

from typing import Any, ClassVar, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import positive_int
from .._tree import with_static
from ..domains import Box
from ..nn import AbstractPairField
from ._base import AbstractConstraint, Batch, Kind, Norm
from ._pde import Residual
from ._periodic import Periodic


def concat_parameters(points: Array, mu: Array) -> Array:
    """Points ``(..., d)`` and parameter values ``(..., p)`` side by side, ``(..., d + p)``.

    Args:
        points: space points, shape ``(..., d)``.
        mu: parameter values, shape ``(..., p)`` (cast to the points' dtype).

    Returns:
        The concatenated points ``(x, mu)`` that a parametric field takes.

    Example:
        >>> import jax.numpy as jnp
        >>> concat_parameters(jnp.zeros((2, 2)), jnp.ones((2, 1))).tolist()
        [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]
    """
    return jnp.concatenate([points, mu.astype(points.dtype)], axis=-1)


def _space_dims(constraint: AbstractConstraint, space_dim: int) -> AbstractConstraint:
    """A `Residual` differentiating along the space coordinates of concatenated points."""
    if isinstance(constraint, Residual) and constraint.dims is None:
        return with_static(constraint, dims=tuple(range(space_dim)))
    return constraint


class AbstractOverParameters(AbstractConstraint):
    """A space constraint integrated over the parameter box as well (shared by the wrappers).

    Its weight, norm, kind and time span are the wrapped constraint's; its region is space x
    parameters, so its measure is the product of the two.

    Attributes:
        constraint: the wrapped constraint (abstract).
        parameters: the parameter `Box` (abstract).

    Example:
        >>> from fieldpde.constraints import Residual, WithParameters
        >>> from fieldpde.domains import Box
        >>> pde = Residual(lambda x, d: d.laplacian, Box([0.0], [2.0]), weight=3.0)
        >>> c = WithParameters(pde, Box([0.0], [0.5]), space_dim=1)
        >>> isinstance(c, AbstractOverParameters), c.weight, c.measure, c.kind
        (True, 3.0, 1.0, 'pde')
    """

    constraint: eqx.AbstractVar[AbstractConstraint]
    parameters: eqx.AbstractVar[Box]

    @property
    def weight(self) -> float:
        return self.constraint.weight

    @property
    def norm(self) -> Norm:
        return self.constraint.norm

    @property
    def measure(self) -> float:
        return self.constraint.measure * self.parameters.measure

    @property
    def num_points(self) -> int:
        return self.constraint.num_points

    @property
    def kind(self) -> Kind:
        return self.constraint.kind

    @property
    def domain(self) -> None:
        """``None``: the points live in space x parameters, which no fieldpde domain names."""
        return None

    @property
    def time_span(self) -> tuple[float, float] | None:
        return self.constraint.time_span


@final
class WithParameters(AbstractOverParameters):
    r"""A space constraint evaluated at points $(x_i, \mu_i)$, $\mu_i$ drawn from a box.

    Its measure is $|\Omega_m|\,|M|$; space derivatives only (a `Residual`'s default
    ``dims`` becomes the space coordinates). Residual functions receive the concatenated
    point, so $\mu$ is ``x[d:]``.

    Attributes:
        constraint: a constraint on the space domain.
        parameters: the parameter `Box` $M$.
        space_dim: ``d``, the number of space coordinates.
        method: how $\mu$ is drawn (``"uniform"``, ``"sobol"``, ``"halton"``).

    Example:
        $-u'' = \mu$ on $[0, 1]$ for $\mu \in [1, 2]$, solved by $u = \mu x (1 - x) / 2$:

        >>> import jax
        >>> from fieldpde.constraints import Residual
        >>> from fieldpde.domains import Box
        >>> pde = Residual(lambda x, d: d.laplacian + x[1], Box([0.0], [1.0]), num_points=32)
        >>> family = WithParameters(pde, Box([1.0], [2.0]), space_dim=1)
        >>> batch = family.sample(jax.random.key(0))
        >>> batch.points.shape, family.measure
        ((32, 2), 1.0)
        >>> u = lambda p: p[..., 1:] * p[..., :1] * (1.0 - p[..., :1]) / 2.0
        >>> float(family.loss(u, batch)) < 1e-10
        True
    """

    constraint: AbstractConstraint
    parameters: Box
    space_dim: int = eqx.field(static=True)
    method: str = eqx.field(static=True)

    def __init__(
        self,
        constraint: AbstractConstraint,
        parameters: Box,
        space_dim: int,
        method: str = "uniform",
    ):
        if not isinstance(constraint, AbstractConstraint):
            raise TypeError(f"`constraint` must be a constraint, got {type(constraint).__name__}")
        if not isinstance(parameters, Box):
            raise TypeError(f"`parameters` must be a Box, got {type(parameters).__name__}")
        self.constraint = _space_dims(constraint, space_dim)
        self.parameters = parameters
        self.space_dim = space_dim
        self.method = method

    def with_num_points(self, n: int) -> "WithParameters":
        """A copy drawing `n` points (and parameter values) per step."""
        inner = self.constraint.with_num_points(n)
        return WithParameters(inner, self.parameters, self.space_dim, self.method)

    def sample(self, key: PRNGKeyArray) -> Batch:
        kx, kmu = jax.random.split(key)
        batch = self.constraint.sample(kx)
        n = batch.points.shape[0]
        mu = self.parameters.sample_interior(n, key=kmu, method=self.method)
        normals = batch.normals
        if normals is not None:
            normals = concat_parameters(normals, jnp.zeros_like(mu))
        extra = batch.extra
        if isinstance(self.constraint, Periodic):
            extra = concat_parameters(extra, mu)  # the partner point shares its parameter
        return Batch(concat_parameters(batch.points, mu), normals, extra)

    @property
    def adaptive(self) -> bool:
        return self.constraint.adaptive

    @property
    def independent_rows(self) -> bool:  # type: ignore[override]
        # the batch is the wrapped constraint's, row for row, with mu appended
        return self.constraint.independent_rows

    def times(self, batch: Batch) -> Array | None:
        # the wrapped constraint reads time from its own coordinates, ahead of mu
        return self.constraint.times(batch)

    def residual(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, "n r"]:
        return self.constraint.residual(field, batch, params)


@final
class WithParameterPairs(AbstractOverParameters):
    r"""A `Residual` on the space domain, evaluated at all pairs of points and parameters.

    Residual functions receive the concatenated point ``(x, mu)`` as with
    `WithParameters`; derivatives are along space coordinates only. The measure is
    $|\Omega|\,|M|$ and the loss is the mean over the $n q$ pairs times it.

    Attributes:
        constraint: a `Residual` on the space domain (``uses="derivatives"``).
        parameters: the parameter `Box` $M$.
        space_dim: ``d``.
        num_parameters_per_batch: ``q``, parameter values drawn per step.
        method: how ``mu`` is drawn (``"uniform"``, ``"sobol"``, ``"halton"``).

    Example:
        >>> import jax
        >>> from fieldpde.constraints import Residual
        >>> from fieldpde.domains import Box
        >>> pde = Residual(lambda p, d: d.laplacian + p[1], Box([0.0], [1.0]), num_points=8)
        >>> c = WithParameterPairs(pde, Box([1.0], [2.0]), 1, num_parameters_per_batch=4)
        >>> batch = c.sample(jax.random.key(0))
        >>> batch.points.shape, batch.extra.shape, c.measure
        ((8, 1), (4, 1), 1.0)
    """

    constraint: Residual
    parameters: Box
    space_dim: int = eqx.field(static=True)
    num_parameters_per_batch: int = eqx.field(static=True)
    method: str = eqx.field(static=True)

    def __init__(
        self,
        constraint: Residual,
        parameters: Box,
        space_dim: int,
        *,
        num_parameters_per_batch: int,
        method: str = "uniform",
    ):
        if not isinstance(constraint, Residual) or constraint.uses != "derivatives":
            raise TypeError(
                "`constraint` must be a Residual with uses='derivatives' to be evaluated at "
                f"parameter pairs, got {type(constraint).__name__}"
            )
        if not isinstance(parameters, Box):
            raise TypeError(f"`parameters` must be a Box, got {type(parameters).__name__}")
        self.constraint = constraint
        self.parameters = parameters
        self.space_dim = positive_int("space_dim", space_dim)
        self.num_parameters_per_batch = positive_int(
            "num_parameters_per_batch", num_parameters_per_batch
        )
        self.method = method

    def with_num_points(self, n: int) -> "WithParameterPairs":
        """A copy drawing `n` space points (and the same number of parameters) per step."""
        return WithParameterPairs(
            self.constraint.with_num_points(n),
            self.parameters,
            self.space_dim,
            num_parameters_per_batch=self.num_parameters_per_batch,
            method=self.method,
        )

    adaptive: ClassVar[bool] = False

    def times(self, batch: Batch) -> Array | None:
        t = self.constraint.times(batch)
        return None if t is None else jnp.repeat(t, self.num_parameters_per_batch)

    def sample(self, key: PRNGKeyArray) -> Batch:
        """``points``: ``n`` space points; ``extra``: ``q`` parameter values."""
        kx, kmu = jax.random.split(key)
        batch = self.constraint.sample(kx)
        mu = self.parameters.sample_interior(
            self.num_parameters_per_batch, key=kmu, method=self.method
        )
        return Batch(batch.points, None, mu.astype(batch.points.dtype))

    def residual(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, "nq r"]:
        """The residual at every pair, rows ordered point-major: ``(n * q, r)``."""
        x, mu = batch.points, batch.extra
        n, q = x.shape[0], mu.shape[0]
        pairs = jnp.concatenate(
            [
                jnp.broadcast_to(x[:, None, :], (n, q, x.shape[1])),
                jnp.broadcast_to(mu[None, :, :].astype(x.dtype), (n, q, mu.shape[1])),
            ],
            axis=-1,
        )
        c = self.constraint
        if not isinstance(field, AbstractPairField):
            flat = Batch(pairs.reshape(n * q, -1))
            return _space_dims(c, self.space_dim).residual(field, flat, params)
        d = field.pair_derivatives(x, mu, dims=c.dims, laplacian_dims=c.laplacian_dims)
        one = lambda p, di: c.evaluate(p, di, params)  # noqa: E731
        out = jax.vmap(jax.vmap(one))(pairs, d)
        return out.reshape(n * q, -1)
