r"""Random Fourier features (Rahimi & Recht 2007) and their conditioned (hyper) version.

By Bochner's theorem the RBF kernel $k(x, x') = \exp(-\|x - x'\|^2 / 2\ell^2)$ is the
expectation of $\cos(\omega^\top (x - x'))$ over $\omega = w/\ell$, $w \sim \mathcal{N}(0, I)$.
With $M$ draws stacked in $W \in \mathbb{R}^{D \times M}$ the feature map

$$\phi(x) = \sqrt{1/M}\,[\cos(x W / \ell),\ \sin(x W / \ell)] \in \mathbb{R}^{2M}$$

satisfies $\phi(x)^\top \phi(x') = \frac1M \sum_m \cos(w_m^\top (x - x')/\ell) \to k(x, x')$.

`HyperFourierFeatures` makes $(W, b, \log\ell)$ functions of a context $z$ through a
parameter net, $\phi(x; z) = \sqrt{1/M}\,[\cos(xW(z)/\ell(z) + b(z)), \sin(\cdot)]$, and
`ConditionedRFFNet` adds a linear readout.
"""

from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import as_key, last_axis, positive_float, positive_int
from ..ops import sincos
from ._bayesian_dense import DenseReparameterization
from ._cond_shapes import flatten_xz
from ._conditioners import linear_layer
from ._pyrox import PyroxModule, pyrox_method


def rff_features(x, W, lengthscale, phase=None):
    """$\\sqrt{1/M}[\\cos(xW/\\ell + b), \\sin(xW/\\ell + b)]$ on the last axis."""
    arg = x @ W / lengthscale
    if phase is not None:
        arg = arg + phase
    scale = jnp.sqrt(1.0 / W.shape[-1])
    s, c = sincos(arg)
    return scale * jnp.concatenate([c, s], axis=-1)


