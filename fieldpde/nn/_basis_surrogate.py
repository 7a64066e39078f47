r"""A separable parametric surrogate whose answer on a fixed grid is one matrix-vector product.

`BasisSurrogate` is NIF's last-layer form (`fieldpde.nn.LastLayerNIF`) under an optional
hard Dirichlet transform, written for the concatenated points ``(x, mu)`` that a
`fieldpde.problem.ParametricProblem` trains on:

$$u(x; \mu) = g(x) + D(x)\,\bigl[\phi(x)\,C(\mu) + c(\mu)\bigr]
            = g(x) + \psi(x)\,K(\mu),\qquad \psi = D\,[\phi, 1],\; K = [C; c],$$

with a SIREN shape net $\phi: \mathbb{R}^d \to \mathbb{R}^R$ and a parameter net giving the
$(R + 1) \times m$ coefficients. Nothing of $x$ depends on $\mu$, so on a fixed set of $n$
points the basis $\psi$ ($n \times (R+1)$) and the lift $g$ are computed once
(`BasisSurrogate.on_grid`), and each new $\mu$ then costs one small parameter-net call and
an $(n \times (R+1)) \cdot ((R+1) \times m)$ product. Space derivatives act on $\psi$ only,
which also gives the one-pass forward Laplacian used in training.
"""

import abc
from collections.abc import Callable
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import last_axis, positive_int
from ..ops import FieldDerivatives, Jet
from ._hypersiren import LastLayerNIF
from ._range import Outside, beyond_range


def _pointwise(fn: Callable[[Array], Array], x: Array) -> Array:
    """Apply a pointwise ``(d,) -> ()`` or ``(m,)`` function over the leading axes of `x`."""
    flat = x.reshape((-1, x.shape[-1]))
    out = jax.vmap(lambda p: jnp.atleast_1d(jnp.asarray(fn(p), dtype=p.dtype)))(flat)
    return out.reshape(x.shape[:-1] + out.shape[-1:])


class AbstractPairField(eqx.Module):
    r"""A field over points ``(x, mu)`` that differentiates cheaply at every pair.

    `fieldpde.constraints.WithParameterPairs` evaluates a residual at all $n q$ pairs of
    $n$ space points and $q$ parameter values; a field of this kind gives the value,
    gradient and Laplacian at the pairs from one pass over the points and one over the
    parameters (`pair_derivatives`), instead of $n q$ passes.

    Example:
        >>> import jax
        >>> model = BasisSurrogate.init(1, 8, 1, depth=2, rank=3, mu_lo=[0.0], mu_hi=[1.0],
        ...                             key=jax.random.key(0))
        >>> isinstance(model, AbstractPairField)
        True
    """

    @abc.abstractmethod
    def pair_derivatives(
        self,
        x: Float[Array, "n d"],
        mu: Float[Array, "q p"],
        *,
        dims: Any = None,
        laplacian_dims: Any = None,
    ) -> FieldDerivatives:
        """Value ``(n, q, m)``, gradient ``(n, q, m, k)`` and Laplacian ``(n, q, m)``."""


