"""Gridded observations of several outputs whose missing cells differ."""

from typing import Any, ClassVar, final

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._base import Batch
from ._data import AbstractDataConstraint
from ._region import field_values


@final
class MaskedObservations(AbstractDataConstraint):
    r"""Gridded observations of several outputs whose missing entries differ.

    The residual of output $j$ at row $i$ is $s_{ij}(\Phi_j(x_i) - z_{ij})$ with
    $s_{ij} = \mathbb{1}[z_{ij}\text{ finite}]\sqrt{n/n_j}$, so the mean over rows of the
    squared norm is $\sum_j \frac{1}{n_j}\sum_{i \in F_j}(\Phi_j(x_i) - z_{ij})^2$: each
    output's mean squared error over its own finite cells, missing cells contributing 0.

    Attributes:
        points: ``(n, d)``.
        values: ``(n, m)``, missing entries set to 0.
        scale: ``(n, m)``, the $s_{ij}$.
        batch_size: rows per step (``None``: all).

    Example:
        >>> import jax, jax.numpy as jnp, numpy as np
        >>> x = jnp.linspace(0.0, 1.0, 4)[:, None]
        >>> values = np.array([[1.0, 2.0], [1.0, np.nan], [1.0, 2.0], [1.0, 2.0]])
        >>> obs = MaskedObservations(x, values, np.isfinite(values))
        >>> float(obs.loss(lambda p: jnp.broadcast_to(jnp.array([1.0, 2.0]), (4, 2)),
        ...                obs.sample(jax.random.key(0))))
        0.0
    """

    independent_rows: ClassVar[bool] = True
    points: Float[Array, "n d"]
    values: Float[Array, "n m"]
    scale: Float[Array, "n m"]
    batch_size: int | None = eqx.field(static=True)
    weight: float = eqx.field(static=True)
    norm: str = eqx.field(static=True)

    def __init__(self, points, values, mask, *, batch_size=None, dtype=None):
        values = np.asarray(values, dtype=np.float64)
        mask = np.asarray(mask, dtype=bool)
        if values.shape != mask.shape or values.ndim != 2:
            raise ValueError(
                f"`values` and `mask` must have one shape (n, m), got {values.shape}, {mask.shape}"
            )
        n, counts = values.shape[0], mask.sum(axis=0)
        scale = np.where(mask, np.sqrt(n / np.maximum(counts, 1)), 0.0)
        self.points = jnp.asarray(points, dtype=dtype)
        self.values = jnp.asarray(np.where(mask, values, 0.0), dtype=dtype)
        self.scale = jnp.asarray(scale, dtype=dtype)
        self.batch_size = None if batch_size is None or batch_size >= n else batch_size
        self.weight = 1.0
        self.norm = "squared"

    def rows(self, index: Array | None) -> tuple[Array, Array]:
        if index is None:
            return self.values, self.scale
        return self.values[index], self.scale[index]

    def residual(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, "n m"]:
        values, scale = batch.extra
        return (field_values(field, batch.points) - values) * scale
