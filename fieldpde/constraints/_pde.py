"""The PDE residual constraint."""

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import constraint_weight
from .._types import Dims
from ..domains import AbstractDomain
from ..ops import value_grad_laplacian
from ._base import Batch, Kind, Norm, check_norm
from ._region import AbstractRegionConstraint, Part, Region

# Points per tile of a large residual loss, and the smallest batch tiled by default. A
# tile of a width-128 sine network's jets (value, two derivative rows, Laplacian) is about
# 1 MiB, an L2 cache; measured in benchmarks/step_roofline.py (docs/benchmarks.md).
AUTO_TILE = 512
AUTO_TILE_FROM = 2048


def takes_params(fn: Callable[..., Any], plain: int, name: str) -> bool:
    """Whether `fn` wants a trailing ``params`` argument after its `plain` arguments."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    positional = [
        p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values()):
        return True
    if len(positional) not in (plain, plain + 1):
        args = ", ".join(["x", "d"][:plain])
        raise TypeError(
            f"`{name}` must take ({args}) or ({args}, params), but its signature is {sig}"
        )
    return len(positional) == plain + 1


@final
class Residual(AbstractRegionConstraint):
    r"""A PDE residual $C(x, u, \nabla u, \Delta u, \dots) = 0$ over a region.

    With ``uses="derivatives"`` (default) the residual is written from the field's value,
    gradient and Laplacian at one point, which fieldpde computes for the whole batch in one
    pass (the forward-Laplacian fast path for SIREN/MLP fields, autodiff otherwise)::

        Residual(lambda x, d: d.laplacian + k**2 * d.value - q(x), domain)

    ``d`` has ``value (m,)``, ``grad (m, k)`` and ``laplacian (m,)``. With
    ``uses="field"`` the function gets the pointwise field instead, for any other
    operator (``lambda x, u: ops.divergence(u)(x)``). A third argument, if the function
    takes one, receives the trainable PDE parameters (inverse problems).

    Attributes:
        fn: the residual of one point.
        region: where points are drawn: built from the ``domain``, ``part`` (default
            ``"interior"``), ``num_points`` (per step) and ``method`` (``"uniform"``,
            ``"sobol"``, ``"halton"`` or ``"grid"``) arguments.
        weight: $w_m$ in Eq. 3, a finite number >= 0 (0 switches the term off; a negative
            or NaN weight is a `ValueError`).
        norm: ``"squared"`` (default), ``"l2"`` or ``"l1"``.
        dims, laplacian_dims: coordinates the gradient / Laplacian are taken along
            (for ``(x, y, t)`` points: ``laplacian_dims=(0, 1)`` for the spatial Laplacian).
        tile: points per tile of the loss (`fieldpde.constraints.tiled_sum`: the same
            loss and gradient, evaluated tile by tile so each tile's jets stay in cache):
            ``"auto"`` (default) tiles batches of at least `AUTO_TILE_FROM` points in
            tiles of `AUTO_TILE` points and leaves smaller ones whole; an int sets the
            tile; ``None`` never tiles (needed for forward-mode derivatives of the loss).
        equations: for a system, the names of the equations `fn` returns, one per entry
            of its output (``("momentum_x", "momentum_y", "continuity")``), or a dict
            name -> weight; each equation's term is reported on its own in the training
            history (``"pde[continuity]"``). A weight $w_e$ multiplies its term: the
            residual column is scaled by $\sqrt{w_e}$ (squared norm) or $w_e$ (L1).

    Example:
        >>> import jax
        >>> from fieldpde.domains import Box
        >>> box = Box([0.0, 0.0], [1.0, 1.0])
        >>> pde = Residual(lambda x, d: d.laplacian + 2.0, box, num_points=64)  # -Δu = 2
        >>> batch = pde.sample(jax.random.key(0))
        >>> u = lambda x: x[..., :1] * (1.0 - x[..., :1])  # Δu = -2
        >>> round(float(pde.loss(u, batch)), 6), float(pde.loss(lambda x: 0.0 * x[..., :1], batch))
        (0.0, 4.0)

        A system of two equations, each reported on its own:

        >>> system = Residual(lambda x, d: jnp.stack([d.laplacian[0] + 2.0, d.value[1] - 1.0]),
        ...                   box, num_points=64, equations={"poisson": 1.0, "pin": 4.0})
        >>> uv = lambda x: jnp.concatenate([u(x), 0.0 * u(x)], -1)
        >>> {k: round(float(v), 6) for k, v in system.equation_losses(uv, batch).items()}
        {'poisson': 0.0, 'pin': 4.0}
    """

    kind: ClassVar[Kind] = "pde"
    adaptive: ClassVar[bool] = True
    independent_rows: ClassVar[bool] = True

    fn: Callable[..., Any] = eqx.field(static=True)
    region: Region
    tile: int | Literal["auto"] | None = eqx.field(static=True)
    weight: float = eqx.field(static=True)
    norm: Norm = eqx.field(static=True)
    uses: Literal["derivatives", "field"] = eqx.field(static=True)
    dims: Dims = eqx.field(static=True)
    laplacian_dims: Dims = eqx.field(static=True)
    equations: tuple[str, ...] = eqx.field(static=True)  # pyright: ignore[reportIncompatibleVariableOverride]
    equation_weights: tuple[float, ...] | None = eqx.field(static=True)
    _with_params: bool = eqx.field(static=True)

    def __init__(
        self,
        fn: Callable[..., Any],
        domain: AbstractDomain,
        *,
        num_points: int = 1024,
        method: str = "sobol",
        weight: float = 1.0,
        norm: Norm = "squared",
        part: Part = "interior",
        uses: Literal["derivatives", "field"] = "derivatives",
        dims: Dims = None,
        laplacian_dims: Dims = None,
        tile: int | Literal["auto"] | None = "auto",
        equations: Sequence[str] | Mapping[str, float] | None = None,
    ):
        if not callable(fn):
            raise TypeError(f"`fn` must be callable, got {type(fn).__name__}")
        if uses not in ("derivatives", "field"):
            raise ValueError(f"`uses` must be 'derivatives' or 'field', got {uses!r}")
        self.region = Region(domain, part, num_points=num_points, method=method, owner="Residual")
        self._with_params = takes_params(fn, 2, "fn")
        self.fn = fn
        self.weight = constraint_weight(weight, "Residual")
        self.norm = check_norm(norm)
        self.uses = uses
        self.dims = tuple(dims) if isinstance(dims, list) else dims
        self.laplacian_dims = (
            tuple(laplacian_dims) if isinstance(laplacian_dims, list) else laplacian_dims
        )
        self.equations, self.equation_weights = _equations(equations, self.norm)  # pyright: ignore[reportIncompatibleVariableOverride]
        if not (tile is None or tile == "auto" or (isinstance(tile, int) and tile >= 1)):
            raise ValueError(f"`tile` must be 'auto', a positive int or None, got {tile!r}")
        self.tile = tile

    def loss_tile(self, n: int) -> int | None:
        """`AUTO_TILE` for ``tile="auto"`` at `n` >= `AUTO_TILE_FROM` points, else `tile`."""
        if self.tile == "auto":
            return AUTO_TILE if n >= AUTO_TILE_FROM else None
        return self.tile

    def evaluate(self, x: Float[Array, " d"], d: Any, params: Any = None) -> Array:
        """The residual function at one point: ``fn(x, d)`` or ``fn(x, d, params)``.

        `d` is what `uses` says: the derivatives at `x` (a `fieldpde.ops.FieldDerivatives`
        of one point) or the pointwise field.
        """
        extra = (params,) if self._with_params else ()
        return jnp.asarray(self.fn(x, d, *extra))

    def residual(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, "n r"]:
        x = batch.points
        if self.uses == "field":

            def pointwise_field(p):
                return field(p)

            out = jax.vmap(lambda p: self.evaluate(p, pointwise_field, params))(x)
        else:
            d = value_grad_laplacian(field, x, dims=self.dims, laplacian_dims=self.laplacian_dims)
            out = jax.vmap(lambda p, di: self.evaluate(p, di, params))(x, d)
        out = out.reshape(x.shape[0], -1)
        if self.equations and out.shape[1] != len(self.equations):
            raise ValueError(
                f"`fn` of Residual returns {out.shape[1]} value(s) per point but `equations` "
                f"names {len(self.equations)}: {self.equations}"
            )
        if self.equation_weights is not None:
            w = jnp.asarray(self.equation_weights, out.dtype)
            out = out * (jnp.sqrt(w) if self.norm == "squared" else w)
        return out


def _equations(equations: Any, norm: str) -> tuple[tuple[str, ...], tuple[float, ...] | None]:
    """`equations=` as (names, weights or None)."""
    if equations is None:
        return (), None
    if isinstance(equations, str):
        raise TypeError(f"`equations` must be a sequence of names or a dict, got {equations!r}")
    if isinstance(equations, Mapping):
        names = tuple(str(k) for k in equations)
        weights = tuple(constraint_weight(v, "Residual equation") for v in equations.values())
    else:
        names, weights = tuple(str(k) for k in equations), None
    if not names or len(set(names)) != len(names):
        raise ValueError(f"`equations` must name distinct equations, got {equations!r}")
    if norm == "l2":
        raise ValueError(
            "`equations` splits the loss by equation, which the 'l2' norm does not allow "
            "(its terms do not add up); use norm='squared' or 'l1'"
        )
    if weights is not None and all(w == 1.0 for w in weights):
        weights = None
    return names, weights
