r"""Causal training for space-time problems (Wang, Sankaran & Perdikaris 2022).

A PINN trained on the whole time span at once can fit the PDE at late times to a wrong
state before the early times, which carry the initial data, are resolved. Causal training
splits $[t_0, t_1]$ into $M$ chunks with mean residual losses $L_1, \dots, L_M$ and minimises

$$\mathcal{L}_r = \frac{1}{M} \sum_{i=1}^{M} w_i L_i, \qquad
  w_i = \exp\Big(-\varepsilon \sum_{k < i} L_k\Big),$$

with the weights held constant under differentiation: a chunk gets weight only once every
earlier chunk has a small residual, so the solution is learned forward in time.
"""

from collections.abc import Sequence
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import positive_float, positive_int
from .._tree import with_static
from ..constraints import AbstractConstraint, Batch, Residual
from ..constraints._base import Norm, apply_norm
from ..domains import SpaceTime
from ..problem import Problem


@final
class Causal(eqx.Module):
    r"""Settings of causal training, the `causal` option of `fit`.

    Attributes:
        epsilon: $\varepsilon$, how strongly an unresolved earlier chunk mutes later ones
            (Wang et al. use 1 to 100; larger is stricter).
        chunks: $M$, the number of time chunks the residual points are binned into.
        constraints: names of the constraints to weight (default: every `Residual` whose
            domain is a `SpaceTime` cylinder).

    Example:
        >>> import jax
        >>> from fieldpde.constraints import Residual
        >>> from fieldpde.domains import Interval, SpaceTime, TimeInterval
        >>> cyl = SpaceTime(Interval(0.0, 1.0), TimeInterval(0.0, 1.0))
        >>> problem = Problem({"pde": Residual(lambda x, d: d.grad[0, 1], cyl)})
        >>> type(Causal(epsilon=10.0).wrap(problem).constraints["pde"]).__name__
        'CausalResidual'
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

    def wrap(self, problem: Problem) -> Problem:
        """The problem with its space-time residuals replaced by `CausalResidual` wrappers."""
        names = self.constraints
        if names is None:
            names = tuple(
                n
                for n, c in problem.constraints.items()
                if isinstance(c, Residual) and isinstance(c.region.domain, SpaceTime)
            )
            if not names:
                raise ValueError(
                    "causal training needs a `Residual` on a SpaceTime domain; the problem has "
                    f"constraints {sorted(problem.constraints)} and none qualifies"
                )
        constraints = dict(problem.constraints)
        for name in names:
            if name not in constraints:
                raise ValueError(
                    f"`constraints` names {name!r}, which is not one of the problem's "
                    f"constraints {sorted(constraints)}"
                )
            constraints[name] = CausalResidual(constraints[name], self.epsilon, self.chunks)
        return with_static(problem, constraints=constraints)


def _time_span(constraint: Any) -> tuple[float, float]:
    domain = getattr(getattr(constraint, "region", None), "domain", None)
    if not isinstance(domain, SpaceTime):
        raise TypeError(
            f"causal weights need a constraint on a SpaceTime domain, got a "
            f"{type(constraint).__name__} on {type(domain).__name__}"
        )
    return domain.time.t0, domain.time.t1


@final
class CausalResidual(AbstractConstraint):
    r"""A space-time constraint whose loss is the causally weighted sum over time chunks.

    Samples and residuals are those of `inner`; only `loss` differs (see the module).

    Attributes:
        inner: the wrapped constraint (a `Residual` on a `SpaceTime` domain).
        epsilon, chunks: as in `Causal`.

    Example:
        For $u = t$ the residual $u_t$ of $u_t = 0$ is 1 in every chunk, so chunk $i$ gets
        the weight $e^{-\varepsilon i}$:

        >>> import jax
        >>> from fieldpde.constraints import Residual
        >>> from fieldpde.domains import Interval, TimeInterval
        >>> cyl = Interval(0.0, 1.0) * TimeInterval(0.0, 1.0)
        >>> pde = Residual(lambda x, d: d.grad[0, 1], cyl, num_points=64)
        >>> causal = CausalResidual(pde, epsilon=1.0, chunks=4)
        >>> losses, weights = causal.chunk_losses(lambda x: x[..., 1:], causal.sample(
        ...     jax.random.key(0)))
        >>> losses.round(6).tolist(), weights.round(3).tolist()
        ([1.0, 1.0, 1.0, 1.0], [1.0, 0.368, 0.135, 0.05])
    """

    inner: AbstractConstraint
    epsilon: float = eqx.field(static=True)
    chunks: int = eqx.field(static=True)
    t0: float = eqx.field(static=True)
    t1: float = eqx.field(static=True)
    weight: float = eqx.field(static=True)
    norm: Norm = eqx.field(static=True)

    def __init__(self, inner: AbstractConstraint, epsilon: float, chunks: int):
        self.inner = inner
        self.epsilon = positive_float("epsilon", epsilon)
        self.chunks = positive_int("chunks", chunks)
        self.t0, self.t1 = _time_span(inner)
        self.weight = inner.weight
        self.norm = inner.norm

    @property
    def measure(self) -> float:
        return self.inner.measure

    def sample(self, key: PRNGKeyArray) -> Batch:
        return self.inner.sample(key)

    def with_num_points(self, n: int) -> "CausalResidual":
        return CausalResidual(self.inner.with_num_points(n), self.epsilon, self.chunks)

    def residual(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, "n r"]:
        return self.inner.residual(field, batch, params)

    def chunk_losses(self, field: Any, batch: Batch, params: Any = None):
        """Per-chunk mean residual losses $L_i$ and causal weights $w_i$, each ``(M,)``."""
        values = apply_norm(self.inner.residual(field, batch, params), self.norm)
        t = batch.points[:, -1]
        position = (t - self.t0) / (self.t1 - self.t0) * self.chunks
        index = jnp.clip(jnp.floor(position).astype(jnp.int32), 0, self.chunks - 1)
        sums = jax.ops.segment_sum(values, index, num_segments=self.chunks)
        counts = jax.ops.segment_sum(jnp.ones_like(values), index, num_segments=self.chunks)
        chunk = sums / jnp.maximum(counts, 1)
        earlier = jnp.cumsum(chunk) - chunk
        weights = jax.lax.stop_gradient(jnp.exp(-self.epsilon * earlier))
        return chunk, weights

    def loss(self, field: Any, batch: Batch, params: Any = None) -> Float[Array, ""]:
        chunk, weights = self.chunk_losses(field, batch, params)
        return self.weight * self.measure * jnp.mean(weights * chunk)
