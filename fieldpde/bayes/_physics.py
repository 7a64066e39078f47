r"""Physics-informed ensembles: ensemble-of-MAP over a `Problem`, with error bars.

Each member minimises the negative log posterior of a field $u_\theta$ and PDE
coefficients $\phi$ built from the Problem's own Eq. 3 terms $\ell_m$:

$$\mathcal{E}(\theta, \phi) = \sum_{m\in\text{data}} \tfrac{n_m}{2}\,\ell_m
+ \sum_{m\in\text{physics}} \frac{\ell_m}{2\tau_m^2}
- \lambda\log p(\theta) - \log p(\phi).$$

For `Observations` (squared norm, weight 1) $\ell_m$ is the mean of
$\lVert(u(x_i)-y_i)/\sigma\rVert^2$ over its $n_m$ data, so $\tfrac{n_m}{2}\ell_m$ is the
Gaussian negative log-likelihood (a minibatch of $|B|$ data is scaled by $n_m/|B|$ this way).
Every other constraint (PDE residual, boundary and initial conditions) is a Gaussian
pseudo-likelihood of its integrated squared residual $\ell_m = w_m|\Omega_m|\,
\mathrm{mean}\lVert C_m\rVert^2 \approx w_m\int_{\Omega_m}\lVert C_m\rVert^2$ with a residual
noise scale $\tau_m$: a small $\tau$ trusts the physics, a large one lets the data bend it.
Using the integral (not the point sum) keeps the posterior independent of how many
collocation points are drawn.
"""

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float

from .._checks import as_key, positive_float, positive_int
from .._types import Key
from ..constraints import Batch, Observations
from ..problem import Problem
from ..train import AbstractObjective, Engine, Optax, Record, report_failures
from ._ensemble import member_sharding, shard_members
from ._stuck import find_stuck, predictive_summary


@final
class PhysicsEnsemble(eqx.Module):
    """The trained members of `ensemble_fit` and their predictive distribution.

    Attributes:
        fields: the member fields, stacked on a leading axis (static fields shared).
        params: the members' PDE coefficients, stacked (``None`` if the problem has none).
        losses: $\\mathcal{E}$ per member and step, shape ``(E, steps)``.
        terms: each constraint's negative log-likelihood term per member and step.
        status: each member's status (``"completed"``, ``"nan"``, ``"diverged"``; a
            stopped member keeps its last good parameters), or ``None`` if not recorded.
        failed_at: each member's first failed step (-1: none).

    Example:
        >>> import equinox as eqx, jax, jax.numpy as jnp
        >>> class Constant(eqx.Module):
        ...     c: jax.Array
        ...     def __call__(self, x):
        ...         return jnp.broadcast_to(self.c, x.shape[:-1] + (1,))
        >>> members = Constant(jnp.array([1.0, 3.0]))  # two members stacked on axis 0
        >>> ens = PhysicsEnsemble(members, None, jnp.zeros((2, 5)), {})
        >>> ens.ensemble_size, ens.predict(jnp.zeros((4, 1))).shape
        (2, (2, 4, 1))
        >>> s = ens.summary(jnp.zeros((1, 1)))
        >>> float(s["mean"][0, 0]), float(s["std"][0, 0])
        (2.0, 1.0)
        >>> ens.stuck()[0]  # no member stopped, none far above the others
        ()
    """

    fields: Any
    params: Any
    losses: Float[Array, "e steps"]
    terms: dict[str, Float[Array, "e steps"]]
    status: tuple[str, ...] | None = eqx.field(static=True, default=None)
    failed_at: tuple[int, ...] | None = eqx.field(static=True, default=None)

    @property
    def ensemble_size(self) -> int:
        return int(self.losses.shape[0])

    def predict(self, x: Float[Array, "n d"]) -> Float[Array, "e n m"]:
        """Every member's field at `x`."""
        x = jnp.asarray(x)
        out = eqx.filter_vmap(lambda f: f(x))(self.fields)
        return out.reshape(out.shape[0], x.shape[0], -1)

    def summary(self, x: Float[Array, "n d"], *, quantiles=(0.05, 0.5, 0.95), weights=None):
        """Posterior predictive mean, std and quantiles of the field at `x`."""
        return predictive_summary(self.predict(x), weights=weights, quantiles=quantiles)

    def param_summary(self, *, quantiles=(0.05, 0.5, 0.95), weights=None) -> Any:
        """Mean, std and quantiles of every PDE coefficient (a pytree of summaries)."""
        if self.params is None:
            raise ValueError("this problem has no PDE `params` to summarise")
        return jax.tree.map(
            lambda v: predictive_summary(v, weights=weights, quantiles=quantiles), self.params
        )

    def member(self, i: int) -> tuple[Any, Any]:
        """Member `i`'s field and params."""
        return jax.tree.map(lambda a: a[i] if eqx.is_array(a) else a, (self.fields, self.params))

    def stuck(self, *, tolerance: float = 10.0, mad_factor: float = 5.0, window: int = 1):
        """Members that stopped, and members stuck far above the others' final energy.

        Stopped members (a status other than ``"completed"``) come first; the rest are
        judged by `find_stuck` on their energies.

        Args:
            tolerance, mad_factor, window: as for `find_stuck`.

        Returns:
            ``(indices, threshold)``: the sorted indices of stopped or stuck members and
            the energy above which a running member counts as stuck.
        """
        flagged, threshold = find_stuck(
            self.losses, tolerance=tolerance, mad_factor=mad_factor, window=window
        )
        stopped = [i for i, s in enumerate(self.status or ()) if s != "completed"]
        return tuple(sorted(set(stopped) | {int(i) for i in flagged})), threshold


