r"""A PDE residual on a grid's own domain, in the data's coordinates and units.

`fit_xarray` trains a network $\Phi$ on encoded inputs $x' = E(c)$ (each dimension mapped
to $[-1, 1]$, a periodic one to $(\cos\theta, \sin\theta)$) and standardised values; the
field in the data's terms is $u(c) = \sigma\,\Phi(E(c)) + \mu$. A `GridPDE` is written for
$u$ at points $c$ in the data's coordinates (degrees, metres, ...), so a Laplace or
advection-diffusion residual means what it says whatever the grid's ranges; `fit_xarray`
turns it into a constraint on the box the grid's coordinates span.
"""

from collections.abc import Callable
from typing import Any, ClassVar, Literal, final

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._checks import constraint_weight, positive_int
from ..constraints import AbstractConstraint, Batch, Kind, Residual
from ..domains import Box
from ._coords import AxisEncoding

Norm = Literal["squared", "l2", "l1"]


@final
class GridPDE(eqx.Module):
    r"""A PDE residual for `fit_xarray`'s ``constraints``, acting on the grid's domain.

    ``fn(c, d)`` is the residual at one point $c$ (the data's coordinates, one per
    dimension in the data's order) of the fitted field in the data's units: as for
    `fieldpde.constraints.Residual`, ``d`` has ``value (m,)``, ``grad (m, k)`` and
    ``laplacian (m,)`` (one row per fitted variable), or with ``uses="field"`` ``d`` is
    the pointwise field. Points are drawn from the box the grid's coordinates span
    (periodic dimensions included); the loss term is ``weight`` times the mean of the
    squared residual over them, added to the data term (whose scale is the mean squared
    standardised misfit, about the noise variance over the data's variance).

    Examples of smoothness priors and physics:

    - Laplace: ``GridPDE(lambda c, d: d.laplacian)``;
    - steady advection-diffusion $\mathbf v\cdot\nabla u = \kappa\Delta u$:
      ``GridPDE(lambda c, d: d.grad[:, :2] @ v - kappa * d.laplacian)``.

    Attributes:
        fn: the residual of one point.
        num_points: points per step.
        weight: the term's weight, a finite number >= 0.
        method: ``"sobol"`` (default), ``"uniform"``, ``"halton"`` or ``"grid"``.
        norm: ``"squared"`` (default), ``"l2"`` or ``"l1"``.
        uses, dims, laplacian_dims: as for `fieldpde.constraints.Residual`.

    Example:
        >>> import numpy as np, xarray as xr
        >>> from fieldpde.io import fit_xarray
        >>> x = np.linspace(0.0, 2.0, 21)
        >>> da = xr.DataArray(1.0 + 3.0 * x, coords={"x": x}, dims="x", name="u")
        >>> gappy = da.where((x < 0.5) | (x > 1.5))  # u'' = 0 across the gap
        >>> field = fit_xarray(gappy, constraints=[GridPDE(lambda c, d: d.laplacian,
        ...     num_points=64, weight=1.0)], width=16, depth=3, omega=2.0, steps=300,
        ...     progress=False)
        >>> bool(abs(field.predict() - da).max() < 0.1)
        True
    """

    fn: Callable[..., Any] = eqx.field(static=True)
    num_points: int = eqx.field(static=True)
    weight: float = eqx.field(static=True)
    method: str = eqx.field(static=True)
    norm: str = eqx.field(static=True)
    uses: str = eqx.field(static=True)
    dims: Any = eqx.field(static=True)
    laplacian_dims: Any = eqx.field(static=True)

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        num_points: int = 1024,
        weight: float = 1.0,
        method: str = "sobol",
        norm: str = "squared",
        uses: Literal["derivatives", "field"] = "derivatives",
        dims: Any = None,
        laplacian_dims: Any = None,
    ):
        if not callable(fn):
            raise TypeError(f"`fn` of GridPDE must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.num_points = positive_int("num_points", num_points)
        self.weight = constraint_weight(weight, "GridPDE")
        self.method = method
        self.norm = norm
        self.uses = uses
        self.dims = dims
        self.laplacian_dims = laplacian_dims

    def build(self, axes: tuple[AxisEncoding, ...], mean: Any, std: Any) -> AbstractConstraint:
        """The constraint on the encoded network: a `Residual` on the grid's box, seen
        through the encoding and the standardisation."""
        for a in axes:
            if a.kind == "time":
                raise ValueError(
                    f"`constraints`: a GridPDE needs numeric coordinates; dimension "
                    f"`{a.name}` is datetime64 (give it numeric coordinates, e.g. days)"
                )
            if a.kind != "periodic" and not a.hi > a.lo:
                raise ValueError(
                    f"`constraints`: a GridPDE cannot act along dimension `{a.name}`, which "
                    "has a single coordinate (select it away first)"
                )
        lo = [a.lo for a in axes]
        hi = [a.hi for a in axes]
        residual = Residual(
            self.fn,
            Box(lo, hi),
            num_points=self.num_points,
            method=self.method,
            weight=self.weight,
            norm=self.norm,  # type: ignore[arg-type]
            uses=self.uses,  # type: ignore[arg-type]
            dims=self.dims,
            laplacian_dims=self.laplacian_dims,
        )
        mean = tuple(float(v) for v in np.atleast_1d(mean))
        std = tuple(float(v) for v in np.atleast_1d(std))
        return OnGrid(residual, tuple(axes), mean, std)


@final
class OnGrid(AbstractConstraint):
    r"""A `Residual` in the data's coordinates and units, applied to an encoded network.

    The network $\Phi$ sees $E(c)$ and gives standardised values; the residual sees
    $u(c) = \sigma\,\Phi(E(c)) + \mu$. The term is $w\,\mathrm{mean}_i\|C(c_i)\|$ (its
    measure is 1, so `weight` alone sets its scale against the data term).
    """

    # equinox's AbstractVar is met by a class variable, which pyright reads as an override
    kind: ClassVar[Kind] = "pde"  # pyright: ignore[reportIncompatibleVariableOverride]
    adaptive: ClassVar[bool] = True  # pyright: ignore[reportIncompatibleVariableOverride]

    inner: Residual
    axes: tuple[AxisEncoding, ...] = eqx.field(static=True)
    mean: tuple[float, ...] = eqx.field(static=True)
    std: tuple[float, ...] = eqx.field(static=True)
    weight: float = eqx.field(static=True)
    norm: Norm = eqx.field(static=True)

    def __init__(
        self,
        inner: Residual,
        axes: tuple[AxisEncoding, ...],
        mean: tuple[float, ...],
        std: tuple[float, ...],
    ):
        self.inner = inner
        self.axes = axes
        self.mean = mean
        self.std = std
        self.weight = inner.weight
        self.norm = inner.norm

    @property
    def time_span(self) -> None:  # type: ignore[override]
        return None

    @property
    def num_points(self) -> int:  # type: ignore[override]
        return self.inner.num_points

    @property
    def domain(self):  # type: ignore[override]
        return self.inner.domain

    @property
    def measure(self) -> float:
        return 1.0

    def sample(self, key) -> Batch:
        return self.inner.sample(key)

    def with_num_points(self, n: int) -> "OnGrid":
        return eqx.tree_at(lambda c: c.inner, self, self.inner.with_num_points(n))

    def times(self, batch: Batch):
        return None

    def encode(self, c):
        """$E(c)$ for points of shape ``(..., d)``, in JAX (differentiable)."""
        cols = []
        for i, a in enumerate(self.axes):
            ci = c[..., i]
            if a.kind == "periodic" and a.period is not None:
                theta = (2.0 * np.pi / a.period) * (ci - a.origin)
                cols += [jnp.cos(theta), jnp.sin(theta)]
            else:
                half = (a.hi - a.lo) / 2.0
                cols.append((ci - (a.hi + a.lo) / 2.0) / half)
        return jnp.stack(cols, axis=-1)

    def residual(self, field, batch: Batch, params=None):
        mean = jnp.asarray(self.mean, dtype=batch.points.dtype)
        std = jnp.asarray(self.std, dtype=batch.points.dtype)

        def physical(c):
            return field(self.encode(c)) * std + mean

        return self.inner.residual(physical, batch, params)
