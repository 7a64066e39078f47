"""A PDE problem: named constraints, trainable coefficients and a ground truth."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._tree import with_static
from ..constraints import AbstractConstraint, Batch
from ..domains import AbstractDomain


def named_constraints(constraints: Any) -> dict[str, AbstractConstraint]:
    if isinstance(constraints, Mapping):
        named = dict(constraints)
    elif isinstance(constraints, Sequence) and not isinstance(constraints, str):
        named = {}
        for c in constraints:
            base = type(c).__name__.lower()
            name, i = base, 1
            while name in named:
                i += 1
                name = f"{base}_{i}"
            named[name] = c
    else:
        raise TypeError(
            f"`constraints` must be a dict of name -> constraint or a list, got "
            f"{type(constraints).__name__}"
        )
    if not named:
        raise ValueError("`constraints` must hold at least one constraint")
    for name, c in named.items():
        if not isinstance(c, AbstractConstraint):
            raise TypeError(f"constraint {name!r} is a {type(c).__name__}, not a constraint")
    return named


@final
class Problem(eqx.Module):
    r"""Constraints whose weighted sum is the Eq. 3 loss, plus what the answer should be.

    Attributes:
        constraints: name -> constraint (a list gets names from the class names).
        domain: where the solution lives (for evaluation grids and errors); defaults to
            the domain of the first constraint that has one.
        exact: the exact solution, pointwise ``(d,) -> ()`` or ``(m,)``, if known.
        reference: a reference solution on batches ``(n, d) -> (n,)`` or ``(n, m)`` (e.g. a
            finite-difference `fieldpde.reference.GridSolution`), used when `exact` is None.
        params: initial values of trainable PDE coefficients (any pytree, e.g.
            ``{"k": 0.5}``), passed to residuals that take a ``params`` argument and
            learned alongside the field (inverse problems).
        name: a label for reports.
        outputs: the names of the field's outputs, e.g. ``("u", "v", "p")`` for a flow
            (``None``: one unnamed output, or ``u`` and a ``component`` axis); they name
            the variables of `fieldpde.io.evaluate_on_grid` and of the netCDF files.

    Example:
        >>> import jax.numpy as jnp
        >>> from fieldpde.constraints import Dirichlet, Residual
        >>> from fieldpde.domains import Box
        >>> box = Box([0.0, 0.0], [1.0, 1.0])
        >>> problem = Problem([
        ...     Residual(lambda x, d: d.laplacian + 2.0, box),
        ...     Dirichlet(0.0, box),
        ... ])
        >>> sorted(problem.constraints)
        ['dirichlet', 'residual']
    """

    constraints: dict[str, AbstractConstraint]
    domain: AbstractDomain | None
    exact: Callable[[Array], Array] | None = eqx.field(static=True)
    reference: Any
    params: Any
    name: str = eqx.field(static=True)
    outputs: tuple[str, ...] | None = eqx.field(static=True)

    def __init__(
        self,
        constraints: Any,
        *,
        domain: AbstractDomain | None = None,
        exact: Callable[[Array], Array] | None = None,
        reference: Any = None,
        params: Any = None,
        name: str = "problem",
        outputs: Sequence[str] | None = None,
    ):
        self.constraints = named_constraints(constraints)
        if outputs is not None:
            if isinstance(outputs, str):
                raise TypeError(f"`outputs` must be a tuple of names, got {outputs!r}")
            outputs = tuple(str(o) for o in outputs)
            if not outputs or len(set(outputs)) != len(outputs):
                raise ValueError(f"`outputs` must be distinct names, got {outputs!r}")
        self.outputs = outputs
        if domain is None:
            domain = next(
                (c.domain for c in self.constraints.values() if c.domain is not None), None
            )
        self.domain = domain
        if exact is not None and not callable(exact):
            raise TypeError(f"`exact` must be callable, got {type(exact).__name__}")
        if reference is not None and not callable(reference):
            raise TypeError(f"`reference` must be callable, got {type(reference).__name__}")
        self.exact = exact
        self.reference = reference
        self.params = params
        self.name = name

    def with_num_points(self, points: Any) -> "Problem":
        """A copy whose constraints draw other numbers of points per step.

        Args:
            points: one number for every constraint, a dict (or pairs) name -> number
                for some of them, or ``None`` (no change). Each constraint resizes itself
                (`AbstractConstraint.with_num_points`; a data term uses that many data
                per step, or all of them).

        Example:
            >>> from fieldpde.constraints import Dirichlet, Residual
            >>> from fieldpde.domains import Interval
            >>> line = Interval(0.0, 1.0)
            >>> p = Problem({"pde": Residual(lambda x, d: d.laplacian, line, num_points=64),
            ...              "bc": Dirichlet(0.0, line, num_points=2)})
            >>> {n: c.num_points for n, c in p.with_num_points({"pde": 256}).constraints.items()}
            {'pde': 256, 'bc': 2}
        """
        if points is None:
            return self
        if isinstance(points, Mapping | tuple):
            counts = dict(points)
            unknown = sorted(set(counts) - set(self.constraints))
            if unknown:
                raise ValueError(
                    f"`points` names constraints the problem lacks: {unknown}; it has "
                    f"{list(self.constraints)}"
                )
        else:
            counts = dict.fromkeys(self.constraints, points)
        constraints = {
            name: c.with_num_points(counts[name]) if name in counts else c
            for name, c in self.constraints.items()
        }
        return with_static(self, constraints=constraints)

    def sample(self, key: PRNGKeyArray) -> dict[str, Batch]:
        """One batch per constraint (host-side; call outside `jax.jit`)."""
        keys = jax.random.split(key, len(self.constraints))
        return {
            name: c.sample(k) for (name, c), k in zip(self.constraints.items(), keys, strict=True)
        }

    def losses(
        self, field: Any, batches: Mapping[str, Batch], params: Any = None
    ) -> dict[str, Float[Array, ""]]:
        """Each constraint's Eq. 3 term."""
        return {name: c.loss(field, batches[name], params) for name, c in self.constraints.items()}

    def loss(self, field: Any, batches: Mapping[str, Batch], params: Any = None):
        """The total loss $\\sum_m w_m |\\Omega_m| \\mathrm{mean}\\lVert C_m\\rVert$."""
        return sum(self.losses(field, batches, params).values())

    @property
    def has_solution(self) -> bool:
        return self.exact is not None or self.reference is not None

    def solution(self, points: Float[Array, "n d"]) -> Float[Array, "n m"]:
        """The exact (or reference) solution at `points`, shape ``(n, m)``."""
        points = jnp.asarray(points)
        if self.exact is not None:
            out = jax.vmap(lambda p: jnp.asarray(self.exact(p), dtype=p.dtype))(points)
        elif self.reference is not None:
            out = jnp.asarray(self.reference(np.asarray(points)), dtype=points.dtype)
        else:
            raise ValueError(f"problem {self.name!r} has neither `exact` nor `reference`")
        return out.reshape(points.shape[0], -1)

    def relative_l2(self, field: Any, points: Float[Array, "n d"]) -> float:
        r"""$\lVert u_\theta - u\rVert_2 / \lVert u \rVert_2$ over `points`."""
        truth = self.solution(points)
        pred = jnp.asarray(field(points)).reshape(truth.shape)
        return float(jnp.linalg.norm(pred - truth) / jnp.linalg.norm(truth))
