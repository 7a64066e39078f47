r"""The constraint interface and the Eq. 3 loss of one constraint.

Sitzmann et al. (2020), Eq. 3, write a physics loss as a sum over constraints
$\mathcal{L} = \sum_m w_m \int_{\Omega_m} \lVert C_m(a(x), u(x), \nabla u(x), \dots)\rVert\,dx$.
Each constraint here estimates its integral by Monte-Carlo (or quasi-Monte-Carlo):
$w_m\,|\Omega_m|\,\frac{1}{n}\sum_i \lVert C_m(x_i)\rVert$ over points $x_i$ sampled from
its region $\Omega_m$ (an interior, a boundary, an initial slice, or data points).
"""

import abc
from typing import Any, Literal, NamedTuple

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

Norm = Literal["squared", "l2", "l1"]
NORMS = ("squared", "l2", "l1")


class Batch(NamedTuple):
    """Points a constraint is evaluated at, with what else it needs there.

    Attributes:
        points: shape ``(n, d)``.
        normals: outward unit normals, shape ``(n, d)``, for boundary constraints.
        extra: constraint-specific data (observed values, periodic partner points).

    Example:
        >>> import jax
        >>> from fieldpde.constraints import Dirichlet
        >>> from fieldpde.domains import Box
        >>> batch = Dirichlet(0.0, Box([0.0, 0.0], [1.0, 1.0]), num_points=8).sample(
        ...     jax.random.key(0))
        >>> batch.points.shape, batch.normals.shape, batch.extra
        ((8, 2), (8, 2), None)
    """

    points: Float[Array, "n d"]
    normals: Float[Array, "n d"] | None = None
    extra: Any = None


def apply_norm(residual: Float[Array, "n r"], norm: Norm) -> Float[Array, " n"]:
    """$\\lVert C(x_i)\\rVert$ per point: squared Euclidean (default), Euclidean or L1."""
    if norm == "squared":
        return jnp.sum(jnp.square(residual), axis=-1)
    if norm == "l2":
        # sqrt has an infinite derivative at 0; the tiny shift keeps gradients finite there
        return jnp.sqrt(jnp.sum(jnp.square(residual), axis=-1) + 1e-30)
    return jnp.sum(jnp.abs(residual), axis=-1)


def check_norm(norm: str) -> Norm:
    if norm not in NORMS:
        raise ValueError(f"`norm` must be one of {NORMS}, got {norm!r}")
    return norm  # type: ignore[return-value]


class AbstractConstraint(eqx.Module):
    """A term of the Eq. 3 loss: a region, a residual, a weight and a norm.

    A concrete constraint implements `sample` (draw a `Batch` from its region), `residual`
    (the residual at a batch, shape ``(n, r)``) and `measure` (the region's measure
    $|\\Omega_m|$). `loss` is written in terms of them.

    Attributes:
        weight: $w_m$ in Eq. 3 (abstract: a concrete constraint declares the field).
        norm: ``"squared"``, ``"l2"`` or ``"l1"`` (abstract as `weight`).

    Example:
        A constraint pinning $u(0) = 1$ at one point:

        >>> import jax.numpy as jnp
        >>> class PinAtZero(AbstractConstraint):
        ...     weight: float = 1.0
        ...     norm: str = "squared"
        ...     def sample(self, key):
        ...         return Batch(jnp.zeros((1, 1)))
        ...     def residual(self, field, batch, params=None):
        ...         return field(batch.points) - 1.0
        ...     @property
        ...     def measure(self):
        ...         return 1.0
        >>> pin = PinAtZero()
        >>> float(pin.loss(lambda x: 3.0 + x, pin.sample(None)))  # (3 - 1)^2
        4.0
    """

    weight: eqx.AbstractVar[float]
    norm: eqx.AbstractVar[Norm]

    @abc.abstractmethod
    def sample(self, key: PRNGKeyArray) -> Batch:
        """Draw the points this constraint is evaluated at for one training step."""

    @abc.abstractmethod
    def residual(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, "n r"]:
        """The residual $C(x_i)$ at every point of `batch`, shape ``(n, r)``."""

    @property
    @abc.abstractmethod
    def measure(self) -> float:
        """$|\\Omega_m|$, the measure the mean over points is multiplied by."""

    def loss(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, ""]:
        """$w\\,|\\Omega|\\,\\mathrm{mean}_i \\lVert C(x_i) \\rVert$."""
        values = apply_norm(self.residual(field, batch, params), self.norm)
        return self.weight * self.measure * jnp.mean(values)