@final
class RBFFourierFeatures(PyroxModule):
    r"""Random Fourier features of the RBF kernel, ``(..., D) -> (..., 2M)``.

    Two ways to hold the frequencies, chosen by `init`:

    - without a key (the reference API): $W \sim \mathcal{N}(0, I)$ and the lengthscale
      $\ell \sim \text{LogNormal}(\log \ell_0, 1)$ are numpyro sample sites
      ``{scope}.W`` (shape ``(in_features, n_features)``) and ``{scope}.lengthscale``, drawn
      on every call under a seed handler (or learned under SVI / an ensemble of MAP fits);
      the scope is `pyrox_name`, else ``"RBFFourierFeatures"``.
    - with ``key=``: $W$ is drawn once from the key and held fixed (gradients do not flow
      into it: random features); the lengthscale is learnable, stored as its log.

    Attributes:
        W: the fixed frequencies, shape ``(in_features, n_features)``, or None when sampled.
        log_lengthscale: the learnable $\log \ell$, or None when sampled.

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> from numpyro import handlers
        >>> rff = RBFFourierFeatures.init(2, 16, lengthscale=0.5)
        >>> with handlers.seed(rng_seed=0), handlers.trace() as tr:
        ...     phi = rff(jnp.zeros((5, 2)))
        >>> phi.shape, list(tr)
        ((5, 32), ['RBFFourierFeatures.W', 'RBFFourierFeatures.lengthscale'])
        >>> fixed = RBFFourierFeatures.init(2, 16, key=jr.key(0), lengthscale=0.5)
        >>> fixed(jnp.zeros((5, 2))).shape  # no numpyro handler needed
        (5, 32)
    """

    W: Float[Array, "d m"] | None
    log_lengthscale: Float[Array, ""] | None
    shape: tuple[int, int] | None = eqx.field(static=True, default=None)
    init_lengthscale: float = eqx.field(static=True, default=1.0)

    def __check_init__(self):
        if self.W is None and self.shape is None:
            raise ValueError(
                "RBFFourierFeatures needs either fixed frequencies `W` or the `shape` "
                "(in_features, n_features) of its sampled ones; build it with "
                "RBFFourierFeatures.init"
            )

    @classmethod
    def init(
        cls,
        in_features: int,
        n_features: int,
        *,
        lengthscale: float = 1.0,
        key: PRNGKeyArray | None = None,
        pyrox_name: str | None = None,
        dtype=None,
    ) -> "RBFFourierFeatures":
        r"""Sampled features (no key, the reference API) or fixed ones (with `key`).

        Args:
            in_features: the input dimension $D$.
            n_features: the number $M$ of frequencies (the output has $2M$ features).
            lengthscale: $\ell_0$: the location of the lengthscale's prior (sampled), or the
                initial lengthscale (fixed frequencies, learnable $\ell$).
            key: PRNG key of fixed frequencies $W \sim \mathcal{N}(0, I)$; None (default)
                makes $W$ and $\ell$ numpyro sample sites.
            pyrox_name: the scope of the site names (default: the class name).
            dtype: parameter dtype of fixed frequencies (default: JAX's default float).

        Raises:
            ValueError: a non-positive size or `lengthscale`.
        """
        key = None if key is None else as_key(key)
        in_features = positive_int("in_features", in_features)
        n_features = positive_int("n_features", n_features)
        lengthscale = positive_float("lengthscale", lengthscale)
        if key is None:
            return cls(
                W=None,
                log_lengthscale=None,
                shape=(in_features, n_features),
                init_lengthscale=lengthscale,
                pyrox_name=pyrox_name,
            )
        dtype = jnp.result_type(float) if dtype is None else dtype
        W = jax.random.normal(key, (in_features, n_features), dtype)
        log_ls = jnp.asarray(jnp.log(lengthscale), dtype)
        return cls(W=W, log_lengthscale=log_ls, init_lengthscale=lengthscale, pyrox_name=pyrox_name)

    @property
    def sampled(self) -> bool:
        """Whether `W` and the lengthscale are numpyro sites (built without a key)."""
        return self.W is None

    def _shape(self) -> tuple[int, int]:
        if self.W is not None:
            return self.W.shape[0], self.W.shape[1]
        assert self.shape is not None  # __check_init__
        return self.shape

    @property
    def in_features(self) -> int:
        return self._shape()[0]

    @property
    def n_features(self) -> int:
        return self._shape()[1]

    @property
    def lengthscale(self) -> Float[Array, ""]:
        """The learnable lengthscale $e^{\\log \\ell}$ of fixed features.

        Raises:
            ValueError: for sampled features, whose lengthscale is a numpyro site.
        """
        if self.log_lengthscale is None:
            raise ValueError(
                "this RBFFourierFeatures samples its lengthscale (site "
                f"{self.pyrox_scope}.lengthscale); read it from a numpyro trace"
            )
        return jnp.exp(self.log_lengthscale)

    @pyrox_method
    def __call__(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch m2"]:
        import numpyro.distributions as dist

        x = last_axis("x", x, self.in_features, "RBFFourierFeatures")
        if self.W is None:
            prior_W = dist.Normal(jnp.zeros(self._shape(), x.dtype), 1.0).to_event(2)
            W = self.pyrox_sample("W", prior_W)
            loc = jnp.log(jnp.asarray(self.init_lengthscale, x.dtype))
            ls = self.pyrox_sample("lengthscale", dist.LogNormal(loc, 1.0))
            return rff_features(x, W, ls)
        return rff_features(x, jax.lax.stop_gradient(self.W), self.lengthscale)


@final
class RandomKitchenSinks(eqx.Module):
    r"""Random Fourier features plus a learnable linear head: $y = \phi(x)\beta + b$.

    The head starts at zero (the prior mean of its Bayesian twin); fitting it is a linear
    least-squares problem in $\beta$.

    Example:
        >>> import jax.random as jr, jax.numpy as jnp
        >>> rks = RandomKitchenSinks.init(RBFFourierFeatures.init(1, 64, key=jr.key(0)), 2)
        >>> rks(jnp.zeros((5, 1))).shape
        (5, 2)
    """

    rff: RBFFourierFeatures
    beta: Float[Array, "m2 o"]
    bias: Float[Array, " o"]

    @classmethod
    def init(cls, rff: RBFFourierFeatures, out_features: int) -> "RandomKitchenSinks":
        """Put a zero linear head on `rff`.

        Args:
            rff: the `RBFFourierFeatures`.
            out_features: the output width.

        Raises:
            ValueError: a non-positive `out_features`.
        """
        out_features = positive_int("out_features", out_features)
        dtype = jnp.result_type(float) if rff.W is None else rff.W.dtype
        beta = jnp.zeros((2 * rff.n_features, out_features), dtype)
        return cls(rff=rff, beta=beta, bias=jnp.zeros((out_features,), dtype))

    def __call__(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch o"]:
        return self.rff(x) @ self.beta + self.bias


@final
class HyperFourierFeatures(PyroxModule):
    r"""Fourier features whose $(W, b, \log\ell)$ come from a parameter net of the context.

    ``parameter_net(z)`` must return a flat vector of size
    ``in_features * n_features + n_features + 1``: $W$ (row-major ``(D, M)``), the phases
    $b$, then $\log\ell$. With ``z`` of shape ``(K,)`` the net runs once and the features are
    shared by all points; with ``z`` of shape ``(..., K)`` (one per point) it runs per point.

    Example:
        >>> import jax.random as jr, jax.numpy as jnp, equinox as eqx
        >>> pnet = eqx.nn.MLP(in_size=2, out_size=33, width_size=32, depth=2, key=jr.key(0))
        >>> hff = HyperFourierFeatures.init(parameter_net=pnet, in_features=1, n_features=16,
        ...                                 cond_dim=2)
        >>> hff(jnp.ones((5, 1)), jnp.ones(2)).shape
        (5, 32)
    """

    parameter_net: Any
    in_features: int = eqx.field(static=True)
    n_features: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)

    @classmethod
    def init(
        cls,
        *,
        parameter_net: Any,
        in_features: int,
        n_features: int,
        cond_dim: int,
        pyrox_name: str | None = None,
    ) -> "HyperFourierFeatures":
        """Wrap `parameter_net`, whose output size is checked on the first call.

        Args:
            parameter_net: a callable ``(K,) -> (D * M + M + 1,)``, e.g. an `MLP`.
            in_features: the input dimension $D$.
            n_features: the number $M$ of frequencies (the output has $2M$ features).
            cond_dim: the width $K$ of the context ``z``.
            pyrox_name: a numpyro scope name; a deterministic layer only stores it, so that it
                and its Bayesian twin are built alike.

        Raises:
            TypeError: `parameter_net` is not callable.
            ValueError: a non-positive size.
        """
        if not callable(parameter_net):
            raise TypeError("`parameter_net` must be callable (cond_dim,) -> (flat size,)")
        return cls(
            parameter_net=parameter_net,
            in_features=positive_int("in_features", in_features),
            n_features=positive_int("n_features", n_features),
            cond_dim=positive_int("cond_dim", cond_dim),
            pyrox_name=pyrox_name,
        )

    @property
    def flat_size(self) -> int:
        """The parameter net's required output size, $DM + M + 1$."""
        return self.in_features * self.n_features + self.n_features + 1

    def _unflatten(self, flat):
        if flat.shape[-1] != self.flat_size:
            raise ValueError(
                f"`parameter_net` of HyperFourierFeatures must output size in_features * "
                f"n_features + n_features + 1 = {self.in_features}*{self.n_features}+"
                f"{self.n_features}+1 = {self.flat_size}, got output shape {flat.shape}"
            )
        d, m = self.in_features, self.n_features
        W = flat[..., : d * m].reshape(flat.shape[:-1] + (d, m))
        phase = flat[..., d * m : d * m + m]
        log_ls = flat[..., -1]
        return W, phase, log_ls

    @pyrox_method
    def __call__(self, x: Float[Array, "*batch d"], z: Float[Array, "*batch k"]) -> Array:
        x2, z2, batch = flatten_xz(x, z, self.in_features, self.cond_dim, "HyperFourierFeatures")
        if z2.ndim == 1:
            W, phase, log_ls = self._unflatten(jnp.asarray(self.parameter_net(z2)))
            feats = rff_features(x2, W, jnp.exp(log_ls), phase)
        else:
            W, phase, log_ls = self._unflatten(jax.vmap(self.parameter_net)(z2))
            arg = jnp.einsum("nd,ndm->nm", x2, W) / jnp.exp(log_ls)[:, None] + phase
            scale = jnp.sqrt(1.0 / self.n_features)
            s, c = sincos(arg)
            feats = scale * jnp.concatenate([c, s], axis=-1)
        return feats.reshape(batch + (2 * self.n_features,))


@final
class ConditionedRFFNet(PyroxModule):
    r"""Hyper-RFF: `HyperFourierFeatures` and a linear readout, $y = \phi(x;z)\beta + b$.

    Attributes:
        feat: the `HyperFourierFeatures`.
        readout: an `eqx.nn.Linear` from ``2 * n_features`` to the outputs; for a Bayesian
            readout put a `DenseReparameterization` there (``eqx.tree_at``), whose sites
            then carry the priors.
        pyrox_name: a numpyro scope name (stored only).

    Example:
        >>> import jax.random as jr, jax.numpy as jnp, equinox as eqx
        >>> pnet = eqx.nn.MLP(in_size=4, out_size=65, width_size=32, depth=2, key=jr.key(0))
        >>> feat = HyperFourierFeatures.init(parameter_net=pnet, in_features=1, n_features=32,
        ...                                  cond_dim=4)
        >>> net = ConditionedRFFNet.init(feat=feat, out_features=1, key=jr.key(1))
        >>> net(jnp.zeros((10, 1)), jnp.zeros((10, 4))).shape
        (10, 1)
        >>> from numpyro import handlers
        >>> bayes = eqx.tree_at(lambda n: n.readout, net, DenseReparameterization(64, 1))
        >>> with handlers.seed(rng_seed=0), handlers.trace() as tr:
        ...     y = bayes(jnp.zeros((10, 1)), jnp.zeros(4))
        >>> y.shape, sorted(tr)
        ((10, 1), ['DenseReparameterization.bias', 'DenseReparameterization.weight'])
    """

    feat: HyperFourierFeatures
    readout: eqx.nn.Linear | DenseReparameterization

    @classmethod
    def init(
        cls,
        *,
        feat: HyperFourierFeatures,
        out_features: int,
        key: PRNGKeyArray,
        pyrox_name: str | None = None,
        dtype=None,
    ) -> "ConditionedRFFNet":
        """LeCun-uniform readout from the ``2 * n_features`` features.

        Args:
            feat: the `HyperFourierFeatures`.
            out_features: the output width.
            key: PRNG key of the readout.
            pyrox_name: a numpyro scope name; a deterministic layer only stores it, so that it
                and its Bayesian twin are built alike.
            dtype: parameter dtype (default: JAX's default float).
        """
        key = as_key(key)
        out_features = positive_int("out_features", out_features)
        readout = linear_layer(key, 2 * feat.n_features, out_features, dtype)
        return cls(feat=feat, readout=readout, pyrox_name=pyrox_name)

    @property
    def cond_dim(self) -> int:
        return self.feat.cond_dim

    @pyrox_method
    def __call__(self, x: Float[Array, "*batch d"], z: Float[Array, "*batch k"]) -> Array:
        phi = self.feat(x, z)
        if isinstance(self.readout, DenseReparameterization):
            return self.readout(phi)
        out = phi @ self.readout.weight.T
        return out if self.readout.bias is None else out + self.readout.bias
