r"""Loss balancing: weights of a problem's terms chosen during training, as option objects.

A PINN loss $\sum_m \lambda_m L_m$ whose terms differ by orders of magnitude (a PDE
residual against boundary data, say) trains the large term and ignores the others. A
balancing scheme sets the weights $\lambda_m$ from the state of training, before each block
of steps of the phases that draw fresh points (the weights then stay fixed through an
L-BFGS phase, which needs one loss):

- `InitialNormalization`: $\lambda_m = 1 / L_m(\theta_0)$, every term 1 at the start;
- `LRAnnealing`: learning-rate annealing (Wang, Teng & Perdikaris, SIAM J. Sci. Comput.
  2021): $\hat\lambda_m = \max_\theta |\nabla_\theta L_r| / \overline{|\nabla_\theta L_m|}$
  against the PDE residual $L_r$ (``mode="max"``, the paper's rule), or the gradient-norm
  form $\hat\lambda_m = \sum_k \|\nabla L_k\| / \|\nabla L_m\|$ (``mode="norm"``), smoothed
  by $\lambda \leftarrow \alpha \lambda + (1 - \alpha) \hat\lambda$.

`fit(..., balancing=...)` applies a scheme through `BalancedObjective`, a sibling of
`ProblemObjective` whose batch carries the block's weights. The weights are host-side
state of the run (they are not part of a checkpoint).
"""

import abc
from collections.abc import Mapping
from typing import Any, Literal, final

import equinox as eqx
import jax
import jax.numpy as jnp

from ._objective import AbstractObjective, ProblemObjective


def _term_losses(problem: Any, field: Any, phi: Any, batches: Mapping[str, Any]):
    return {n: c.loss(field, batches[n], phi) for n, c in problem.constraints.items()}


@eqx.filter_jit
def term_losses(problem: Any, model: Any, batches: Mapping[str, Any]) -> dict[str, Any]:
    """Each constraint's Eq. 3 term at `model` = ``(field, pde_params)`` (compiled)."""
    field, phi = model
    return _term_losses(problem, field, phi, batches)


@eqx.filter_jit
def term_gradients(problem: Any, params: Any, static: Any, batches: Mapping[str, Any]):
    """Each term's gradient with respect to the trainable arrays, as flat vectors."""
    out = {}
    for name, c in problem.constraints.items():

        def loss(p, c=c, name=name):
            field, phi = eqx.combine(p, static)
            return c.loss(field, batches[name], phi)

        grads = jax.grad(loss)(params)
        leaves = [g.ravel() for g in jax.tree.leaves(grads) if eqx.is_inexact_array(g)]
        out[name] = jnp.concatenate(leaves)
    return out


class AbstractBalancing(eqx.Module):
    """A scheme that sets the weights of a problem's loss terms during training.

    A concrete scheme implements `weights`: the new weights from the previous ones (``None``
    before the first block), the block's batch and the current trainable arrays.

    Example:
        Equal weights, fixed (what no balancing does):

        >>> class Equal(AbstractBalancing):
        ...     def weights(self, previous, problem, params, static, batches):
        ...         return {n: 1.0 for n in problem.constraints}
        >>> Equal().weights(None, type("P", (), {"constraints": {"pde": None}})(), None,
        ...                 None, None)
        {'pde': 1.0}
    """

    @abc.abstractmethod
    def weights(
        self,
        previous: dict[str, float] | None,
        problem: Any,
        params: Any,
        static: Any,
        batches: Mapping[str, Any],
    ) -> dict[str, float]:
        """The weight of every constraint for the next block."""


@final
class InitialNormalization(AbstractBalancing):
    r"""$\lambda_m = 1 / L_m(\theta_0)$: every term starts at 1, and stays so weighted.

    Attributes:
        floor: terms smaller than this at the start keep weight 1 (a term that is
            already met, such as hard-held data).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde import Problem
        >>> from fieldpde.constraints import Observations
        >>> x = jnp.linspace(0, 1, 4)[:, None]
        >>> p = Problem({"a": Observations(x, 3 + x[:, 0]), "b": Observations(x, x[:, 0])})
        >>> params, static = eqx.partition((lambda q: 0 * q, None), eqx.is_inexact_array)
        >>> w = InitialNormalization().weights(None, p, params, static, p.sample(jax.random.key(0)))
        >>> {k: round(v, 4) for k, v in w.items()}  # 1 / mean((3 + x)^2), 1 / mean(x^2)
        {'a': 0.0807, 'b': 2.5714}
    """

    floor: float = eqx.field(static=True, default=1e-12)

    def weights(self, previous, problem, params, static, batches):
        if previous is not None:
            return previous
        losses = term_losses(problem, eqx.combine(params, static), batches)
        out = {}
        for name, value in losses.items():
            v = float(value) / max(problem.constraints[name].weight, 1e-300)
            out[name] = 1.0 / v if v > self.floor else 1.0
        return out


