r"""Parametric problems: one PDE per parameter $\mu$, solved for all of them at once.

A parametric field $u_\theta(x; \mu)$ is trained on points $(x_i, \mu_i)$, with $\mu_i$
drawn from a parameter box alongside the collocation points, so the Eq. 3 loss becomes
$\sum_m w_m \int_M \int_{\Omega_m} \lVert C_m(x, \mu) \rVert \,dx\,d\mu$. The field sees
the concatenated coordinates ``(x_1, ..., x_d, mu_1, ..., mu_p)`` (a `SIREN` with
``d + p`` inputs, or any conditioned field wrapped by `split_input`); derivatives are taken
along the ``d`` space coordinates only, so each $\mu$ is held fixed per point.
"""

import abc
from collections.abc import Callable
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..constraints import (
    Residual,
    WithParameterPairs,
    WithParameters,
    concat_parameters,
)
from ..domains import AbstractDomain, Box
from ..nn import Outside, beyond_range
from ._problem import Problem, named_constraints


class AbstractParameterQuery(eqx.Module):
    r"""Anything that answers one parameter value with a function of space points.

    A field over concatenated points ``(x, mu)`` answers $\mu$ by fixing it
    (`ParametricProblem.bind`); an object that is not such a field but can still answer
    (`fieldpde.surrogate.ResidualProjection`, which solves for $\mu$'s coefficients)
    implements `at`, and `ParametricProblem.bind` and `relative_l2` use it.

    Example:
        >>> import jax.numpy as jnp
        >>> from fieldpde.domains import Box
        >>> from fieldpde.constraints import Dirichlet
        >>> class Scaled(AbstractParameterQuery):  # u(x; mu) = mu x
        ...     def at(self, mu):
        ...         return lambda x: jnp.asarray(mu) * x
        >>> fam = ParametricProblem([Dirichlet(0.0, Box([0.0], [1.0]))],
        ...                         parameters=Box([1.0], [2.0]))
        >>> fam.bind(Scaled(), 1.5)(jnp.array([[2.0]])).tolist()
        [[3.0]]
    """

    @abc.abstractmethod
    def at(self, mu: Any) -> Callable[[Array], Array]:
        """The answer for parameter value `mu`: a function of space points ``(..., d)``."""


@final
class SplitInput(eqx.Module):
    """Adapt a conditioned field ``field(x, mu)`` to concatenated points ``(x, mu)``.

    Attributes:
        field: called as ``field(x, mu)`` with ``x`` of shape ``(..., d)`` and ``mu`` of
            shape ``(..., p)``.
        space_dim: ``d``.

    Example:
        >>> import jax.numpy as jnp
        >>> u = SplitInput(lambda x, mu: x * mu, space_dim=1)
        >>> u(jnp.array([[2.0, 3.0], [1.0, -1.0]])).tolist()  # points (x, mu)
        [[6.0], [-1.0]]
    """

    field: Any
    space_dim: int = eqx.field(static=True)

    def __call__(self, p: Float[Array, "*batch dp"]) -> Array:
        p = jnp.asarray(p)
        return self.field(p[..., : self.space_dim], p[..., self.space_dim :])


def split_input(field: Any, space_dim: int) -> SplitInput:
    """Wrap a conditioned field ``field(x, mu)`` so a `ParametricProblem` can train it.

    Args:
        field: a conditioned field called as ``field(x, mu)`` (e.g. a
            `fieldpde.nn.ConditionedINR` or `fieldpde.nn.HyperSIREN`).
        space_dim: ``d``, the number of space coordinates at the front of each point.

    Returns:
        A `SplitInput` acting on concatenated points ``(..., d + p)``.

    Example:
        >>> import jax.numpy as jnp
        >>> u = split_input(lambda x, mu: jnp.sum(x, -1, keepdims=True) + mu, space_dim=2)
        >>> u(jnp.array([1.0, 2.0, 10.0])).tolist()  # x = (1, 2), mu = 10
        [13.0]
    """
    return SplitInput(field, int(space_dim))


