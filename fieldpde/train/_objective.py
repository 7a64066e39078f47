r"""What a training run minimises: a loss of the trainable arrays at a batch, with named parts.

The engine is indifferent to where a loss comes from: a `Problem`'s Eq. 3 terms, a user's
loss of a model, snapshot least squares or an ensemble member's negative log joint. Each is
an objective: called as ``objective(params, batch, x)`` with the trainable arrays, the
block's batch and the step's own input (or ``None``), it returns the total loss and a dict
of its parts, whose names it declares in `names`.
"""

import abc
from collections.abc import Callable
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._residuals import forward_jacobian, pointwise_jacobian


class AbstractObjective(eqx.Module):
    """A loss of the trainable arrays: ``objective(params, batch, x) -> (loss, parts)``.

    A concrete objective also implements `model`, the model its trainable arrays belong
    to, for callbacks and results.

    Attributes:
        names: the names of the parts, in order (empty for a loss without parts); with
            one name the part is the total, which spares a forward pass in L-BFGS.

    Example:
        A least-squares objective of a line through data, trained on the engine:

        >>> import jax.numpy as jnp
        >>> from fieldpde.train import Adam, Engine, Record
        >>> class Line(AbstractObjective):
        ...     names = ("data",)
        ...     def model(self, params):
        ...         return params
        ...     def __call__(self, params, batch, x):
        ...         xs, ys = batch
        ...         loss = jnp.mean((params["a"] * xs + params["b"] - ys) ** 2)
        ...         return loss, {"data": loss}
        >>> xs = jnp.linspace(0, 1, 8)
        >>> engine = Engine((Line(),), (Adam(500, learning_rate=0.05),),
        ...                 sample=lambda i, phase, key, params: (xs, 2 * xs + 1))
        >>> state, why = engine.run(engine.start({"a": 0.0, "b": 0.0}), Record(("data",)))
        >>> why, round(float(state.params["a"]), 2), round(float(state.params["b"]), 2)
        ('completed', 2.0, 1.0)
    """

    names: eqx.AbstractVar[tuple[str, ...]]

    @abc.abstractmethod
    def __call__(
        self, params: Any, batch: Any, x: Any
    ) -> tuple[Float[Array, ""], dict[str, Float[Array, ""]]]:
        """The total loss and its named parts."""

    @abc.abstractmethod
    def model(self, params: Any) -> Any:
        """The model the trainable arrays belong to (for callbacks and results)."""

    def residuals(self, params: Any, batch: Any, x: Any) -> Float[Array, " N"]:
        r"""The residual vector $r$ of a least-squares loss, $\lVert r \rVert^2 = L$.

        Gauss-Newton and natural-gradient phases need it; an objective that is a sum of
        squares overrides this method (`ProblemObjective` does). The default refuses.
        """
        raise TypeError(
            f"{type(self).__name__} is not a sum of squared residuals, so it has no residual "
            "vector for a natural-gradient (Gauss-Newton) phase; train it with LBFGS, SSBFGS "
            "or SSBroyden instead"
        )

    def residuals_and_jacobian(
        self, params: Any, batch: Any, x: Any
    ) -> tuple[Float[Array, " N"], Float[Array, "N P"]]:
        """`residuals` and their Jacobian with respect to the flattened trainable arrays
        (columns in the order of `jax.flatten_util.ravel_pytree`), by forward mode unless
        an objective knows a cheaper way."""
        return forward_jacobian(lambda p: self.residuals(p, batch, x), params)


