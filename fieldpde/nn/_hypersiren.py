r"""Neural Implicit Flow (Pan, Brunton & Kutz 2023): a parameter net drives a SIREN shape net.

`HyperSIREN`: a parameter net maps $\mu \mapsto z$, and one `HyperLinear` generator per
SIREN layer maps $z$ to that layer's $(W_\ell, b_\ell)$. The generators are calibrated to
the Sitzmann regime of their layer: with half-width $a_\ell$ (the `SIREN` init of the
layer) and $s$ = ``init_scale`` $\in (0, 1]$, the generator bias is drawn from
$\mathcal{U}(\pm(1-s)a_\ell)$ and each of the $K$ generator rows from
$\mathcal{U}(\pm s\,a_\ell/K)$. For any latent with $\|z\|_\infty \le 1$ the generated
weights then satisfy $|W_\ell| \le (1 - s)a_\ell + K \cdot s\,a_\ell/K = a_\ell$: the shape
net starts as a properly initialised SIREN whatever $\mu$ is, and the $z$-dependent part
has relative size $s$. (The same holds for the biases with $a = 1/\sqrt{d_\text{in}}$.)
Give the parameter net a bounded output (e.g. normalised $\mu$, or a final tanh) to stay
in that regime.

`LastLayerNIF`: the "last-layer" variant, $u(x;\mu) = \sum_r \phi_r(x) C_{r}(\mu) + c(\mu)$,
with a SIREN shape net giving the basis $\phi(x) \in \mathbb{R}^R$ and the parameter net
giving the coefficients.
"""

import math
from collections.abc import Callable
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import as_key, as_numeric, positive_float, positive_int
from ..ops import sin
from ._conditioners import HyperLinear, hyper_apply, linear_from
from ._mlp import MLP
from ._siren import SIREN, siren_weight_limit


def _latent(parameter_net: Callable, mu: Array, size: int, owner: str, batch: tuple) -> Array:
    """Run the parameter net once (shared ``mu``) or per point, checking its output size."""
    mu = as_numeric("mu", mu, owner)
    if mu.ndim == 1:
        per_point = False
    elif mu.shape[:-1] == batch:
        per_point = True
    else:
        raise ValueError(
            f"`mu` passed to {owner} must have shape (P,) (shared by all points) or "
            f"{batch + ('P',)} (one per point of `x`), got shape {mu.shape}"
        )
    try:
        if per_point:
            z = jax.vmap(parameter_net)(mu.reshape(-1, mu.shape[-1]))
        else:
            z = jnp.asarray(parameter_net(mu))
    except (TypeError, ValueError) as err:
        # the parameter net's own message would name its input `x`, not the caller's `mu`
        kind = TypeError if isinstance(err, TypeError) else ValueError
        raise kind(
            f"`mu` passed to {owner} has P = {mu.shape[-1]} parameters, which its "
            f"`parameter_net` does not accept (is P the number of parameters the surrogate "
            f"was built for?): {err}"
        ) from err
    got = z.shape[1:] if per_point else z.shape
    if got != (size,):
        raise ValueError(
            f"`parameter_net` of {owner} must map `mu` of shape ({mu.shape[-1]},) to shape "
            f"({size},), got output shape {got}; fix the parameter net's output size"
        )
    return z


def _calibrated_generator(key, d_in, d_out, cond_dim, a_w, init_scale, dtype) -> HyperLinear:
    """A `HyperLinear` whose generated weights stay in $[-a_w, a_w]$ for $|z_k| \\le 1$."""
    a_b = 1.0 / math.sqrt(d_in)
    n_w = d_in * d_out
    k1, k2, k3, k4 = jax.random.split(key, 4)
    s = init_scale
    u = lambda k, shape, lim: jax.random.uniform(k, shape, dtype, -lim, lim)  # noqa: E731
    W = jnp.concatenate(
        [u(k1, (cond_dim, n_w), s * a_w / cond_dim), u(k2, (cond_dim, d_out), s * a_b / cond_dim)],
        axis=1,
    )
    b = jnp.concatenate([u(k3, (n_w,), (1 - s) * a_w), u(k4, (d_out,), (1 - s) * a_b)])
    return HyperLinear(
        generator=linear_from(W, b), target_in=d_in, target_out=d_out, cond_dim=cond_dim
    )