def _as_arrays(params: Any) -> Any:
    def leaf(v):
        if isinstance(v, bool) or not isinstance(v, int | float | np.ndarray | jax.Array):
            return v
        return jnp.asarray(v, dtype=jnp.result_type(float))

    return jax.tree.map(leaf, params)


def _residual_scales(problem: Problem, residual_scale: Any) -> dict[str, float | None]:
    names = list(problem.constraints)
    if isinstance(residual_scale, Mapping):
        unknown = sorted(set(residual_scale) - set(names))
        if unknown:
            raise ValueError(
                f"`residual_scale` names constraints the problem lacks: {unknown}; it has {names}"
            )
    scales: dict[str, float | None] = {}
    for name, c in problem.constraints.items():
        if isinstance(c, Observations):
            if c.norm != "squared":
                raise ValueError(
                    f"Observations {name!r} must use norm='squared' to be a Gaussian likelihood"
                )
            scales[name] = None
            continue
        value = residual_scale.get(name) if isinstance(residual_scale, Mapping) else residual_scale
        if value is None:
            raise ValueError(f"`residual_scale` gives no scale for constraint {name!r}")
        scales[name] = positive_float(f"residual_scale[{name!r}]", value)
        if c.norm != "squared":
            raise ValueError(f"constraint {name!r} must use norm='squared' for a Gaussian term")
    return scales


