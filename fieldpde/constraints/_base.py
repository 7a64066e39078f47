r"""The constraint interface and the Eq. 3 loss of one constraint.

Sitzmann et al. (2020), Eq. 3, write a physics loss as a sum over constraints
$\mathcal{L} = \sum_m w_m \int_{\Omega_m} \lVert C_m(a(x), u(x), \nabla u(x), \dots)\rVert\,dx$.
Each constraint here estimates its integral by Monte-Carlo (or quasi-Monte-Carlo):
$w_m\,|\Omega_m|\,\frac{1}{n}\sum_i \lVert C_m(x_i)\rVert$ over points $x_i$ sampled from
its region $\Omega_m$ (an interior, a boundary, an initial slice, or data points).
"""

import abc
from typing import Any, ClassVar, Literal, NamedTuple, final

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from ._tiled import tiled_sum

Norm = Literal["squared", "l2", "l1"]
NORMS = ("squared", "l2", "l1")


@final
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


Kind = Literal["pde", "boundary", "initial", "data"]


class AbstractConstraint(eqx.Module):
    """A term of the Eq. 3 loss: a region, a residual, a weight and a norm.

    A concrete constraint implements what training needs of it:

    - `sample` (draw a `Batch` for one step), `residual` (shape ``(n, r)`` at a batch)
      and `measure` ($|\\Omega_m|$);
    - `num_points` and `with_num_points` (how many points a step draws, and a copy
      drawing another number: the point count of an L-BFGS phase);
    - `kind` (``"pde"``, ``"boundary"``, ``"initial"`` or ``"data"``, a class
      variable), `domain` (the fieldpde domain its points come from, or ``None``) and
      `adaptive` (whether the rows of its residual are the points of its batch, so
      residual-adaptive sampling may choose among candidates);
    - `time_span` and `times` (the time interval of a space-time constraint and the time
      of each residual row, for causal weighting; ``None`` off space-time domains);
    - `independent_rows` (a class variable, ``False`` unless a constraint declares it):
      whether row $i$ of its residual is computed from row $i$ of every array of its batch
      alone, so second-order training may take the residual's Jacobian point by point
      (`fieldpde.train.NaturalGradient`; otherwise it is taken by forward mode).

    `pointwise` and `loss` are written in terms of them; a constraint with independent
    rows may also override `loss_tile`, so that `loss` on a large batch runs tile by tile
    (`tiled_sum`: the same loss and gradient, a working set that stays in cache).

    Attributes:
        weight: $w_m$ in Eq. 3 (abstract: a concrete constraint declares the field).
        norm: ``"squared"``, ``"l2"`` or ``"l1"`` (abstract as `weight`).
        kind, num_points, domain, adaptive, time_span: abstract as `weight` (a field,
            a property or a class variable of the concrete constraint).
        independent_rows: whether each residual row depends on its own batch row only
            (default ``False``; the built-in pointwise constraints set it).
        equations: the names of the residual's columns when they are the equations of a
            system (default ``()``: one term); training reports each column's term
            (`equation_losses`) as ``"NAME[EQUATION]"``.

    Example:
        A constraint pinning $u(0) = 1$ at one point:

        >>> from typing import ClassVar
        >>> import jax.numpy as jnp
        >>> class PinAtZero(AbstractConstraint):
        ...     weight: float = 1.0
        ...     norm: str = "squared"
        ...     kind: ClassVar[str] = "data"
        ...     domain: ClassVar[None] = None
        ...     adaptive: ClassVar[bool] = False
        ...     time_span: ClassVar[None] = None
        ...     num_points: ClassVar[int] = 1
        ...     independent_rows: ClassVar[bool] = True
        ...     def sample(self, key):
        ...         return Batch(jnp.zeros((1, 1)))
        ...     def residual(self, field, batch, params=None):
        ...         return field(batch.points) - 1.0
        ...     @property
        ...     def measure(self):
        ...         return 1.0
        ...     def with_num_points(self, n):
        ...         return self
        ...     def times(self, batch):
        ...         return None
        >>> pin = PinAtZero()
        >>> float(pin.loss(lambda x: 3.0 + x, pin.sample(None)))  # (3 - 1)^2
        4.0
    """

    weight: eqx.AbstractVar[float]
    norm: eqx.AbstractVar[Norm]
    kind: eqx.AbstractVar[Kind]
    num_points: eqx.AbstractVar[int]
    domain: eqx.AbstractVar[Any]
    adaptive: eqx.AbstractVar[bool]
    time_span: eqx.AbstractVar[tuple[float, float] | None]
    # a conservative default, so that a constraint written before the flag still trains
    independent_rows: ClassVar[bool] = False
    # the names of the equations a system's residual columns are (none: one term)
    equations: ClassVar[tuple[str, ...]] = ()

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

    @abc.abstractmethod
    def with_num_points(self, n: int) -> "AbstractConstraint":
        """A copy drawing `n` points per step (data terms: `n` data, or all of them)."""

    @abc.abstractmethod
    def times(self, batch: Batch) -> Float[Array, " n"] | None:
        """The time of each residual row of `batch` (``None`` off space-time domains)."""

    def pointwise(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, " n"]:
        """$\\lVert C(x_i) \\rVert$ per residual row, in the constraint's norm."""
        return apply_norm(self.residual(field, batch, params), self.norm)

    def loss_tile(self, n: int) -> int | None:
        """Rows per tile of `loss` on a batch of `n` rows (``None``: in one piece).

        Only read for constraints with `independent_rows`; the default never tiles.
        """
        return None

    def loss(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, ""]:
        """$w\\,|\\Omega|\\,\\mathrm{mean}_i \\lVert C(x_i) \\rVert$.

        Tile by tile where `loss_tile` says so (the same loss and gradient)."""
        n = batch.points.shape[0]
        tile = self.loss_tile(n) if self.independent_rows else None
        if tile is None or tile >= n:
            return self.weight * self.measure * jnp.mean(self.pointwise(field, batch, params))
        total = tiled_sum(_pointwise_rows, (self, field, params), batch, tile)
        return self.weight * self.measure * total / n

    def equation_losses(
        self, field: Any, batch: Batch, params: Any = None
    ) -> dict[str, Float[Array, ""]]:
        """The term of each of the `equations`: $w\\,|\\Omega|\\,\\mathrm{mean}_i
        \\lVert C_e(x_i) \\rVert$ per residual column $e$, which sum to `loss` (squared
        or L1 norms; a constraint with `equations` refuses the L2 norm)."""
        residual = self.residual(field, batch, params)
        if residual.shape[-1] != len(self.equations):
            raise ValueError(
                f"the residual has {residual.shape[-1]} columns but `equations` names "
                f"{len(self.equations)}: {self.equations}"
            )
        scale = self.weight * self.measure
        return {
            eq: scale * jnp.mean(apply_norm(residual[:, i : i + 1], self.norm))
            for i, eq in enumerate(self.equations)
        }


def _pointwise_rows(args: Any, batch: Batch) -> Array:
    constraint, field, params = args
    return constraint.pointwise(field, batch, params)