@final
class ParametricProblem(eqx.Module):
    r"""A family of problems over parameters $\mu \in M$, trained as one `Problem`.

    Build the constraints on the space domain as for a single problem, with residual
    functions and boundary data reading $\mu$ from the trailing coordinates of the point
    they get: ``mu = x[d:]``. `problem` is what `fieldpde.train.fit` trains; the field
    takes ``d + p`` inputs.

    Attributes:
        problem: the `Problem` over concatenated points ``(x, mu)``.
        space: the space domain $\Omega$.
        parameters: the parameter `Box` $M$.
        exact: the exact solution ``exact(x, mu)`` (pointwise), if known.
        reference: ``reference(mu)`` giving a batch callable ``(n, d) -> (n, m)`` (e.g. a
            finite-difference `GridSolution`) for one parameter, if known.

    With ``parameters_per_batch=q`` the `Residual` constraints draw ``q`` parameter values
    per step and are evaluated at every pair of point and value (`WithParameterPairs`);
    cheap for a `BasisSurrogate`, which differentiates its basis once per point.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde import SIREN
        >>> from fieldpde.constraints import Dirichlet, Residual
        >>> from fieldpde.domains import Box
        >>> box = Box([0.0], [1.0])
        >>> family = ParametricProblem(
        ...     [Residual(lambda x, d: d.laplacian + x[1], box, num_points=64),
        ...      Dirichlet(0.0, box, num_points=2)],
        ...     parameters=Box([1.0], [2.0]),
        ... )
        >>> batches = family.problem.sample(jax.random.key(0))
        >>> batches["residual"].points.shape
        (64, 2)
    """

    problem: Problem
    space: AbstractDomain
    parameters: Box
    exact: Callable[[Array, Array], Array] | None = eqx.field(static=True)
    reference: Callable[[Any], Any] | None = eqx.field(static=True)

    def __init__(
        self,
        constraints: Any,
        *,
        parameters: Box,
        space: AbstractDomain | None = None,
        exact: Callable[[Array, Array], Array] | None = None,
        reference: Callable[[Any], Any] | None = None,
        params: Any = None,
        method: str = "uniform",
        name: str = "parametric",
        parameters_per_batch: int | None = None,
    ):
        named = named_constraints(constraints)
        if not isinstance(parameters, Box):
            raise TypeError(f"`parameters` must be a Box, got {type(parameters).__name__}")
        if space is None:
            space = next((c.domain for c in named.values() if c.domain is not None), None)
        if space is None:
            raise ValueError("pass `space`: no constraint has a domain to take it from")
        for fn, label in ((exact, "exact"), (reference, "reference")):
            if fn is not None and not callable(fn):
                raise TypeError(f"`{label}` must be callable, got {type(fn).__name__}")
        d = space.dim
        wrapped = {}
        for k, c in named.items():
            if parameters_per_batch is not None and isinstance(c, Residual):
                wrapped[k] = WithParameterPairs(
                    c, parameters, d, num_parameters_per_batch=parameters_per_batch, method=method
                )
            else:
                wrapped[k] = WithParameters(c, parameters, d, method)
        full_exact = None
        if exact is not None:

            def full_exact(p):
                return exact(p[:d], p[d:])

        self.problem = Problem(wrapped, exact=full_exact, params=params, name=name)
        self.space = space
        self.parameters = parameters
        self.exact = exact
        self.reference = reference

    @property
    def space_dim(self) -> int:
        return self.space.dim

    @property
    def num_parameters(self) -> int:
        return self.parameters.dim

    def check_mu(self, mu: Any) -> np.ndarray:
        """`mu` as a float array of one value per parameter, or a clear error."""
        mu = np.atleast_1d(np.asarray(mu, dtype=float))
        if mu.shape != (self.num_parameters,):
            raise ValueError(
                f"`mu` must hold {self.num_parameters} parameter value(s), got shape {mu.shape}"
            )
        return mu

    def bind(self, field: Any, mu: Any, *, outside: Outside = "warn") -> Callable[[Array], Array]:
        """The field at one parameter value: a function of space points ``(..., d)``.

        A `mu` outside the family's parameter box gets a warning (``outside="warn"``), a
        `ValueError` (``"raise"``), NaN answers (``"mask"``) or nothing (``"ignore"``).

        An `AbstractParameterQuery` (a `fieldpde.surrogate.ResidualProjection`) answers
        through its own ``at(mu)``.
        """
        mu = self.check_mu(mu)
        rows = beyond_range(
            mu,
            self.parameters.lo,
            self.parameters.hi,
            outside=outside,
            owner="ParametricProblem.bind",
        )
        if isinstance(field, AbstractParameterQuery):
            answer = field.at(mu)
        elif callable(field):

            def answer(x):
                x = jnp.asarray(x)
                m = jnp.broadcast_to(jnp.asarray(mu, x.dtype), x.shape[:-1] + mu.shape)
                return field(concat_parameters(x, m))

        else:
            raise TypeError(
                f"`field` must be a callable field over points (x, mu) or a parameter query, "
                f"got {type(field).__name__}"
            )
        if rows is None:
            return answer
        return lambda x: jnp.full_like(answer(x), jnp.nan)  # outside="mask"

    def solution(self, points: Float[Array, "n d"], mu: Any) -> Float[Array, "n m"]:
        """The exact (or reference) solution at space `points` for parameter `mu`."""
        mu = self.check_mu(mu)
        points = jnp.asarray(points)
        if self.exact is not None:
            m = jnp.asarray(mu, points.dtype)
            out = jax.vmap(lambda p: jnp.asarray(self.exact(p, m), dtype=p.dtype))(points)
        elif self.reference is not None:
            out = jnp.asarray(self.reference(mu)(np.asarray(points)), dtype=points.dtype)
        else:
            raise ValueError("the family has neither `exact` nor `reference`")
        return out.reshape(points.shape[0], -1)

    def relative_l2(self, field: Any, points: Float[Array, "n d"], mu: Any) -> float:
        r"""$\lVert u_\theta(\cdot; \mu) - u(\cdot; \mu)\rVert_2 / \lVert u(\cdot; \mu)\rVert_2$."""
        truth = self.solution(points, mu)
        pred = jnp.asarray(self.bind(field, mu)(jnp.asarray(points))).reshape(truth.shape)
        return float(jnp.linalg.norm(pred - truth) / jnp.linalg.norm(truth))