@final
class HyperSIREN(eqx.Module):
    """NIF: ``parameter_net(mu) -> z``, per-layer `HyperLinear` generators, SIREN shape net.

    Called as ``nif(x, mu)`` with ``x`` of shape ``(d,)`` or ``(..., d)`` and ``mu`` of
    shape ``(P,)`` (shared: the SIREN weights are generated once) or ``(..., P)`` (one per
    point); returns ``(..., out_features)``.

    Attributes:
        parameter_net: callable ``(P,) -> (cond_dim,)``.
        generators: one `HyperLinear` per SIREN layer.
        omegas: the frequency of each layer (the readout's is unused).

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> nif = HyperSIREN(2, 32, 1, depth=5, cond_dim=3, parameter_net=lambda mu: mu,
        ...                  key=jr.key(0))
        >>> x = jnp.ones((10, 2))
        >>> nif(x, jnp.ones(3)).shape, nif(x, jnp.ones((10, 3))).shape
        ((10, 1), (10, 1))
    """

    parameter_net: Any
    generators: tuple[HyperLinear, ...]
    omegas: tuple[float, ...] = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)

    def __init__(
        self,
        in_features: int,
        hidden_features: int,
        out_features: int,
        *,
        depth: int,
        cond_dim: int,
        parameter_net: Callable,
        key: PRNGKeyArray,
        first_omega: float = 30.0,
        hidden_omega: float = 30.0,
        c: float = 6.0,
        init_scale: float = 0.1,
        dtype=None,
    ):
        """Build the generators, calibrated per Sitzmann regime (see the module docstring).

        Raises:
            ValueError: `depth` < 2, a non-positive size, omega or `c`, or `init_scale`
                outside (0, 1].
        """
        key = as_key(key)
        depth = positive_int("depth", depth, minimum=2, hint="first layer plus linear readout")
        in_features = positive_int("in_features", in_features)
        hidden_features = positive_int("hidden_features", hidden_features)
        out_features = positive_int("out_features", out_features)
        cond_dim = positive_int("cond_dim", cond_dim)
        first_omega = positive_float("first_omega", first_omega)
        hidden_omega = positive_float("hidden_omega", hidden_omega)
        c = positive_float("c", c)
        init_scale = positive_float("init_scale", init_scale)
        if init_scale > 1:
            raise ValueError(f"`init_scale` must be in (0, 1], got {init_scale!r}")
        if not callable(parameter_net):
            raise TypeError(f"`parameter_net` must be callable (P,) -> ({cond_dim},)")
        dtype = jnp.result_type(float) if dtype is None else dtype
        sizes = [in_features] + [hidden_features] * (depth - 1) + [out_features]
        keys = jax.random.split(key, depth)
        gens, omegas = [], []
        for i in range(depth):
            kind = "first" if i == 0 else "last" if i == depth - 1 else "hidden"
            omega = first_omega if i == 0 else hidden_omega
            a_w = siren_weight_limit(kind, sizes[i], omega, c)
            gens.append(
                _calibrated_generator(
                    keys[i], sizes[i], sizes[i + 1], cond_dim, a_w, init_scale, dtype
                )
            )
            omegas.append(omega)
        self.parameter_net = parameter_net
        self.generators = tuple(gens)
        self.omegas = tuple(omegas)
        self.cond_dim = cond_dim

    @property
    def in_features(self) -> int:
        return self.generators[0].target_in

    @property
    def out_features(self) -> int:
        return self.generators[-1].target_out

    def generate(self, mu: Float[Array, " p"]) -> list[tuple[Array, Array]]:
        """The shape net's per-layer ``(W, b)`` for one parameter vector ``mu``."""
        z = _latent(self.parameter_net, mu, self.cond_dim, "HyperSIREN", ())
        return [g.generate(z) for g in self.generators]

    def __call__(self, x: Float[Array, "*batch d"], mu: Float[Array, "*batch p"]) -> Array:
        x = jnp.asarray(x)
        d = self.in_features
        if x.ndim == 0 or x.shape[-1] != d:
            raise ValueError(
                f"`x` passed to HyperSIREN must have last axis {d} (shape (..., {d})), "
                f"got shape {x.shape}"
            )
        batch = x.shape[:-1]
        z = _latent(self.parameter_net, mu, self.cond_dim, "HyperSIREN", batch)
        h = x.reshape(-1, d)
        last = len(self.generators) - 1
        for i, (g, omega) in enumerate(zip(self.generators, self.omegas, strict=True)):
            h = hyper_apply(g.W, g.b, h, z, g.target_in, g.target_out)
            if i < last:
                h = sin(omega * h)
        return h.reshape(batch + (self.out_features,))


