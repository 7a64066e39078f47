"""Data: the field must pass through noisy observations."""

from typing import Any, ClassVar, Literal, final

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import as_numeric, constraint_weight, positive_float, positive_int
from ..ops import value_grad_laplacian
from ._base import Batch, Norm, check_norm
from ._data import AbstractDataConstraint
from ._region import field_values

Observed = Literal["value", "grad", "laplacian"]


@final
class Observations(AbstractDataConstraint):
    r"""Observed values $y_i \approx u(x_i)$ with noise scale $\sigma$.

    The residual is $(u(x_i) - y_i)/\sigma$, so with the squared norm the loss is the
    Gaussian negative log-likelihood up to a constant (times the weight); the region
    measure is 1, i.e. the loss is a mean over the data. With `batch_size` each step
    uses a random subset of the data.

    With ``derivative="grad"`` the data are gradients ($\nabla u(x_i) \approx g_i$,
    values of shape ``(n, d)`` for a scalar field, ``(n, m*d)`` in general), and with
    ``"laplacian"`` Laplacians: the SIREN paper's Poisson image reconstruction fits an
    image from its gradients this way.

    Attributes:
        points: observation locations, ``(n, d)``.
        values: observed values, ``(n,)`` or ``(n, m)``.
        noise_scale: $\sigma$, a number or one per output.
        batch_size: points per step (``None``: all).
        derivative: what is observed: ``"value"`` (default), ``"grad"`` or ``"laplacian"``.
        weight, norm: as for `Residual`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> x = jnp.linspace(0, 1, 5)[:, None]
        >>> obs = Observations(x, 2 * x[:, 0], noise_scale=0.1)
        >>> float(obs.loss(lambda p: 2 * p, obs.sample(jax.random.key(0))))
        0.0
    """

    independent_rows: ClassVar[bool] = True
    points: Float[Array, "n d"]
    values: Float[Array, "n m"]
    noise_scale: Float[Array, " m"]
    batch_size: int | None = eqx.field(static=True)
    derivative: Observed = eqx.field(static=True)
    weight: float = eqx.field(static=True)
    norm: Norm = eqx.field(static=True)

    def __init__(
        self,
        points: Any,
        values: Any,
        *,
        noise_scale: Any = 1.0,
        batch_size: int | None = None,
        derivative: Observed = "value",
        weight: float = 1.0,
        norm: Norm = "squared",
    ):
        if derivative not in ("value", "grad", "laplacian"):
            raise ValueError(
                f"`derivative` must be 'value', 'grad' or 'laplacian', got {derivative!r}"
            )
        points = as_numeric("points", points, "Observations")
        values = as_numeric("values", values, "Observations")
        if points.ndim != 2:
            raise ValueError(f"`points` must have shape (n, d), got {points.shape}")
        if values.ndim == 1:
            values = values[:, None]
        if values.ndim != 2 or values.shape[0] != points.shape[0]:
            raise ValueError(
                f"`values` must have shape (n,) or (n, m) with n = {points.shape[0]} points, "
                f"got {values.shape}"
            )
        if not (
            np.all(np.isfinite(np.asarray(points))) and np.all(np.isfinite(np.asarray(values)))
        ):
            raise ValueError("`points` and `values` must be finite (drop missing data first)")
        sigma = np.atleast_1d(np.asarray(noise_scale, dtype=float))
        for s in sigma:
            positive_float("noise_scale", float(s))
        if sigma.shape not in ((1,), (values.shape[1],)):
            raise ValueError(
                f"`noise_scale` must be a number or one per output ({values.shape[1]}), "
                f"got shape {sigma.shape}"
            )
        self.points = points
        self.values = values
        self.noise_scale = jnp.asarray(sigma, dtype=values.dtype)
        self.batch_size = None if batch_size is None else positive_int("batch_size", batch_size)
        if self.batch_size is not None and self.batch_size > points.shape[0]:
            raise ValueError(
                f"`batch_size` {batch_size} exceeds the number of observations {points.shape[0]}"
            )
        self.derivative = derivative
        self.weight = constraint_weight(weight, "Observations")
        self.norm = check_norm(norm)

    def rows(self, index: Array | None) -> Float[Array, "n m"]:
        return self.values if index is None else self.values[index]

    def residual(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, "n r"]:
        x = batch.points
        if self.derivative == "value":
            predicted = field_values(field, x)
        else:
            d = value_grad_laplacian(field, x)
            predicted = d.grad if self.derivative == "grad" else d.laplacian
            predicted = predicted.reshape(x.shape[0], -1)
        if predicted.shape[-1] != batch.extra.shape[-1]:
            raise ValueError(
                f"Observations of {self.derivative!r}: the field gives {predicted.shape[-1]} "
                f"values per point but `values` has {batch.extra.shape[-1]}"
            )
        return (predicted - batch.extra) / self.noise_scale