@final
class BasisSurrogate(AbstractPairField):
    r"""$u(x;\mu) = g(x) + D(x)\,[\phi(x) C(\mu) + c(\mu)]$ over points ``(x, mu)``.

    Build it with `BasisSurrogate.init`. Called on concatenated points of shape
    ``(..., d + P)`` (as a `ParametricProblem` passes them) it returns ``(..., m)`` and
    supports the forward-Laplacian fast path when derivatives are taken along space only.
    `on_grid` caches the basis on a fixed set of space points for fast queries.

    Attributes:
        nif: the `LastLayerNIF` holding the shape net $\phi$ (``(d,) -> (R,)``) and the
            parameter net (normalised ``mu`` to ``R * m + m`` coefficients).
        distance: $D$, pointwise ``(d,) -> ()`` vanishing on the Dirichlet boundary, or
            ``None`` (no hard constraint, $D = 1$).
        boundary: $g$, pointwise ``(d,) -> ()`` or ``(m,)``, or ``None`` ($g = 0$).
        space_dim: ``d``.
        mu_lo: lower corner of the parameter box; ``mu`` is mapped to $[-1, 1]^P$.
        mu_hi: upper corner of the parameter box.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde.constraints import BoxDistance
        >>> model = BasisSurrogate.init(
        ...     2, 16, 1, depth=3, rank=4, mu_lo=[0.5], mu_hi=[2.0],
        ...     distance=BoxDistance((-1.0, -1.0), (1.0, 1.0)), key=jax.random.key(0))
        >>> model(jnp.array([[0.1, 0.2, 1.0], [1.0, 0.3, 1.5]])).shape
        (2, 1)
        >>> float(model(jnp.array([1.0, 0.3, 1.5]))[0])  # u = 0 on the wall x = 1
        0.0
    """

    nif: LastLayerNIF
    distance: Callable[[Array], Array] | None
    boundary: Callable[[Array], Array] | None
    space_dim: int = eqx.field(static=True)
    mu_lo: tuple[float, ...] = eqx.field(static=True)
    mu_hi: tuple[float, ...] = eqx.field(static=True)

    def __init__(
        self,
        nif: LastLayerNIF,
        *,
        space_dim: int,
        mu_lo: Any,
        mu_hi: Any,
        distance: Callable[[Array], Array] | None = None,
        boundary: Callable[[Array], Array] | None = None,
    ):
        """Wrap a `LastLayerNIF`; see `BasisSurrogate.init` to build one from sizes.

        Raises:
            TypeError: `nif` is not a `LastLayerNIF`, or `distance`/`boundary` is not
                callable.
            ValueError: `mu_lo` and `mu_hi` differ in length or do not bound a box.
        """
        if not isinstance(nif, LastLayerNIF):
            raise TypeError(f"`nif` must be a LastLayerNIF, got {type(nif).__name__}")
        for fn, label in ((distance, "distance"), (boundary, "boundary")):
            if fn is not None and not callable(fn):
                raise TypeError(f"`{label}` must be callable (d,) -> (), got {type(fn).__name__}")
        lo = tuple(float(v) for v in np.atleast_1d(np.asarray(mu_lo, dtype=float)))
        hi = tuple(float(v) for v in np.atleast_1d(np.asarray(mu_hi, dtype=float)))
        if len(lo) != len(hi) or not all(a < b for a, b in zip(lo, hi, strict=True)):
            raise ValueError(
                f"`mu_lo` and `mu_hi` must have the same length with mu_lo < mu_hi "
                f"componentwise, got {lo} and {hi}"
            )
        self.nif = nif
        self.distance = distance
        self.boundary = boundary
        self.space_dim = positive_int("space_dim", space_dim)
        self.mu_lo = lo
        self.mu_hi = hi

    @classmethod
    def init(
        cls,
        space_dim: int,
        hidden_features: int,
        out_features: int,
        *,
        depth: int,
        rank: int,
        mu_lo: Any,
        mu_hi: Any,
        key: PRNGKeyArray,
        distance: Callable[[Array], Array] | None = None,
        boundary: Callable[[Array], Array] | None = None,
        parameter_hidden: int = 64,
        parameter_depth: int = 3,
        first_omega: float = 30.0,
        hidden_omega: float = 30.0,
        dtype=None,
    ) -> "BasisSurrogate":
        """A SIREN shape net with `rank` basis functions and a tanh parameter net.

        Args:
            space_dim: ``d``, the number of space coordinates.
            hidden_features: width of the shape net.
            out_features: ``m``, the number of field components.
            depth: layers of the shape net, readout included.
            rank: ``R``, the number of basis functions $\\phi_r$.
            mu_lo: lower corner of the parameter box (one value per parameter).
            mu_hi: upper corner of the parameter box.
            key: PRNG key for the initial weights.
            distance: optional hard-constraint distance $D(x)$, see the class.
            boundary: optional lift $g(x)$ of the Dirichlet data.
            parameter_hidden: width of the parameter net.
            parameter_depth: layers of the parameter net, readout included.
            first_omega: $\\omega_0$ of the shape net's first layer.
            hidden_omega: $\\omega$ of its hidden layers.
            dtype: parameter dtype.

        Returns:
            A `BasisSurrogate`.
        """
        lo = np.atleast_1d(np.asarray(mu_lo, dtype=float))
        nif = LastLayerNIF.init(
            space_dim,
            hidden_features,
            out_features,
            depth=depth,
            rank=rank,
            param_features=lo.size,
            key=key,
            parameter_hidden=parameter_hidden,
            parameter_depth=parameter_depth,
            first_omega=first_omega,
            hidden_omega=hidden_omega,
            dtype=dtype,
        )
        return cls(
            nif,
            space_dim=space_dim,
            mu_lo=mu_lo,
            mu_hi=mu_hi,
            distance=distance,
            boundary=boundary,
        )

    @property
    def rank(self) -> int:
        """``R``, the number of learned basis functions (the basis has ``R + 1`` columns)."""
        return self.nif.rank

    @property
    def out_features(self) -> int:
        """``m``."""
        return self.nif.out_features

    @property
    def num_parameters(self) -> int:
        """``P``."""
        return len(self.mu_lo)

    def basis(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch r"]:
        r"""$\psi(x) = D(x)\,[\phi(x), 1]$, shape ``(..., R + 1)``."""
        x = last_axis("x", x, self.space_dim, "BasisSurrogate.basis")
        phi = self.nif.shape_net(x)
        psi = jnp.concatenate([phi, jnp.ones_like(phi[..., :1])], axis=-1)
        if self.distance is not None:
            psi = _pointwise(self.distance, x) * psi
        return psi

    def lift(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch m"]:
        """$g(x)$, shape ``(..., m)`` (zeros without `boundary`)."""
        x = last_axis("x", x, self.space_dim, "BasisSurrogate.lift")
        if self.boundary is None:
            return jnp.zeros(x.shape[:-1] + (self.out_features,), x.dtype)
        return jnp.broadcast_to(_pointwise(self.boundary, x), x.shape[:-1] + (self.out_features,))

    @property
    def parameter_range(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """``(mu_lo, mu_hi)``: the parameter box the surrogate was built for."""
        return self.mu_lo, self.mu_hi

    def coefficients(self, mu: Float[Array, "*batch p"]) -> Float[Array, "*batch r m"]:
        r"""$K(\mu) = [C(\mu); c(\mu)]$, shape ``(..., R + 1, m)``."""
        mu = last_axis("mu", mu, self.num_parameters, "BasisSurrogate.coefficients")
        lo = jnp.asarray(self.mu_lo, mu.dtype)
        hi = jnp.asarray(self.mu_hi, mu.dtype)
        z = 2.0 * (mu - lo) / (hi - lo) - 1.0
        flat = z.reshape((-1, z.shape[-1]))
        coef = jax.vmap(self.nif.parameter_net)(flat)
        shape = mu.shape[:-1] + (self.rank + 1, self.out_features)
        return coef.reshape(shape)  # rows 0..R-1 are C (row-major), row R is c

    def __call__(self, p: Float[Array, "*batch dp"]) -> Float[Array, "*batch m"]:
        p = last_axis("p", p, self.space_dim + self.num_parameters, "BasisSurrogate")
        x, mu = p[..., : self.space_dim], p[..., self.space_dim :]
        return self.lift(x) + jnp.einsum("...r,...rm->...m", self.basis(x), self.coefficients(mu))

    def forward_laplacian(self, jet: Jet) -> Jet:
        """Value, space derivatives and Laplacian in one pass (see `fieldpde.ops`).

        With derivatives along space coordinates only (what `WithParameters` asks for) the
        coefficients are constants per point and only the basis carries derivatives;
        otherwise the whole model is differentiated by autodiff at each point.
        """
        d = self.space_dim
        if jet.seed_dims is None or any(i >= d for i in jet.seed_dims):
            return jet.pointwise(self)
        select = jnp.eye(jet.value.shape[-1], d, dtype=jet.value.dtype)
        xj = jet.linear(select)  # the jet of x = p[:d]
        psi, g = self._jets(xj)
        coef = self.coefficients(jet.value[..., d:])
        return xj._replace(
            jnp.einsum("...r,...rm->...m", psi.value, coef) + g.value,
            jnp.einsum("...kr,...rm->...km", psi.jac, coef) + g.jac,
            jnp.einsum("...r,...rm->...m", psi.lap, coef) + g.lap,
        )

    def _jets(self, xj: Jet) -> tuple[Jet, Jet]:
        r"""The jets of the basis $\psi = D\,[\phi, 1]$ (width R+1) and the lift $g$ (width m)."""
        phi = self.nif.shape_net.forward_laplacian(xj)
        ones = jnp.ones(phi.value.shape[:-1] + (1,), phi.value.dtype)
        psi = xj._replace(
            jnp.concatenate([phi.value, ones], axis=-1),
            jnp.concatenate([phi.jac, jnp.zeros_like(phi.jac[..., :1])], axis=-1),
            jnp.concatenate([phi.lap, jnp.zeros_like(ones)], axis=-1),
        )
        if self.distance is not None:
            psi = xj.pointwise(self.distance) * psi
        batch, m = psi.value.shape[:-1], self.out_features
        if self.boundary is None:
            zero = jnp.zeros(batch + (m,), psi.value.dtype)
            return psi, xj._replace(zero, jnp.zeros(psi.jac.shape[:-1] + (m,), zero.dtype), zero)
        g = xj.pointwise(self.boundary)
        return psi, xj._replace(
            jnp.broadcast_to(g.value, batch + (m,)),
            jnp.broadcast_to(g.jac, psi.jac.shape[:-1] + (m,)),
            jnp.broadcast_to(g.lap, batch + (m,)),
        )

    def pair_derivatives(
        self,
        x: Float[Array, "n d"],
        mu: Float[Array, "q p"],
        *,
        dims: Any = None,
        laplacian_dims: Any = None,
    ) -> FieldDerivatives:
        r"""Value, space gradient and Laplacian at every pair ``(x_i, mu_j)``.

        The basis jet is computed once per point and the coefficients once per parameter,
        so all $n q$ pairs cost about one forward-Laplacian pass over the $n$ points plus
        $q$ parameter-net calls and $(n \times R)(R \times q)$ products.

        Args:
            x: space points, shape ``(n, d)``.
            mu: parameter values, shape ``(q, P)``.
            dims: space coordinates to differentiate along (default all ``d``).
            laplacian_dims: coordinates the Laplacian sums over (default `dims`).

        Returns:
            A `fieldpde.ops.FieldDerivatives` with shapes ``(n, q, m)``,
            ``(n, q, m, k)`` and ``(n, q, m)``.

        Example:
            >>> import jax, jax.numpy as jnp
            >>> model = BasisSurrogate.init(2, 8, 1, depth=2, rank=3, mu_lo=[0.0],
            ...                             mu_hi=[1.0], key=jax.random.key(0))
            >>> d = model.pair_derivatives(jnp.zeros((5, 2)), jnp.ones((3, 1)))
            >>> d.value.shape, d.grad.shape, d.laplacian.shape
            ((5, 3, 1), (5, 3, 1, 2), (5, 3, 1))
        """
        x = last_axis("x", x, self.space_dim, "BasisSurrogate.pair_derivatives")
        mu = last_axis("mu", mu, self.num_parameters, "BasisSurrogate.pair_derivatives")
        if x.ndim != 2 or mu.ndim != 2:
            raise ValueError(
                f"`x` and `mu` passed to BasisSurrogate.pair_derivatives must be 2-D, got "
                f"shapes {x.shape} and {mu.shape}"
            )
        psi, g = self.basis_derivatives(x, dims=dims, laplacian_dims=laplacian_dims)
        coef = self.coefficients(mu)
        return FieldDerivatives(
            jnp.einsum("ir,jrm->ijm", psi.value, coef) + g.value[:, None],
            jnp.einsum("irk,jrm->ijmk", psi.grad, coef) + g.grad[:, None],
            jnp.einsum("ir,jrm->ijm", psi.laplacian, coef) + g.laplacian[:, None],
        )

    def basis_derivatives(
        self,
        x: Float[Array, "n d"],
        *,
        dims: Any = None,
        laplacian_dims: Any = None,
    ) -> tuple[FieldDerivatives, FieldDerivatives]:
        r"""Value, space gradient and Laplacian of the basis $\psi$ and of the lift $g$.

        Space derivatives of $u(\cdot;\mu) = g + \psi K(\mu)$ are those of $\psi$
        contracted with $K(\mu)$, plus those of $g$: this is all a parameter-independent
        pass over the points needs (`pair_derivatives`, `ResidualProjection`).

        Args:
            x: space points, shape ``(n, d)``.
            dims: space coordinates to differentiate along (default all ``d``).
            laplacian_dims: coordinates the Laplacian sums over (default `dims`).

        Returns:
            ``(psi, g)``: `fieldpde.ops.FieldDerivatives` with shapes ``(n, R+1)``,
            ``(n, R+1, k)``, ``(n, R+1)`` for the basis and ``(n, m)``, ``(n, m, k)``,
            ``(n, m)`` for the lift.

        Example:
            >>> import jax, jax.numpy as jnp
            >>> model = BasisSurrogate.init(2, 8, 1, depth=2, rank=3, mu_lo=[0.0],
            ...                             mu_hi=[1.0], key=jax.random.key(0))
            >>> psi, g = model.basis_derivatives(jnp.zeros((5, 2)))
            >>> psi.grad.shape, g.laplacian.shape, bool(jnp.all(psi.value[:, -1] == 1.0))
            ((5, 4, 2), (5, 1), True)
        """
        x = last_axis("x", x, self.space_dim, "BasisSurrogate.basis_derivatives")
        if x.ndim != 2:
            raise ValueError(
                f"`x` passed to BasisSurrogate.basis_derivatives must be 2-D, got shape {x.shape}"
            )
        psi, g = self._jets(Jet.from_input(x, dims, laplacian_dims))

        def derivatives(j: Jet) -> FieldDerivatives:
            return FieldDerivatives(j.value, jnp.swapaxes(j.jac, -1, -2), j.lap)

        return derivatives(psi), derivatives(g)

    def on_grid(self, x: Float[Array, "n d"]) -> "GridQuery":
        """Precompute the basis and lift at space points `x` for fast queries over ``mu``.

        Args:
            x: space points, shape ``(n, d)`` (any leading shape; it is kept).

        Returns:
            A `GridQuery`: ``query(mu)`` equals this model at ``(x, mu)``.
        """
        x = last_axis("x", x, self.space_dim, "BasisSurrogate.on_grid")
        return GridQuery(basis=self.basis(x), lift=self.lift(x), model=self)


@final
class GridQuery(eqx.Module):
    r"""A `BasisSurrogate` bound to fixed space points: ``query(mu) = g + psi @ K(mu)``.

    The basis $\psi$ and lift $g$ at the points are stored, so a new $\mu$ costs one
    parameter-net call and a ``(n, R+1) @ (R+1, m)`` product.

    Attributes:
        basis: $\psi$ at the points, shape ``(*grid, R + 1)``.
        lift: $g$ at the points, shape ``(*grid, m)``.
        model: what gives the coefficients: the `BasisSurrogate` (its parameter net) or a
            `ResidualProjection` (least squares on the PDE residual).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = BasisSurrogate.init(1, 8, 1, depth=2, rank=3, mu_lo=[0.0], mu_hi=[1.0],
        ...                             key=jax.random.key(0))
        >>> x = jnp.linspace(0.0, 1.0, 5)[:, None]
        >>> query = model.on_grid(x)
        >>> mu = jnp.array([0.3])
        >>> bool(jnp.allclose(query(mu), model(jnp.concatenate([x, jnp.full((5, 1), 0.3)], 1))))
        True
    """

    basis: Float[Array, "*grid r"]
    lift: Float[Array, "*grid m"]
    model: Any  # BasisSurrogate or ResidualProjection: anything with `coefficients(mu)`

    def __call__(
        self, mu: Float[Array, "*b p"], *, outside: Outside = "warn"
    ) -> Float[Array, "..."]:
        """The field at the stored points for ``mu`` of shape ``(P,)`` or a batch ``(B, P)``.

        Args:
            mu: one parameter vector, or a batch of them.
            outside: what a ``mu`` outside the trained parameter range gets:
                ``"warn"`` (default), ``"raise"``, ``"mask"`` (NaN) or ``"ignore"``
                (checked for concrete values only, not under `jax.jit`).

        Returns:
            ``(*grid, m)`` for one ``mu``; ``(B, *grid, m)`` for a batch.
        """
        rows = beyond_range(mu, *self.model.parameter_range, outside=outside, owner="GridQuery")
        mu = jnp.asarray(mu, self.basis.dtype)
        if mu.ndim not in (1, 2):
            raise ValueError(
                f"`mu` passed to GridQuery must have shape (P,) or (B, P), got shape {mu.shape}"
            )
        coef = self.model.coefficients(mu)  # (R+1, m) or (B, R+1, m)
        if mu.ndim == 1:
            out = self.lift + self.basis @ coef
        else:
            out = self.lift + jnp.einsum("...r,brm->b...m", self.basis, coef)
        if rows is not None:
            bad = jnp.asarray(rows).reshape(rows.shape + (1,) * (out.ndim - (mu.ndim - 1)))
            out = jnp.where(bad if mu.ndim == 2 else bad[0], jnp.nan, out)
        return out
