r"""Residual-based adaptive resampling (RAR-D, Wu et al. 2023).

Before each block of steps, a pool of candidate collocation points is drawn for every PDE
residual, and the block's points are drawn from the pool with probability
$p(x) \propto \frac{\varepsilon(x)^k}{\mathrm{mean}\,\varepsilon^k} + c$, where
$\varepsilon$ is the residual norm: points concentrate where the PDE is violated most while
$c$ keeps some uniform coverage.
"""

from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp

from .._checks import positive_float, positive_int
from ..constraints import AbstractConstraint, Batch


@final
class AdaptiveSampling(eqx.Module):
    """Settings of residual-based adaptive resampling for `fit`.

    Attributes:
        pool_factor: candidates per kept point.
        k: exponent of the residual in the sampling density.
        c: uniform share added to the density (``c = 0``: pure residual sampling).

    Example:
        With ``c = 0`` points go only where the residual is non-zero (here $x > 1/2$):

        >>> import jax
        >>> from fieldpde.constraints import Residual
        >>> from fieldpde.domains import Interval
        >>> pde = Residual(lambda x, d: d.value - (x[0] > 0.5), Interval(0.0, 1.0), num_points=16)
        >>> batch = AdaptiveSampling(c=0.0).resample(pde, lambda x: 0.0 * x, None,
        ...     jax.random.key(0))
        >>> batch.points.shape, bool((batch.points > 0.5).all())
        ((16, 1), True)
    """

    pool_factor: int = eqx.field(static=True, default=4)
    k: float = eqx.field(static=True, default=1.0)
    c: float = eqx.field(static=True, default=1.0)

    def __check_init__(self):
        positive_int("pool_factor", self.pool_factor)
        positive_float("k", self.k)
        if self.c < 0:
            raise ValueError(f"`c` must be >= 0, got {self.c!r}")

    def resample(self, constraint: AbstractConstraint, field: Any, params: Any, key) -> Batch:
        """A batch for `constraint`: adaptive for a PDE residual whose rows are its points
        (`AbstractConstraint.adaptive`), plain sampling otherwise."""
        if not (constraint.kind == "pde" and constraint.adaptive):
            return constraint.sample(key)
        pool_key, pick_key = jax.random.split(key)
        n = constraint.num_points
        pool = constraint.with_num_points(n * self.pool_factor)
        candidates = pool.sample(pool_key)
        err = _residual_norms(pool, field, candidates, params)
        score = err**self.k
        density = score / jnp.maximum(jnp.mean(score), jnp.finfo(score.dtype).tiny) + self.c
        idx = jax.random.choice(
            pick_key, err.shape[0], (n,), replace=False, p=density / jnp.sum(density)
        )
        return jax.tree.map(
            lambda a: None if a is None else a[idx], candidates, is_leaf=lambda a: a is None
        )


@eqx.filter_jit
def _residual_norms(constraint, field, batch, params):
    return jnp.sqrt(jnp.sum(jnp.square(constraint.residual(field, batch, params)), axis=-1))