@final
class LRAnnealing(AbstractBalancing):
    r"""Learning-rate annealing: weights from the terms' gradient statistics.

    Attributes:
        alpha: the smoothing $\alpha$ of $\lambda \leftarrow \alpha\lambda + (1-\alpha)
            \hat\lambda$ (0.9 in Wang et al.).
        mode: ``"max"``: $\hat\lambda_m = \max|\nabla L_r| / \overline{|\nabla L_m|}$
            against the PDE residuals (their weight stays 1); ``"norm"``:
            $\hat\lambda_m = \sum_k \|\nabla L_k\| / \|\nabla L_m\|$ for every term.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde import Problem, SIREN
        >>> from fieldpde.constraints import Dirichlet, Residual
        >>> from fieldpde.domains import Interval
        >>> line = Interval(0.0, 1.0)
        >>> p = Problem({"pde": Residual(lambda x, d: d.laplacian + 100.0, line, num_points=32),
        ...              "bc": Dirichlet(0.0, line, num_points=2)})
        >>> net = SIREN.init(1, 16, 1, depth=3, key=jax.random.key(0))
        >>> params, static = eqx.partition((net, None), eqx.is_inexact_array)
        >>> w = LRAnnealing().weights(None, p, params, static, p.sample(jax.random.key(1)))
        >>> w["pde"], w["bc"] > 1.0  # the small boundary term is weighted up
        (1.0, True)
    """

    alpha: float = eqx.field(static=True, default=0.9)
    mode: Literal["max", "norm"] = eqx.field(static=True, default="max")

    def __check_init__(self):
        if not 0.0 <= self.alpha < 1.0:
            raise ValueError(f"`alpha` must be in [0, 1), got {self.alpha!r}")
        if self.mode not in ("max", "norm"):
            raise ValueError(f"`mode` must be 'max' or 'norm', got {self.mode!r}")

    def weights(self, previous, problem, params, static, batches):
        grads = term_gradients(problem, params, static, batches)
        pde = [n for n, c in problem.constraints.items() if c.kind == "pde"]
        target: dict[str, float] = {}
        if self.mode == "max" and pde:
            top = max(float(jnp.max(jnp.abs(grads[n]))) for n in pde)
            for name in problem.constraints:
                mean = float(jnp.mean(jnp.abs(grads[name])))
                target[name] = 1.0 if name in pde or mean == 0 else top / mean
        else:
            norms = {n: float(jnp.linalg.norm(g)) for n, g in grads.items()}
            total = sum(norms.values())
            for name, norm in norms.items():
                target[name] = total / norm if norm > 0 else 1.0
        if previous is None:
            return target
        return {n: self.alpha * previous[n] + (1 - self.alpha) * target[n] for n in target}


@final
class BalancedObjective(AbstractObjective):
    """The Eq. 3 loss with a weight per term, the weights read from the batch.

    The batch is ``(batches, weights)``: the constraints' batches and a dict of weights
    (arrays, so that new weights do not recompile the block). The parts are the weighted
    terms, so they sum to the loss.

    Args:
        problem: the `fieldpde.problem.Problem`.
        static: the non-trainable rest of ``(field, params)``.
        causal: a `Causal` option (or ``None``), as for `ProblemObjective`.

    Attributes:
        base: the unweighted `ProblemObjective` whose terms are weighted (each by the
            weight of its constraint).
        names: the names of the terms, as for `ProblemObjective`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde import Problem
        >>> from fieldpde.constraints import Observations
        >>> x = jnp.linspace(0, 1, 4)[:, None]
        >>> problem = Problem({"data": Observations(x, x[:, 0])})
        >>> params, static = eqx.partition((lambda p: 2 * p, None), eqx.is_inexact_array)
        >>> objective = BalancedObjective(problem, static)
        >>> batch = (problem.sample(jax.random.key(0)), {"data": jnp.asarray(2.0)})
        >>> round(float(objective(params, batch, None)[0]), 6)  # twice 0.388889
        0.777778
    """

    base: ProblemObjective
    names: tuple[str, ...] = eqx.field(static=True)

    def __init__(self, problem: Any, static: Any, causal: Any = None):
        self.base = ProblemObjective(problem, static, causal)
        self.names = self.base.names

    def model(self, params: Any) -> tuple[Any, Any]:
        """``(field, pde_params)``."""
        return self.base.model(params)

    def __call__(self, params: Any, batch: Any, x: Any) -> tuple[Any, dict[str, Any]]:
        batches, weights = batch
        _, terms = self.base(params, batches, x)
        owner = dict(zip(self.base.names, self.base.owners, strict=True))
        parts = {name: weights[owner[name]] * term for name, term in terms.items()}
        return sum(parts.values()), parts
