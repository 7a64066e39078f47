r"""Coefficients of a `BasisSurrogate` from the PDE itself: a least-squares residual projection.

For a linear PDE the residual of $u(\cdot;\mu) = g + \psi K$ is affine in the coefficients,
$r_\mu(K) = A(\mu)\,K + b(\mu)$, at every collocation point. Instead of reading $K$ off the
trained parameter net, `ResidualProjection` solves

$$K^\star(\mu) = \arg\min_K \sum_i \lVert r_\mu(K)(x_i) \rVert^2$$

over fixed collocation points $x_i$: the least-squares Petrov-Galerkin (LSPG) step of
projection-based reduced-order models, with the physics-informed basis $\psi$ as the
reduced basis. The basis and its derivatives at the points are computed once, so a new
$\mu$ costs one pass of the residual function over the points (elementwise) and an
$n \times (R+1)$ least-squares solve. The answer no longer depends on how well the
parameter net interpolates between trained $\mu$, only on how well the span of $\psi$
holds the solution.
"""

from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import last_axis, positive_int
from ..constraints import AbstractOverParameters, Residual
from ..nn import BasisSurrogate, GridQuery
from ..ops import FieldDerivatives
from ..problem import AbstractParameterQuery, ParametricProblem


@final
class ResidualProjection(AbstractParameterQuery):
    r"""LSPG coefficients $K^\star(\mu)$ of a `BasisSurrogate` for a linear PDE residual.

    Build it with `ResidualProjection.init`; call `coefficients` for $K^\star(\mu)$, or
    `on_grid` for a `GridQuery` that answers a new $\mu$ on fixed points with them.
    Boundary conditions must be built into the surrogate (its `distance`/`boundary`).

    Attributes:
        model: the `BasisSurrogate`.
        constraint: the `fieldpde.constraints.Residual` (``uses="derivatives"``); its
            function receives the concatenated point ``(x, mu)`` as in training.
        points: the collocation points, shape ``(n, d)``.
        basis: value, gradient and Laplacian of $\psi$ at the points.
        lift: value, gradient and Laplacian of $g$ at the points.
        params: the trainable PDE coefficients passed to the residual (or ``None``).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde.constraints import Residual
        >>> from fieldpde.domains import Interval
        >>> model = BasisSurrogate.init(1, 16, 1, depth=2, rank=8, mu_lo=[1.0], mu_hi=[2.0],
        ...     distance=lambda x: 1.0 - x[0] ** 2, key=jax.random.key(0))
        >>> # u'' = -2 mu on [-1, 1], u(+-1) = 0: u = mu (1 - x^2) is in the span of psi
        >>> pde = Residual(lambda p, d: d.laplacian + 2.0 * p[1], Interval(-1.0, 1.0))
        >>> proj = ResidualProjection.init(model, pde, jnp.linspace(-1.0, 1.0, 64)[:, None])
        >>> u = proj.on_grid(jnp.array([[0.0], [0.5]]))(jnp.array([1.5]))
        >>> bool(jnp.allclose(u[:, 0], jnp.array([1.5, 1.125]), rtol=1e-4))
        True
    """

    model: BasisSurrogate
    constraint: Residual
    points: Float[Array, "n d"]
    basis: FieldDerivatives
    lift: FieldDerivatives
    params: Any = None

    @classmethod
    def init(
        cls,
        model: BasisSurrogate,
        constraint: Any,
        points: Float[Array, "n d"],
        *,
        params: Any = None,
        check: bool = True,
    ) -> "ResidualProjection":
        """Differentiate the basis at `points` once and check that the residual is affine.

        Args:
            model: a trained `BasisSurrogate`.
            constraint: a `fieldpde.constraints.Residual` on the space domain, or a
                parameter wrapper around one (`WithParameters`, `WithParameterPairs`),
                such as a `ParametricProblem`'s ``"pde"`` constraint.
            points: collocation points in space, shape ``(n, d)`` with ``n`` at least
                ``R + 1`` (several times more is better).
            params: trainable PDE coefficients the residual takes, if any.
            check: verify at the centre of the parameter box that the residual is affine
                in the field; a nonlinear PDE has no least-squares projection of this kind.

        Returns:
            A `ResidualProjection`.

        Raises:
            TypeError: `model` is not a `BasisSurrogate` or `constraint` not a residual.
            ValueError: `points` has the wrong shape or too few rows, or the residual is
                not affine in the field.
        """
        if not isinstance(model, BasisSurrogate):
            raise TypeError(f"`model` must be a BasisSurrogate, got {type(model).__name__}")
        inner = (
            constraint.constraint if isinstance(constraint, AbstractOverParameters) else constraint
        )
        if not isinstance(inner, Residual) or inner.uses != "derivatives":
            raise TypeError(
                "`constraint` must be a Residual with uses='derivatives' (or a parameter "
                f"wrapper around one), got {type(constraint).__name__}"
            )
        points = last_axis("points", jnp.asarray(points), model.space_dim, "ResidualProjection")
        if points.ndim != 2 or points.shape[0] < model.rank + 1:
            raise ValueError(
                f"`points` must have shape (n, {model.space_dim}) with n >= R + 1 = "
                f"{model.rank + 1}, got shape {points.shape}"
            )
        basis, lift = model.basis_derivatives(
            points, dims=inner.dims, laplacian_dims=inner.laplacian_dims
        )
        out = cls(
            model=model, constraint=inner, points=points, basis=basis, lift=lift, params=params
        )
        if check:
            centre = 0.5 * (np.asarray(model.mu_lo) + np.asarray(model.mu_hi))
            out._check_affine(jnp.asarray(centre, points.dtype))
        return out

    @classmethod
    def for_family(
        cls,
        family: ParametricProblem,
        model: BasisSurrogate,
        *,
        points: int = 512,
        key: Any,
        method: str = "sobol",
    ) -> "ResidualProjection":
        """The projection on a `ParametricProblem`'s one residual, at points drawn in its space.

        Args:
            family: a `ParametricProblem` with a single constraint, its PDE residual
                (boundary conditions built into `model`).
            model: the trained `BasisSurrogate`.
            points: how many collocation points to draw in ``family.space``.
            key: PRNG key for the draw.
            method: the sampler (``"sobol"``, ``"halton"``, ``"uniform"``).

        Returns:
            A `ResidualProjection` in the dtype of `model`'s parameters.

        Raises:
            ValueError: the family has more than one constraint, or `model` is not a
                `BasisSurrogate`.

        Example:
            >>> import jax
            >>> from fieldpde.constraints import Residual
            >>> from fieldpde.domains import Box
            >>> fam = ParametricProblem(
            ...     {"pde": Residual(lambda p, d: d.laplacian + p[1], Box([0.0], [1.0]))},
            ...     parameters=Box([1.0], [2.0]))
            >>> model = BasisSurrogate.init(1, 8, 1, depth=2, rank=4, mu_lo=[1.0], mu_hi=[2.0],
            ...     distance=lambda x: x[0] * (1.0 - x[0]), key=jax.random.key(0))
            >>> proj = ResidualProjection.for_family(fam, model, points=32, key=jax.random.key(1))
            >>> proj.points.shape
            (32, 1)
        """
        constraints = list(family.problem.constraints.values())
        if not isinstance(model, BasisSurrogate) or len(constraints) != 1:
            raise ValueError(
                "a residual projection needs a BasisSurrogate and a family with one residual "
                "constraint (boundary conditions built into the model), got "
                f"{type(model).__name__} and {len(constraints)} constraints"
            )
        dtype = jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))[0].dtype
        x = family.space.sample_interior(positive_int("points", points), key=key, method=method)
        return cls.init(model, constraints[0], jnp.asarray(x, dtype))

    def residuals(self, K: Float[Array, "r m"], mu: Float[Array, " p"]) -> Float[Array, " nr"]:
        """The residual of ``g + psi @ K`` at every collocation point for one `mu`, flattened."""
        psi, g = self.basis, self.lift
        d = FieldDerivatives(
            psi.value @ K + g.value,
            jnp.einsum("nrk,rm->nmk", psi.grad, K) + g.grad,
            psi.laplacian @ K + g.laplacian,
        )
        n = self.points.shape[0]
        p = jnp.concatenate([self.points, jnp.broadcast_to(mu, (n, mu.shape[-1]))], axis=-1)
        c = self.constraint
        one = lambda pi, di: jnp.atleast_1d(c.evaluate(pi, di, self.params))  # noqa: E731
        return jax.vmap(one)(p, d).reshape(-1)

    def _system(self, mu: Array) -> tuple[Array, Array]:
        K0 = jnp.zeros((self.model.rank + 1, self.model.out_features), self.points.dtype)
        b = self.residuals(K0, mu)
        A = jax.jacfwd(self.residuals)(K0, mu).reshape(b.shape[0], -1)
        return A, b

    def _check_affine(self, mu: Array) -> None:
        A, b = self._system(mu)
        K = jax.random.normal(jax.random.key(0), (A.shape[1],), A.dtype)
        K = K.reshape(self.model.rank + 1, self.model.out_features)
        direct = self.residuals(K, mu)
        linear = A @ K.reshape(-1) + b
        scale = float(jnp.max(jnp.abs(direct))) + float(jnp.max(jnp.abs(b)))
        gap = float(jnp.max(jnp.abs(direct - linear)))
        tol = float(jnp.sqrt(jnp.finfo(A.dtype).eps)) * max(scale, 1.0)  # rounding, not curvature
        if not gap <= tol:
            raise ValueError(
                "the residual of `constraint` is not affine in the field (a nonlinear PDE?): "
                f"r(K) - (A K + b) reaches {gap:.3e} at mu = {np.asarray(mu).tolist()}; "
                "ResidualProjection needs a linear PDE"
            )

    def coefficients(self, mu: Float[Array, "*batch p"]) -> Float[Array, "*batch r m"]:
        r"""$K^\star(\mu)$, shape ``(R + 1, m)``, or ``(B, R + 1, m)`` for a batch of `mu`.

        Args:
            mu: one parameter vector ``(P,)`` or a batch ``(B, P)``.

        Returns:
            The least-squares coefficients, laid out as `BasisSurrogate.coefficients`.
        """
        mu = last_axis(
            "mu",
            jnp.asarray(mu, self.points.dtype),
            self.model.num_parameters,
            "ResidualProjection.coefficients",
        )
        shape = (self.model.rank + 1, self.model.out_features)

        def one(m: Array) -> Array:
            A, b = self._system(m)
            return jnp.linalg.lstsq(A, -b)[0].reshape(shape)

        if mu.ndim == 1:
            return one(mu)
        flat = jax.vmap(one)(mu.reshape((-1, mu.shape[-1])))
        return flat.reshape(mu.shape[:-1] + shape)

    @property
    def parameter_range(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """The parameter box of the surrogate's training."""
        return self.model.parameter_range

    def at(self, mu: Any) -> Any:
        r"""The answer for one parameter value: a function of space points ``(..., d)``.

        $K^\star(\mu)$ is solved once; the function then evaluates $g + \psi K^\star$
        at whatever points it gets.

        Example:
            >>> import jax, jax.numpy as jnp
            >>> from fieldpde.constraints import Residual
            >>> from fieldpde.domains import Interval
            >>> model = BasisSurrogate.init(1, 16, 1, depth=2, rank=8, mu_lo=[1.0],
            ...     mu_hi=[2.0], distance=lambda x: 1.0 - x[0] ** 2, key=jax.random.key(0))
            >>> pde = Residual(lambda p, d: d.laplacian + 2.0 * p[1], Interval(-1.0, 1.0))
            >>> proj = ResidualProjection.init(model, pde, jnp.linspace(-1, 1, 64)[:, None])
            >>> round(float(proj.at(1.5)(jnp.array([[0.0]]))[0, 0]), 3)  # mu (1 - x^2)
            1.5
        """
        mu = jnp.atleast_1d(jnp.asarray(mu, self.points.dtype))
        K = self.coefficients(mu)

        def answer(x):
            x = last_axis("x", jnp.asarray(x), self.model.space_dim, "ResidualProjection.at")
            psi = self.model.basis(x)
            return self.model.lift(x) + jnp.einsum("...r,rm->...m", psi, K)

        return answer

    def on_grid(self, x: Float[Array, "n d"]) -> GridQuery:
        """A `GridQuery` on space points `x` whose coefficients are `coefficients`.

        Args:
            x: space points, shape ``(n, d)`` (any leading shape; it is kept).

        Returns:
            A `GridQuery`: ``query(mu)`` is $g + \\psi K^\\star(\\mu)$ at `x`.
        """
        x = last_axis("x", x, self.model.space_dim, "ResidualProjection.on_grid")
        return GridQuery(basis=self.model.basis(x), lift=self.model.lift(x), model=self)