@final
class ProblemObjective(AbstractObjective):
    """The Eq. 3 loss of a `Problem`: the sum of its constraints' terms.

    Args:
        problem: the `fieldpde.problem.Problem`.
        static: the non-trainable rest of ``(field, params)`` (see `trainable_split`).
        causal: a `Causal` option (or ``None``): its constraints' terms are causally
            weighted.

    Attributes:
        names: the names of the terms: a constraint's name, or for a system's residual
            (a constraint with `equations`) one ``"NAME[EQUATION]"`` per equation;
            `causal_names` the causally weighted constraints.
        owners: the constraint each term of `names` belongs to.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde import Problem
        >>> from fieldpde.constraints import Observations
        >>> x = jnp.linspace(0, 1, 4)[:, None]
        >>> problem = Problem({"data": Observations(x, x[:, 0])})
        >>> params, static = eqx.partition((lambda p: 2 * p, None), eqx.is_inexact_array)
        >>> objective = ProblemObjective(problem, static)
        >>> loss, parts = objective(params, problem.sample(jax.random.key(0)), None)
        >>> objective.names, round(float(loss), 6)  # mean of x^2 over 0, 1/3, 2/3, 1
        (('data',), 0.388889)
    """

    problem: Any
    static: Any
    causal: Any
    causal_names: tuple[str, ...] = eqx.field(static=True)
    names: tuple[str, ...] = eqx.field(static=True)
    owners: tuple[str, ...] = eqx.field(static=True)

    def __init__(self, problem: Any, static: Any, causal: Any = None):
        self.problem = problem
        self.static = static
        self.causal = causal
        self.causal_names = () if causal is None else causal.select(problem)
        for name in self.causal_names:
            if problem.constraints[name].equations:
                raise ValueError(
                    f"causal weighting of {name!r}, whose residual is a system of "
                    f"`equations`, is not supported yet: weight it without `equations`, or "
                    "leave it out of `causal`"
                )
        self.owners, self.names = term_names(problem)

    def model(self, params: Any) -> tuple[Any, Any]:
        """``(field, pde_params)``."""
        return eqx.combine(params, self.static)

    def __call__(self, params, batch, x):
        field, phi = eqx.combine(params, self.static)
        parts = {}
        for name, c in self.problem.constraints.items():
            if name in self.causal_names:
                parts[name] = self.causal.loss(c, field, batch[name], phi)
            elif c.equations:
                for eq, term in c.equation_losses(field, batch[name], phi).items():
                    parts[f"{name}[{eq}]"] = term
            else:
                parts[name] = c.loss(field, batch[name], phi)
        return sum(parts.values()), parts

    def _least_squares(self) -> list[tuple[str, Any]]:
        if self.causal_names:
            raise ValueError(
                "a natural-gradient phase needs the plain Eq. 3 loss, but causal weighting "
                f"applies to {list(self.causal_names)}: let it draw one fixed batch "
                "(resample=False) or drop `causal`"
            )
        for name, c in self.problem.constraints.items():
            if c.norm != "squared":
                raise ValueError(
                    f"a natural-gradient phase needs squared-norm terms, but constraint "
                    f"{name!r} has `norm`={c.norm!r}; use norm='squared' or train with "
                    "LBFGS, SSBFGS or SSBroyden"
                )
        return list(self.problem.constraints.items())

    def residuals(self, params, batch, x):
        r"""The weighted residuals of every constraint, stacked:
        $r_{m,i} = \sqrt{w_m |\Omega_m| / n_m}\, C_m(x_i)$, so $\lVert r \rVert^2$ is the
        Eq. 3 loss (squared norms only)."""
        field, phi = eqx.combine(params, self.static)
        blocks = []
        for name, c in self._least_squares():
            res = c.residual(field, batch[name], phi)
            blocks.append(_scale(c, res.shape[0], res.dtype) * res.reshape(-1))
        return jnp.concatenate(blocks)

    def residuals_and_jacobian(self, params, batch, x):
        """`residuals` and their Jacobian: point by point (reverse mode under `jax.vmap`)
        for constraints whose rows are independent, by forward mode for the others."""
        rows, jacobians = [], []
        for name, c in self._least_squares():
            b = batch[name]

            def block(p, b, c=c):
                field, phi = eqx.combine(p, self.static)
                return c.residual(field, b, phi)

            if c.independent_rows:
                r, J = pointwise_jacobian(lambda p, one: block(p, one).reshape(-1), params, b)
                n = b.points.shape[0]
            else:
                n = jax.eval_shape(block, params, b).shape[0]
                r, J = forward_jacobian(lambda p, b=b: block(p, b).reshape(-1), params)
            scale = _scale(c, n, r.dtype)
            rows.append(scale * r)
            jacobians.append(scale * J)
        return jnp.concatenate(rows), jnp.concatenate(jacobians, axis=0)


