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

import math
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float

from .._checks import positive_float, positive_int
from .._sharding import P, device_mesh, split_leading
from .._types import Key


def as_key(seed: Any, name: str = "seed") -> jax.Array:
    """A typed PRNG key from an int or a (typed or raw uint32) key."""
    if isinstance(seed, bool):
        raise TypeError(f"`{name}` must be an int or a PRNG key, got {seed!r}")
    if isinstance(seed, int | np.integer):
        return jax.random.key(int(seed))
    if isinstance(seed, jax.Array) and jnp.issubdtype(seed.dtype, jax.dtypes.prng_key):
        return seed
    arr = np.asarray(seed) if not isinstance(seed, jax.Array) else seed
    if arr.dtype == np.uint32 and arr.shape == (2,):
        return jax.random.wrap_key_data(jnp.asarray(arr))
    raise TypeError(f"`{name}` must be an int or a PRNG key, got {type(seed).__name__}")


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
    devices: Sequence[Any] | None = None,
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
        devices: devices to shard the members over (default: all; a single device or
            an ensemble size sharing no factor with the device count runs unsharded).

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
    init_key = jax.random.split(as_key(seed))[0]
    keys = jax.random.split(init_key, ensemble_size)
    data_keys = jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys)
    params = eqx.filter_vmap(init_fn)(keys)
    trainable, static = eqx.partition(params, eqx.is_inexact_array)
    noise = _data_noise(data_noise, arrays, keys)
    sharding = member_sharding(ensemble_size, devices)
    trainable, data_keys, noise = shard_members((trainable, data_keys, noise), sharding)
    trainable, losses = _train(
        log_joint,
        static,
        trainable,
        data_keys,
        noise,
        arrays,
        optimizer,
        num_epochs,
        batch,
        prior_weight,
    )
    return eqx.combine(trainable, static), losses


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


@eqx.filter_jit
def _train(
    log_joint, static, trainable, keys, noise, data, optimizer, num_epochs, batch, prior_weight
):
    n = data[0].shape[0]
    scale = n / batch
    steps = n // batch

    def loss_of(tr, batch_data):
        loglik, logprior = log_joint(eqx.combine(tr, static), *batch_data)
        return -(scale * loglik + prior_weight * logprior)

    def update(carry, batch_data):
        tr, state = carry
        loss, grads = jax.value_and_grad(loss_of)(tr, batch_data)
        updates, state = optimizer.update(grads, state, tr)
        return (optax.apply_updates(tr, updates), state), loss

    def member(tr, key, noise_e):
        data_e = tuple(a if e is None else a + e for a, e in zip(data, noise_e, strict=True))

        def epoch(carry, ekey):
            if steps == 1 and batch == n:
                return update(carry, data_e)
            idx = jax.random.permutation(ekey, n)[: steps * batch].reshape(steps, batch)
            carry, losses = jax.lax.scan(update, carry, jax.tree.map(lambda a: a[idx], data_e))
            return carry, jnp.mean(losses)

        (tr, _), losses = jax.lax.scan(
            epoch, (tr, optimizer.init(tr)), jax.random.split(key, num_epochs)
        )
        return tr, losses

    return jax.vmap(member)(trainable, keys, noise)


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
