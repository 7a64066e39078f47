r"""Ensembles of MAP estimates: every member trained in one vmapped, jitted program.

Member $e$ starts from its own prior draw $\theta_e^{(0)}$ and minimises the negative log
joint

$$\mathcal{L}(\theta) = -\Bigl[\tfrac{n}{|B|}\log p(y_B \mid \theta)
    + \lambda \log p(\theta)\Bigr]$$

over minibatches $B$ of the $n$ data (the factor $n/|B|$ makes the minibatch likelihood an
unbiased estimate of the full one; $\lambda$ is ``prior_weight``). Because the loss is
non-convex, members settle in different modes and their spread approximates the posterior
predictive (Lakshminarayanan et al. 2017). With several devices the member axis is sharded
across them (`jax.sharding`), which changes where members run, not what they compute.
"""

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float

from .._checks import as_key, positive_float, positive_int
from .._sharding import P, device_mesh, split_leading
from .._types import Key
from ..train import AbstractObjective, Engine, Optax, Record, report_failures


def check_data(data: Any) -> tuple[tuple[Array, ...], int]:
    """`data` as a tuple of arrays sharing their leading axis, and that axis' length."""
    if isinstance(data, jax.Array | np.ndarray):
        data = (data,)
    if not isinstance(data, Sequence) or isinstance(data, str) or not data:
        raise TypeError(
            f"`data` must be a tuple of arrays such as (x, y), got {type(data).__name__}"
        )
    arrays = tuple(jnp.asarray(a) for a in data)
    if any(a.ndim == 0 for a in arrays):
        raise ValueError("`data` arrays must have a leading data axis, got a scalar")
    n = arrays[0].shape[0]
    shapes = [a.shape for a in arrays]
    if any(s[0] != n for s in shapes):
        raise ValueError(f"`data` arrays must share their first (data) axis, got shapes {shapes}")
    return arrays, n


def member_sharding(ensemble_size: int, devices: Sequence[Any] | None = None):
    """A `NamedSharding` splitting the member axis over devices, or None on one device.

    Uses the largest number of devices that divides `ensemble_size`.

    Args:
        ensemble_size: the number of members $e$ (the length of the member axis).
        devices: the devices to use (default ``jax.devices()``).

    Returns:
        A `jax.sharding.NamedSharding` over a one-axis ``("members",)`` mesh of
        that many devices, or None when that number is 1.

    Example:
        >>> import math, jax
        >>> count = math.gcd(8, len(jax.devices()))  # 1 on a single CPU device
        >>> sharding = member_sharding(8)
        >>> sharding is None if count == 1 else sharding.mesh.size == count
        True
    """
    devices = list(jax.devices() if devices is None else devices)
    mesh = device_mesh("members", devices, math.gcd(ensemble_size, len(devices)))
    return None if mesh is None else jax.sharding.NamedSharding(mesh, P("members"))


def shard_members(tree: Any, sharding) -> Any:
    """Place every array leaf of `tree` (leading member axis) with `sharding`."""
    return tree if sharding is None else split_leading(tree, sharding.mesh)