def term_names(problem: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(owners, names)``: the loss terms of a problem and the constraint of each.

    A constraint is one term named after it; one with `equations` (a system) is one term
    per equation, ``"NAME[EQUATION]"``.

    Args:
        problem: the `fieldpde.problem.Problem`.

    Returns:
        Two tuples as long as each other: the constraint of each term, and its name.

    Example:
        >>> import jax.numpy as jnp
        >>> from fieldpde import Problem
        >>> from fieldpde.constraints import Gauge, Residual
        >>> from fieldpde.domains import Box
        >>> box = Box([0.0, 0.0], [1.0, 1.0])
        >>> p = Problem({"pde": Residual(lambda x, d: d.value[:2], box, equations=("a", "b")),
        ...              "gauge": Gauge(box, component=1)})
        >>> term_names(p)
        (('pde', 'pde', 'gauge'), ('pde[a]', 'pde[b]', 'gauge'))
    """
    owners, names = [], []
    for name, c in problem.constraints.items():
        for eq in c.equations or (None,):
            owners.append(name)
            names.append(name if eq is None else f"{name}[{eq}]")
    return tuple(owners), tuple(names)


def _scale(c: Any, n: int, dtype: Any) -> Any:
    r"""$\sqrt{w |\Omega| / n}$: the factor that makes squared residuals sum to the term."""
    return jnp.sqrt(jnp.asarray(c.weight * c.measure / n, dtype=dtype))


@final
class LossObjective(AbstractObjective):
    """A user's loss of a model, ``loss_fn(model)``, without batches or parts.

    Attributes:
        loss_fn: the loss of the whole model.
        static: the non-trainable rest of the model.
        names: empty.

    Example:
        >>> import jax.numpy as jnp
        >>> objective = LossObjective(lambda w: jnp.sum(w**2), None)
        >>> objective(jnp.array([3.0, 4.0]), None, None)[0].item()
        25.0
    """

    loss_fn: Callable[[Any], Array]
    static: Any
    names: tuple[str, ...] = eqx.field(static=True, default=())

    def model(self, params: Any) -> Any:
        return eqx.combine(params, self.static)

    def __call__(self, params, batch, x):
        return self.loss_fn(eqx.combine(params, self.static)), {}


def trainable_split(model: Any) -> tuple[Any, Any]:
    """``(trainable, static)``: the inexact-array leaves of `model`, and the rest.

    Args:
        model: any pytree (an equinox module, a tuple of field and PDE coefficients).

    Returns:
        The two halves of `equinox.partition` by `equinox.is_inexact_array`.

    Example:
        >>> import jax.numpy as jnp
        >>> trainable, static = trainable_split((jnp.ones(2), 3))
        >>> trainable[0].tolist(), trainable[1], static
        ([1.0, 1.0], None, (None, 3))
    """
    return eqx.partition(model, eqx.is_inexact_array)


def count_trainable(params: Any) -> int:
    """How many trainable numbers `params` holds.

    Args:
        params: a pytree.

    Returns:
        The total size of its inexact-array leaves.

    Example:
        >>> import jax.numpy as jnp
        >>> count_trainable({"w": jnp.ones((2, 3)), "n": 4})
        6
    """
    return sum(int(a.size) for a in jax.tree.leaves(params) if eqx.is_inexact_array(a))