def ensemble_fit(
    problem: Problem,
    init_fn: Callable[[Key], Any],
    *,
    ensemble_size: int,
    steps: int,
    seed: Any,
    residual_scale: float | Mapping[str, float] = 0.01,
    log_prior: Callable[[Any], Float[Array, ""]] | None = None,
    prior_weight: float = 1.0,
    param_prior: Any = None,
    learning_rate: float = 5e-3,
    optimizer: optax.GradientTransformation | None = None,
    resample_every: int = 100,
    randomize: bool = True,
    devices: Sequence[Any] | None = None,
    divergence_factor: float | None = 1e6,
) -> PhysicsEnsemble:
    r"""Train an ensemble of MAP fields (and PDE coefficients) on a `Problem`.

    All members run in one vmapped, jitted program per block of `resample_every` steps;
    each block draws fresh collocation points (shared by the members) from the Problem's
    own samplers, and the loss terms come from ``problem.losses``.

    Args:
        problem: the `Problem`; its `Observations` are the likelihood, its other
            constraints physics pseudo-likelihoods (see the module docstring).
        init_fn: ``init_fn(key) -> field``, one member's starting field, e.g.
            ``prior_init_fn(BayesianSIREN.init(...))``.
        ensemble_size: members $E$.
        steps: optimiser steps per member.
        seed: int or PRNG key (member inits, coefficient draws, collocation points).
        residual_scale: $\tau$, one number or a dict constraint name -> number for every
            constraint that is not `Observations`.
        log_prior: ``log_prior(field)``, e.g. `log_prior_fn` of the Bayesian model
            (default: none, i.e. a flat prior on the weights).
        prior_weight: $\lambda$.
        param_prior: numpyro distributions with the structure of ``problem.params`` (e.g.
            ``{"k": dist.Uniform(1.0, 5.0)}``): members start from independent draws and
            $\log p(\phi)$ joins the objective. Default: every member starts at
            ``problem.params`` under a flat prior.
        learning_rate: Adam's step size when `optimizer` is None.
        optimizer: any `optax.GradientTransformation`.
        resample_every: steps per block of fixed collocation points.
        randomize: randomised MAP (default): member $e$ fits the observations perturbed by
            its own fixed draw $\sigma\varepsilon_e$, and its weight prior is anchored at its
            own initial draw $\theta_e^{(0)}$ ($\log p(\theta - \theta_e^{(0)})$, exact for
            the zero-mean Normal priors of `BayesianSIREN`). For a model linear in its
            unknowns the members are then exact posterior samples (randomise-then-optimise;
            anchored ensembles, Pearce et al. 2020); without it, members that the data and
            physics drive to one optimum collapse onto it and report no uncertainty.
        devices: devices to shard members over (default: all).
        divergence_factor: a member whose energy rises by more than this multiple of its
            best energy's magnitude stops (``None``: never). A member whose energy or
            gradient becomes non-finite stops too; each stopped member keeps its last good
            parameters, is named in a `RuntimeWarning` and in `PhysicsEnsemble.status`,
            and the others train on unaffected.

    Returns:
        A `PhysicsEnsemble`.

    Example:
        >>> import equinox as eqx, jax, jax.numpy as jnp
        >>> from fieldpde.constraints import Observations
        >>> from fieldpde.problem import Problem
        >>> class Line(eqx.Module):
        ...     a: jax.Array
        ...     b: jax.Array
        ...     def __call__(self, x):
        ...         return self.a + self.b * x[..., :1]
        >>> x = jnp.linspace(0.0, 1.0, 11)[:, None]
        >>> problem = Problem({"data": Observations(x, 1.0 + 2.0 * x[:, 0], noise_scale=0.1)})
        >>> ens = ensemble_fit(problem, lambda k: Line(*jax.random.normal(k, (2,))),
        ...     ensemble_size=8, steps=300, seed=0, learning_rate=0.05)
        >>> s = ens.summary(jnp.array([[0.5]]))  # the line 1 + 2x, with error bars
        >>> bool(abs(s["mean"][0, 0] - 2.0) < 0.1), bool(0.0 < s["std"][0, 0] < 0.1)
        (True, True)
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"`problem` must be a fieldpde Problem, got {type(problem).__name__}")
    if not callable(init_fn):
        raise TypeError(f"`init_fn` must be a callable key -> field, got {type(init_fn).__name__}")
    ensemble_size = positive_int("ensemble_size", ensemble_size)
    steps = positive_int("steps", steps)
    resample_every = positive_int("resample_every", resample_every)
    prior_weight = float(prior_weight)
    if not math.isfinite(prior_weight) or prior_weight < 0:
        raise ValueError(f"`prior_weight` must be a finite number >= 0, got {prior_weight!r}")
    scales = _residual_scales(problem, residual_scale)
    counts = {
        name: c.points.shape[0]
        for name, c in problem.constraints.items()
        if isinstance(c, Observations)
    }
    key = as_key(seed, "seed")
    k_init, k_params, k_points = jax.random.split(key, 3)
    fields = eqx.filter_vmap(init_fn)(jax.random.split(k_init, ensemble_size))
    params = _as_arrays(problem.params)
    if param_prior is not None:
        if params is None:
            raise ValueError("`param_prior` was given but the problem has no `params`")
        params = _draw_params(param_prior, params, k_params, ensemble_size)
    elif params is not None:
        params = jax.tree.map(
            lambda a: (
                jnp.broadcast_to(a, (ensemble_size,) + jnp.shape(a))
                if eqx.is_inexact_array(a)
                else a
            ),
            params,
        )
    trainable, static = eqx.partition((fields, params), eqx.is_inexact_array)
    # randomised MAP: each member's own data perturbation and prior anchor (its initial draw)
    k_noise = jax.random.fold_in(key, 3)
    noise = {
        name: (
            problem.constraints[name].noise_scale
            * jax.random.normal(
                jax.random.fold_in(k_noise, i),
                (ensemble_size,) + problem.constraints[name].values.shape,
                dtype=problem.constraints[name].values.dtype,
            )
            if randomize
            else jnp.zeros((ensemble_size,) + problem.constraints[name].values.shape)
        )
        for i, name in enumerate(counts)
    }
    anchor = eqx.filter(fields, eqx.is_inexact_array) if randomize and log_prior else None
    if optimizer is None:
        optimizer = optax.adam(positive_float("learning_rate", learning_rate))
    sharding = member_sharding(ensemble_size, devices)
    noise, anchor = shard_members((noise, anchor), sharding)
    objective = EnergyObjective(
        problem=problem,
        static=static,
        counts=counts,
        scales=scales,
        log_prior=log_prior,
        prior_weight=prior_weight,
        param_prior=param_prior,
    )

    def sample(index, phase, bkey, params):
        batches = problem.sample(bkey)
        for i, name in enumerate(counts):
            batches[name] = _observation_batch(
                problem.constraints[name], jax.random.fold_in(bkey, 10**6 + i)
            )
        return batches, noise, anchor

    engine = Engine(
        objectives=(objective,),
        phases=(Optax(steps, optimizer, resample_every=resample_every),),
        key=k_points,
        sample=sample,
        members=ensemble_size,
        batch_axes=(None, 0, 0),
        divergence_factor=divergence_factor,
        place=lambda tree: shard_members(tree, sharding),
    )
    record = Record(tuple(problem.constraints), members=ensemble_size)
    state, _ = engine.run(engine.start(trainable), record)
    status, failed_at = report_failures("ensemble_fit", state, record)
    fields, params = eqx.combine(state.params, static)
    history = record.arrays()
    return PhysicsEnsemble(
        fields=fields,
        params=params,
        losses=jnp.asarray(history["loss"]),
        terms={n: jnp.asarray(history[n]) for n in problem.constraints},
        status=status,
        failed_at=tuple(int(v) for v in failed_at),
    )


def _observation_batch(obs: Observations, key) -> tuple[Batch, Array]:
    """A batch of `obs` with the indices of its data (to perturb them consistently)."""
    n = obs.points.shape[0]
    if obs.batch_size is None:
        idx = jnp.arange(n)
    else:
        idx = jax.random.choice(key, n, (obs.batch_size,), replace=False)
    return Batch(obs.points[idx], extra=obs.values[idx]), idx


@final
class EnergyObjective(AbstractObjective):
    r"""One member's negative log posterior $\mathcal{E}$ (see the module docstring).

    The batch is ``(batches, noise, anchor)``: the block's collocation and observation
    batches (shared by the members; an observation batch carries the indices of its
    data), the member's fixed perturbation of each observation term, and its prior anchor
    (or ``None``).
    """

    problem: Problem
    static: Any
    counts: dict[str, int] = eqx.field(static=True)
    scales: dict[str, float | None] = eqx.field(static=True)
    log_prior: Any = eqx.field(static=True)
    prior_weight: float = eqx.field(static=True)
    param_prior: Any
    names: tuple[str, ...] = eqx.field(static=True)

    def __init__(self, *, problem, static, counts, scales, log_prior, prior_weight, param_prior):
        self.problem = problem
        self.static = static
        self.counts = dict(counts)
        self.scales = dict(scales)
        self.log_prior = log_prior
        self.prior_weight = prior_weight
        self.param_prior = param_prior
        self.names = tuple(problem.constraints)

    def model(self, params: Any) -> Any:
        return eqx.combine(params, self.static)

    def __call__(self, params, batch, x):
        batches, noise_e, anchor_e = batch
        field, phi = eqx.combine(params, self.static)
        batches = dict(batches)
        for name in self.counts:
            b, idx = batches[name]
            batches[name] = b._replace(extra=b.extra + noise_e[name][idx])
        parts = self.problem.losses(field, batches, phi)
        terms = {
            name: 0.5 * self.counts[name] * loss
            if self.scales[name] is None
            else loss / (2.0 * self.scales[name] ** 2)
            for name, loss in parts.items()
        }
        total = sum(terms.values())
        if self.log_prior is not None:
            if anchor_e is not None:
                # a zero-mean prior moved to this member's draw: log p(theta - theta_0)
                arrays, rest = eqx.partition(field, eqx.is_inexact_array)
                field = eqx.combine(jax.tree.map(jnp.subtract, arrays, anchor_e), rest)
            total = total - self.prior_weight * self.log_prior(field)
        if self.param_prior is not None:
            total = total - _param_log_prob(self.param_prior, phi)
        return total, terms


def _is_dist(x) -> bool:
    from numpyro.distributions import Distribution

    return isinstance(x, Distribution)


def _draw_params(param_prior, params, key, ensemble_size):
    prior_leaves, prior_def = jax.tree.flatten(param_prior, is_leaf=_is_dist)
    param_leaves, param_def = jax.tree.flatten(params)
    if prior_def != param_def or not all(_is_dist(d) for d in prior_leaves):
        raise ValueError(
            "`param_prior` must hold one numpyro distribution per entry of `problem.params` "
            f"(same structure), got {param_prior!r} for params {params!r}"
        )
    keys = jax.random.split(key, len(prior_leaves))
    drawn = []
    for d, p, k in zip(prior_leaves, param_leaves, keys, strict=True):
        value = d.sample(jax.random.key_data(k), (ensemble_size,))
        if value.shape[1:] != jnp.shape(p):
            raise ValueError(
                f"`param_prior` draws of shape {value.shape[1:]} do not match the parameter's "
                f"shape {jnp.shape(p)}"
            )
        drawn.append(jnp.asarray(value, dtype=jnp.result_type(float)))
    return jax.tree.unflatten(param_def, drawn)


def _param_log_prob(param_prior, params):
    prior_leaves = jax.tree.leaves(param_prior, is_leaf=_is_dist)
    return sum(
        jnp.sum(d.log_prob(v)) for d, v in zip(prior_leaves, jax.tree.leaves(params), strict=True)
    )