def ensemble_map(
    log_joint: Callable[..., tuple[Float[Array, ""], Float[Array, ""]]],
    init_fn: Callable[[Key], Any],
    *,
    ensemble_size: int,
    num_epochs: int,
    data: Any,
    seed: Any,
    batch_size: int | None = None,
    learning_rate: float = 5e-3,
    prior_weight: float = 1.0,
    optimizer: optax.GradientTransformation | None = None,
    data_noise: Sequence[float | None] | None = None,
    anchor: bool = False,
    devices: Sequence[Any] | None = None,
    divergence_factor: float | None = 1e6,
) -> tuple[Any, Float[Array, "e epochs"]]:
    r"""Train `ensemble_size` MAP estimates at once; stacked parameters and loss curves.

    Args:
        log_joint: ``log_joint(params, *batch) -> (loglik, logprior)`` for one member, with
            ``batch`` a minibatch of each array in `data` (``loglik`` summed over it).
        init_fn: ``init_fn(key) -> params``, one member's starting point (e.g.
            `prior_init_fn`); any pytree or equinox module.
        ensemble_size: number of members $E$.
        num_epochs: passes over the data. Without `batch_size` an epoch is one full-batch
            step; with it, $\lfloor n/|B|\rfloor$ steps over a fresh per-member shuffle.
        data: a tuple of arrays with a common leading axis of length $n$, e.g. ``(x, y)``.
        seed: int or PRNG key. As in the reference library, member $e$ starts from
            ``init_fn(key_e)`` with ``key_e = jax.random.split(jax.random.split(seed)[0],
            E)[e]``; its minibatch shuffles and its `data_noise` draw from streams folded off
            that key (``fold_in(key_e, 1)`` and ``fold_in(key_e, 2 + i)`` for array $i$).
        batch_size: minibatch size $|B|$ (``None``: all $n$).
        learning_rate: Adam's step size (when `optimizer` is None).
        prior_weight: $\lambda$, the multiplier of the log-prior.
        optimizer: any `optax.GradientTransformation` (default ``optax.adam(learning_rate)``).
        data_noise: randomised MAP: one noise scale (or None) per array of `data`, e.g.
            ``(None, 0.05)`` for ``(x, y)``. Member $e$ then fits its own perturbed copy
            $y + \sigma\varepsilon_e$ (fixed for the run), so that the members' spread also
            carries the noise in the data; a plain ensemble fits the same noise in every
            member and is over-confident where the data are. Default: no perturbation.
        anchor: randomise-then-optimise for the prior too (anchored ensembles, Pearce et
            al. 2020): member $e$'s log prior is evaluated at $\theta - \theta_e^{(0)}$,
            its own initial draw, so a zero-mean prior is re-centred on a prior sample
            (``log_joint`` is called a second time, at the shifted parameters, for its
            ``logprior``; the unused half of each call is compiled away). With
            `data_noise` as well and `init_fn` drawing from the prior (`prior_init_fn`),
            a model linear in its parameters gives exact posterior samples; the prior must
            be a zero-mean location family (the `BayesianSIREN` Normal priors are).
        devices: devices to shard the members over (default: all; a single device or
            an ensemble size sharing no factor with the device count runs unsharded).
        divergence_factor: a member whose loss rises by more than this multiple of its
            best loss's magnitude stops (``None``: never). A member whose loss or gradient
            becomes non-finite stops too; each stopped member keeps its last good
            parameters and is named in a `RuntimeWarning`, the others train on unaffected.

    Returns:
        ``(params, losses)``: the trained members stacked on a leading axis of length $E$
        (an equinox module's static fields are shared), and $\mathcal{L}$ per member and
        epoch (mean over the epoch's steps), shape ``(E, num_epochs)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> x = jnp.linspace(-1, 1, 20); y = 2 * x
        >>> def log_joint(w, xb, yb):
        ...     return -0.5 * jnp.sum((yb - w * xb) ** 2) / 0.1**2, -0.5 * w**2
        >>> w, losses = ensemble_map(log_joint, lambda k: jax.random.normal(k),
        ...     ensemble_size=4, num_epochs=300, data=(x, y), seed=0, learning_rate=0.05)
        >>> w.shape, bool(jnp.allclose(w, 2.0, atol=0.01)), losses.shape
        ((4,), True, (4, 300))
    """
    ensemble_size = positive_int("ensemble_size", ensemble_size)
    num_epochs = positive_int("num_epochs", num_epochs)
    prior_weight = float(prior_weight)
    if not math.isfinite(prior_weight) or prior_weight < 0:
        raise ValueError(f"`prior_weight` must be a finite number >= 0, got {prior_weight!r}")
    if not callable(log_joint) or not callable(init_fn):
        raise TypeError("`log_joint` and `init_fn` must be callables")
    arrays, n = check_data(data)
    if batch_size is None:
        batch = n
    else:
        batch = positive_int("batch_size", batch_size)
        if batch > n:
            raise ValueError(f"`batch_size` {batch} exceeds the number of data {n}")
    if optimizer is None:
        optimizer = optax.adam(positive_float("learning_rate", learning_rate))
    # The reference library's keys: init_key = split(seed)[0], member e starts from
    # init_fn(split(init_key, E)[e]), so the notebook's seed gives the notebook's members.
    # Member e's shuffles and data noise come from fold_in(keys[e], 1) and
    # fold_in(keys[e], 2 + i), streams apart from its init key.
    init_key = jax.random.split(as_key(seed, "seed"))[0]
    keys = jax.random.split(init_key, ensemble_size)
    data_keys = jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys)
    params = eqx.filter_vmap(init_fn)(keys)
    trainable, static = eqx.partition(params, eqx.is_inexact_array)
    if not isinstance(anchor, bool):
        raise TypeError(f"`anchor` must be True or False, got {anchor!r}")
    noise = _data_noise(data_noise, arrays, keys)
    sharding = member_sharding(ensemble_size, devices)
    # each member's data: the shared arrays, or its own perturbed copy (fixed for the run)
    member_data = tuple(a if e is None else a + e for a, e in zip(arrays, noise, strict=True))
    data_axes = tuple(None if e is None else 0 for e in noise)
    member_data = tuple(
        a if axis is None else shard_members(a, sharding)
        for a, axis in zip(member_data, data_axes, strict=True)
    )
    if anchor:
        # the member's own prior draw travels with its data: (arrays..., theta_0)
        member_data = (*member_data, shard_members(trainable, sharding))
        data_axes = (*data_axes, 0)
    steps_per_epoch = n // batch
    full = steps_per_epoch == 1 and batch == n
    epochs_per_block = max(1, min(num_epochs, 2**24 // max(ensemble_size * n, 1)))
    epoch_keys = jax.vmap(lambda k: jax.random.split(k, num_epochs))(data_keys)
    rows = _epoch_rows(n, batch, steps_per_epoch)

    def step_inputs(index, phase, start, length):
        first = start // steps_per_epoch
        count = length // steps_per_epoch
        return shard_members(rows(epoch_keys, first, count), sharding)

    engine = Engine(
        objectives=(LogJointObjective(log_joint, static, n / batch, prior_weight, anchor),),
        phases=(
            Optax(
                num_epochs * steps_per_epoch,
                optimizer,
                resample_every=epochs_per_block * steps_per_epoch,
            ),
        ),
        sample=lambda index, phase, key, params: member_data,
        step_inputs=None if full else step_inputs,
        members=ensemble_size,
        batch_axes=data_axes,
        xs_axes=None if full else 0,
        divergence_factor=divergence_factor,
        place=lambda tree: shard_members(tree, sharding),
    )
    record = Record((), members=ensemble_size)
    state, _ = engine.run(engine.start(trainable), record)
    report_failures("ensemble_map", state, record, per="epoch", steps_per=steps_per_epoch)
    losses = record.arrays()["loss"].reshape(ensemble_size, num_epochs, steps_per_epoch)
    return eqx.combine(state.params, static), jnp.asarray(losses.mean(axis=-1))


def _epoch_rows(n: int, batch: int, steps: int):
    """``rows(epoch_keys, first, count)``: each member's minibatch indices for `count`
    epochs from epoch `first`, one row of `batch` indices per step (a fresh shuffle of the
    `n` data per epoch), shape ``(E, count * steps, batch)``."""

    @functools.partial(jax.jit, static_argnums=(2,))
    def rows(epoch_keys, first, count):
        def member(keys):
            ks = jax.lax.dynamic_slice_in_dim(keys, first, count)
            perm = jax.vmap(lambda k: jax.random.permutation(k, n)[: steps * batch])(ks)
            return perm.reshape(count * steps, batch)

        return jax.vmap(member)(epoch_keys)

    return lambda keys, first, count: rows(keys, first, count)


@final
class LogJointObjective(AbstractObjective):
    r"""One member's negative log joint, $-[(n/|B|)\log p(y_B|\theta) + \lambda\log p(\theta)]$.

    The batch is the member's data arrays; a step's input is its minibatch rows (``None``
    for the full batch).
    """

    log_joint: Callable[..., Any]
    static: Any
    scale: float = eqx.field(static=True)
    prior_weight: float = eqx.field(static=True)
    anchor: bool = eqx.field(static=True, default=False)
    names: tuple[str, ...] = eqx.field(static=True, default=())

    def model(self, params: Any) -> Any:
        return eqx.combine(params, self.static)

    def __call__(self, params, batch, x):
        centre = None
        if self.anchor:
            *batch, centre = batch
        data = tuple(batch) if x is None else tuple(a[x] for a in batch)
        loglik, logprior = self.log_joint(eqx.combine(params, self.static), *data)
        if centre is not None:
            # a zero-mean prior moved to this member's draw: log p(theta - theta_0)
            shifted = jax.tree.map(jnp.subtract, params, centre)
            logprior = self.log_joint(eqx.combine(shifted, self.static), *data)[1]
        return -(self.scale * loglik + self.prior_weight * logprior), {}


def _data_noise(scales, arrays, keys) -> tuple:
    """Each member's fixed perturbation of each data array (zeros where none is asked)."""
    if scales is None:
        return tuple(None for _ in arrays)
    if len(scales) != len(arrays):
        raise ValueError(
            f"`data_noise` must give one scale (or None) per data array ({len(arrays)}), "
            f"got {len(scales)}"
        )
    out = []
    for i, (scale, a) in enumerate(zip(scales, arrays, strict=True)):
        if scale is None:
            out.append(None)
            continue
        scale = jnp.asarray(scale, dtype=a.dtype)
        if not bool(jnp.all(scale > 0)):
            raise ValueError(f"`data_noise` scales must be > 0, got {scale} for array {i}")
        out.append(
            jax.vmap(
                lambda k, i=i, a=a: jax.random.normal(
                    jax.random.fold_in(k, 2 + i), a.shape, a.dtype
                )
            )(keys)
            * scale
        )
    return tuple(out)


def ensemble_predict(
    params: Any, predict_fn: Callable[[Any, Any], Any], x: Any
) -> Float[Array, "e ..."]:
    """Every member's prediction at `x`, stacked on a leading member axis.

    Args:
        params: stacked members, as returned by `ensemble_map`.
        predict_fn: ``predict_fn(member, x)`` for one member.
        x: the inputs, shared by all members.

    Returns:
        The members' predictions stacked on a leading axis of length $e$.

    Example:
        >>> import jax.numpy as jnp
        >>> ensemble_predict(jnp.array([1.0, 2.0]), lambda w, x: w * x, jnp.ones(3)).shape
        (2, 3)
    """
    return eqx.filter_vmap(lambda p: predict_fn(p, x))(params)