@final
class LastLayerNIF(eqx.Module):
    r"""NIF's last-layer variant: $u(x;\mu) = \phi(x) C(\mu) + c(\mu)$.

    The shape net maps ``(..., d) -> (..., rank)`` (basis functions $\phi_r(x)$); the
    parameter net maps ``(P,) -> (rank * out_features + out_features,)``, the coefficient
    matrix $C(\mu)$ (row-major ``(rank, out_features)``) then the offset $c(\mu)$.

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> nif = LastLayerNIF.init(1, 32, 1, depth=3, rank=8, param_features=2, key=jr.key(0))
        >>> x = jnp.zeros((5, 1))
        >>> nif(x, jnp.zeros(2)).shape, nif(x, jnp.zeros((5, 2))).shape
        ((5, 1), (5, 1))
    """

    shape_net: Any
    parameter_net: Any
    rank: int = eqx.field(static=True)
    out_features: int = eqx.field(static=True)

    @classmethod
    def init(
        cls,
        in_features: int,
        hidden_features: int,
        out_features: int,
        *,
        depth: int,
        rank: int,
        param_features: int,
        key: PRNGKeyArray,
        parameter_hidden: int = 32,
        parameter_depth: int = 3,
        first_omega: float = 30.0,
        hidden_omega: float = 30.0,
        c: float = 6.0,
        dtype=None,
    ) -> "LastLayerNIF":
        """A SIREN shape net with `rank` outputs and a tanh `MLP` parameter net.

        Args:
            in_features: the space dimension $d$.
            hidden_features: the width of the shape net's hidden layers.
            out_features: the output dimension $m$.
            depth: the number of layers of the shape net (with its readout).
            rank: the number of basis functions $\\phi_r$.
            param_features: the number $P$ of parameters $\\mu$.
            key: PRNG key of both nets.
            parameter_hidden: the width of the parameter net's hidden layers.
            parameter_depth: the number of layers of the parameter net.
            first_omega, hidden_omega, c: as for `SIREN.init` (the shape net).
            dtype: parameter dtype (default: JAX's default float).
        """
        key = as_key(key)
        rank = positive_int("rank", rank)
        out_features = positive_int("out_features", out_features)
        k1, k2 = jax.random.split(key)
        shape_net = SIREN.init(
            in_features,
            hidden_features,
            rank,
            depth=depth,
            key=k1,
            first_omega=first_omega,
            hidden_omega=hidden_omega,
            c=c,
            dtype=dtype,
        )
        parameter_net = MLP.init(
            param_features,
            parameter_hidden,
            rank * out_features + out_features,
            depth=parameter_depth,
            key=k2,
            activation="tanh",
            dtype=dtype,
        )
        return cls(
            shape_net=shape_net, parameter_net=parameter_net, rank=rank, out_features=out_features
        )

    def __call__(self, x: Float[Array, "*batch d"], mu: Float[Array, "*batch p"]) -> Array:
        phi = jnp.asarray(self.shape_net(x))
        if phi.shape[-1] != self.rank:
            raise ValueError(
                f"`shape_net` of LastLayerNIF must return (..., rank={self.rank}), got shape "
                f"{phi.shape}"
            )
        batch = phi.shape[:-1]
        m, r = self.out_features, self.rank
        coef = _latent(self.parameter_net, mu, r * m + m, "LastLayerNIF", batch)
        C = coef[..., : r * m].reshape(coef.shape[:-1] + (r, m))
        offset = coef[..., r * m :]
        if coef.ndim == 1:
            return phi @ C + offset
        y = jnp.einsum("nr,nrm->nm", phi.reshape(-1, r), C) + offset
        return y.reshape(batch + (m,))
