r"""A PDE residual at every pair of $n$ space points and $q$ parameter values.

`WithParameters` draws one $\mu_i$ per point, $n$ pairs per step. `WithParameterPairs`
draws $n$ points and $q$ parameter values and evaluates the residual at all $n q$ pairs
$(x_i, \mu_j)$: the same Monte-Carlo estimate of
$\int_M \int_\Omega \lVert C(x, \mu) \rVert\,dx\,d\mu$, from far more pairs. For a field
with ``pair_derivatives`` (a `BasisSurrogate`) the pairs are nearly free: the basis is
differentiated once per point and the coefficients computed once per parameter. Any other
field is evaluated at the $n q$ concatenated points.
"""

from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import positive_int
from .._tree import with_static
from ..constraints import AbstractConstraint, Batch, Residual
from ..constraints._base import Norm
from ..domains import Box


class AbstractOverParameters(AbstractConstraint):
    """A space constraint integrated over the parameter box as well (shared by the wrappers).

    Its weight and norm are the wrapped constraint's; its region is space x parameters, so
    its measure is the product of the two.
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
        if not callable(getattr(field, "pair_derivatives", None)):
            flat = Batch(pairs.reshape(n * q, -1))
            return _space_dims(c, self.space_dim).residual(field, flat, params)
        d = field.pair_derivatives(x, mu, dims=c.dims, laplacian_dims=c.laplacian_dims)
        extra = (params,) if c._with_params else ()
        one = lambda p, di: jnp.asarray(c.fn(p, di, *extra))  # noqa: E731
        out = jax.vmap(jax.vmap(one))(pairs, d)
        return out.reshape(n * q, -1)


def _space_dims(constraint: Residual, space_dim: int) -> Residual:
    """`constraint` differentiating along the space coordinates of concatenated points."""
    if constraint.dims is None:
        return with_static(constraint, dims=tuple(range(space_dim)))
    return constraint
