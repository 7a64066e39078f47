r"""Causal training for space-time problems (Wang, Sankaran & Perdikaris 2022).

A PINN trained on the whole time span at once can fit the PDE at late times to a wrong
state before the early times, which carry the initial data, are resolved. Causal training
splits $[t_0, t_1]$ into $M$ chunks with mean residual losses $L_1, \dots, L_M$ and minimises

$$\mathcal{L}_r = \frac{1}{M} \sum_{i=1}^{M} w_i L_i, \qquad
  w_i = \exp\Big(-\varepsilon \sum_{k < i} L_k\Big),$$

with the weights held constant under differentiation: a chunk gets weight only once every
earlier chunk has a small residual, so the solution is learned forward in time. The
weighting acts on any constraint through its declared hooks: `time_span`, `times` (the
time of each residual row) and `pointwise` (the norm of each row).
"""

from collections.abc import Sequence
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import positive_float, positive_int
from ..constraints import AbstractConstraint, Batch


@final
class Causal(eqx.Module):
    r"""Settings of causal training, the `causal` option of `fit`.

    Attributes:
        epsilon: $\varepsilon$, how strongly an unresolved earlier chunk mutes later ones
            (Wang et al. use 1 to 100; larger is stricter).
        chunks: $M$, the number of time chunks the residual points are binned into.
        constraints: names of the constraints to weight (default: every PDE residual on a
            space-time domain).

    Example:
        >>> import jax
        >>> from fieldpde import Problem
        >>> from fieldpde.constraints import Initial, Residual
        >>> from fieldpde.domains import Interval, SpaceTime, TimeInterval
        >>> cyl = SpaceTime(Interval(0.0, 1.0), TimeInterval(0.0, 1.0))
        >>> problem = Problem({"pde": Residual(lambda x, d: d.grad[0, 1], cyl),
        ...                    "ic": Initial(0.0, cyl)})
        >>> Causal(epsilon=10.0).select(problem)
        ('pde',)
    """

    epsilon: float = eqx.field(static=True, default=1.0)
    chunks: int = eqx.field(static=True, default=32)
    constraints: tuple[str, ...] | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        positive_float("epsilon", self.epsilon)
        positive_int("chunks", self.chunks)
        if self.constraints is not None and (
            isinstance(self.constraints, str) or not isinstance(self.constraints, Sequence)
        ):
            raise ValueError(
                f"`constraints` must be a tuple of constraint names, got {self.constraints!r}"
            )

    def select(self, problem: Any) -> tuple[str, ...]:
        """The names of the problem's constraints to weight (checked)."""
        named = problem.constraints
        if self.constraints is None:
            names = tuple(
                n for n, c in named.items() if c.kind == "pde" and c.time_span is not None
            )
            if not names:
                raise ValueError(
                    "causal training needs a PDE residual on a SpaceTime domain; the problem "
                    f"has constraints {sorted(named)} and none qualifies"
                )
            return names
        for name in self.constraints:
            if name not in named:
                raise ValueError(
                    f"`constraints` names {name!r}, which is not one of the problem's "
                    f"constraints {sorted(named)}"
                )
            if named[name].time_span is None:
                raise TypeError(
                    f"causal weights need a constraint on a SpaceTime domain, but {name!r} "
                    f"is a {type(named[name]).__name__} without a time span"
                )
        return tuple(self.constraints)

    def chunk_losses(
        self, constraint: AbstractConstraint, field: Any, batch: Batch, params: Any = None
    ) -> tuple[Float[Array, " M"], Float[Array, " M"]]:
        """Per-chunk mean residual losses $L_i$ and causal weights $w_i$, each ``(M,)``."""
        span, times = constraint.time_span, constraint.times(batch)
        if span is None or times is None:
            raise TypeError(
                f"causal weights need a constraint on a SpaceTime domain, got a "
                f"{type(constraint).__name__} without a time span"
            )
        t0, t1 = span
        values = constraint.pointwise(field, batch, params)
        position = (times - t0) / (t1 - t0) * self.chunks
        index = jnp.clip(jnp.floor(position).astype(jnp.int32), 0, self.chunks - 1)
        sums = jax.ops.segment_sum(values, index, num_segments=self.chunks)
        counts = jax.ops.segment_sum(jnp.ones_like(values), index, num_segments=self.chunks)
        chunk = sums / jnp.maximum(counts, 1)
        earlier = jnp.cumsum(chunk) - chunk
        weights = jax.lax.stop_gradient(jnp.exp(-self.epsilon * earlier))
        return chunk, weights

    def loss(
        self, constraint: AbstractConstraint, field: Any, batch: Batch, params: Any = None
    ) -> Float[Array, ""]:
        r"""$w\,|\Omega|\,\frac{1}{M}\sum_i w_i L_i$: the constraint's causally weighted term.

        Example:
            For $u = t$ the residual $u_t$ of $u_t = 0$ is 1 in every chunk, so chunk $i$
            gets the weight $e^{-\varepsilon i}$:

            >>> import jax
            >>> from fieldpde.constraints import Residual
            >>> from fieldpde.domains import Interval, TimeInterval
            >>> cyl = Interval(0.0, 1.0) * TimeInterval(0.0, 1.0)
            >>> pde = Residual(lambda x, d: d.grad[0, 1], cyl, num_points=64)
            >>> causal = Causal(epsilon=1.0, chunks=4)
            >>> losses, weights = causal.chunk_losses(pde, lambda x: x[..., 1:],
            ...                                       pde.sample(jax.random.key(0)))
            >>> losses.round(6).tolist(), weights.round(3).tolist()
            ([1.0, 1.0, 1.0, 1.0], [1.0, 0.368, 0.135, 0.05])
        """
        chunk, weights = self.chunk_losses(constraint, field, batch, params)
        return constraint.weight * constraint.measure * jnp.mean(weights * chunk)
