r"""Members stuck in poor modes: find them, re-draw them, or weight members by density.

A vmapped Adam ensemble sometimes leaves a member in a mode whose negative log joint is far
above the others' (a missed oscillation, a collapsed layer). Such a member is not a
plausible posterior sample, yet it widens the band where the data should pin the field.
A member is flagged when its final loss exceeds the median by more than
$\max(\tau, k \cdot 1.4826\,\mathrm{MAD})$: an absolute tolerance $\tau$ in nats and a
robust multiple of the members' own spread.
"""

import math
from dataclasses import dataclass
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._ensemble import as_key, ensemble_map


@final
@dataclass(frozen=True)
class StuckReport:
    """Which members were stuck and what was done about them.

    Attributes:
        stuck: indices of members flagged in the first check.
        replaced: indices re-drawn (and retrained) by `redraw_stuck`.
        remaining: indices still flagged at the end.
        final_losses: every member's final loss at the end.
        threshold: the loss above which a member counted as stuck (last check).
        rounds: re-draw rounds run.
        message: a sentence for logs.

    Example:
        >>> import numpy as np
        >>> losses = np.array([[3.0, 1.0], [3.0, 1.2], [3.0, 0.9]])  # nobody is stuck
        >>> _, _, report = redraw_stuck(None, None, np.zeros(3), losses,
        ...     num_epochs=2, data=(), seed=0)
        >>> report.stuck, report.rounds, report.message
        ((), 0, 'no member was stuck')

        `redraw_stuck` shows a report with a re-drawn member.
    """

    stuck: tuple[int, ...]
    replaced: tuple[int, ...]
    remaining: tuple[int, ...]
    final_losses: np.ndarray
    threshold: float
    rounds: int
    message: str


def _final(losses: Any, window: int) -> np.ndarray:
    losses = np.asarray(losses)
    if losses.ndim != 2 or losses.shape[0] < 1:
        raise ValueError(f"`losses` must have shape (members, epochs), got {losses.shape}")
    window = max(1, min(int(window), losses.shape[1]))
    return losses[:, -window:].mean(axis=1)


def find_stuck(
    losses: Float[Array, "e epochs"],
    *,
    tolerance: float = 10.0,
    mad_factor: float = 5.0,
    window: int = 1,
) -> tuple[np.ndarray, float]:
    r"""Indices of members whose final loss is far above the median, and the threshold.

    Args:
        losses: per-member loss curves from `ensemble_map`, shape ``(E, epochs)``.
        tolerance: $\tau$, the smallest excess over the median (in loss units, nats for a
            negative log joint) that counts as stuck.
        mad_factor: $k$; the excess must also beat $k$ robust standard deviations.
        window: average the last `window` epochs (for noisy minibatch curves).

    Returns:
        ``(indices, threshold)``: the flagged members (a numpy integer array, non-finite
        final losses included) and the loss above which a member counts as stuck.

    Example:
        >>> import numpy as np
        >>> losses = np.array([[5.0, -100.0], [4.0, -101.0], [3.0, -99.5], [9.0, 40.0]])
        >>> find_stuck(losses)[0]
        array([3])
    """
    final = _final(losses, window)
    med = float(np.median(final))
    mad = float(np.median(np.abs(final - med)))
    threshold = med + max(float(tolerance), mad_factor * 1.4826 * mad)
    bad = np.flatnonzero(~np.isfinite(final) | (final > threshold))
    return bad, threshold


def posterior_weights(losses: Float[Array, "e epochs"], *, temperature: float = 1.0, window=1):
    r"""Member weights $w_e \propto \exp(-\mathcal{L}_e / T)$ from final negative log joints.

    Weighting by posterior density down-weights stuck members smoothly instead of dropping
    them. With $T = 1$ the weights are the unnormalised posterior densities at the modes,
    which favours the best mode strongly; a larger temperature flattens them. Non-finite
    losses get weight 0.

    Args:
        losses: per-member loss curves (negative log joints), shape ``(E, epochs)``.
        temperature: $T > 0$.
        window: average the last `window` epochs before weighting.

    Returns:
        The weights, shape ``(E,)``, summing to 1.

    Example:
        >>> import numpy as np
        >>> w = posterior_weights(np.array([[0.0], [0.0], [50.0]]))
        >>> np.round(np.asarray(w), 3).tolist()
        [0.5, 0.5, 0.0]
    """
    if not temperature > 0:
        raise ValueError(f"`temperature` must be > 0, got {temperature!r}")
    final = jnp.asarray(_final(losses, window))
    logits = jnp.where(jnp.isfinite(final), -final / temperature, -jnp.inf)
    return jax.nn.softmax(logits)


def predictive_summary(
    samples: Float[Array, "e ..."], *, weights: Any = None, quantiles: Any = (0.05, 0.5, 0.95)
) -> dict[str, Array]:
    """Mean, standard deviation and quantiles over members (optionally weighted).

    Args:
        samples: member predictions, ``(E, ...)``.
        weights: member weights ``(E,)`` (e.g. `posterior_weights`); default equal.
        quantiles: probabilities in [0, 1].

    Returns:
        ``{"mean", "std", "quantiles"}``, the last of shape ``(len(quantiles), ...)``.

    Example:
        >>> import jax.numpy as jnp
        >>> s = predictive_summary(jnp.array([[0.0], [1.0], [2.0], [3.0]]), quantiles=(0.5,))
        >>> float(s["mean"][0]), float(s["std"][0]) ** 2
        (1.5, 1.25)
    """
    samples = jnp.asarray(samples)
    q = jnp.asarray(quantiles, dtype=samples.dtype)
    if samples.ndim < 1:
        raise ValueError(f"`samples` must have a leading member axis, got shape {samples.shape}")
    if weights is None:
        mean = jnp.mean(samples, axis=0)
        std = jnp.std(samples, axis=0)
        return {"mean": mean, "std": std, "quantiles": jnp.quantile(samples, q, axis=0)}
    w = jnp.asarray(weights, dtype=samples.dtype)
    if w.shape != samples.shape[:1]:
        raise ValueError(f"`weights` must have shape ({samples.shape[0]},), got {w.shape}")
    w = w / jnp.sum(w)
    wb = w.reshape((-1,) + (1,) * (samples.ndim - 1))
    mean = jnp.sum(wb * samples, axis=0)
    std = jnp.sqrt(jnp.sum(wb * (samples - mean) ** 2, axis=0))
    # weighted quantiles: interpolate the cumulative weight of the sorted members
    order = jnp.argsort(samples, axis=0)
    ordered = jnp.take_along_axis(samples, order, axis=0)
    cw = jnp.cumsum(jnp.take(w, order), axis=0) - 0.5 * jnp.take(w, order)
    flat_cw = cw.reshape(cw.shape[0], -1).T
    flat_x = ordered.reshape(ordered.shape[0], -1).T
    qs = jax.vmap(lambda c, x: jnp.interp(q, c, x))(flat_cw, flat_x)
    return {"mean": mean, "std": std, "quantiles": qs.T.reshape((q.shape[0],) + mean.shape)}


def redraw_stuck(
    log_joint,
    init_fn,
    params: Any,
    losses: Float[Array, "e epochs"],
    *,
    num_epochs: int,
    data: Any,
    seed: Any,
    max_rounds: int = 3,
    tolerance: float = 10.0,
    mad_factor: float = 5.0,
    **ensemble_kwargs: Any,
) -> tuple[Any, Float[Array, "e epochs"], StuckReport]:
    """Replace stuck members by fresh prior draws trained the same way.

    Runs `find_stuck`; the flagged members are re-drawn (new keys from `seed`) and trained
    with `ensemble_map` for `num_epochs`, up to `max_rounds` times, then spliced back. The
    arguments are those of `ensemble_map` (pass the same `batch_size`, `learning_rate`,
    ... as the first run through `ensemble_kwargs`).

    Args:
        log_joint, init_fn: as for `ensemble_map`.
        params, losses: the stacked members and their loss curves from `ensemble_map`.
        num_epochs, data: as for `ensemble_map` (the same `num_epochs` as the first run).
        seed: int or PRNG key of the re-draws (use a different one from the first run).
        max_rounds: re-draw rounds at most.
        tolerance, mad_factor: as for `find_stuck`.
        **ensemble_kwargs: further arguments of `ensemble_map`.

    Returns:
        ``(params, losses, report)`` with the same shapes as the inputs, and a `StuckReport`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde.bayes import ensemble_map
        >>> x = jnp.linspace(-1, 1, 20); y = 2 * x
        >>> def log_joint(w, xb, yb):
        ...     return -0.5 * jnp.sum((yb - w * xb) ** 2) / 0.1**2, -0.5 * w**2
        >>> init, kw = (lambda k: jax.random.normal(k)), dict(data=(x, y), learning_rate=0.05)
        >>> w, losses = ensemble_map(log_joint, init, ensemble_size=4, num_epochs=200, seed=0,
        ...     **kw)
        >>> w, losses = w.at[3].set(50.0), losses.at[3].set(1e4)  # pretend 3 got stuck
        >>> w, losses, report = redraw_stuck(log_joint, init, w, losses, num_epochs=200,
        ...     seed=1, **kw)
        >>> report.stuck, report.remaining, bool(jnp.allclose(w, 2.0, atol=0.02))
        ((3,), (), True)
    """
    final0 = _final(losses, 1)
    first, threshold = find_stuck(losses, tolerance=tolerance, mad_factor=mad_factor)
    losses = jnp.asarray(losses)
    bad, replaced, rounds = first, set(), 0
    key = as_key(seed, "seed")
    while len(bad) and rounds < max_rounds:
        rounds += 1
        new_params, new_losses = ensemble_map(
            log_joint,
            init_fn,
            ensemble_size=len(bad),
            num_epochs=num_epochs,
            data=data,
            seed=jax.random.fold_in(key, rounds),
            **ensemble_kwargs,
        )
        if new_losses.shape[1] != losses.shape[1]:
            raise ValueError(
                f"`num_epochs` {num_epochs} differs from the epochs in `losses` "
                f"({losses.shape[1]}); re-draw with the same budget"
            )
        idx = jnp.asarray(bad)
        params = jax.tree.map(
            lambda old, new, idx=idx: old.at[idx].set(new) if eqx.is_array(old) else old,
            params,
            new_params,
        )
        losses = losses.at[idx].set(new_losses)
        replaced.update(int(i) for i in bad)
        # judge re-drawn members against the original threshold so that the bar stays fixed
        final = _final(losses, 1)
        bad = np.flatnonzero(~np.isfinite(final) | (final > threshold))
    remaining = tuple(int(i) for i in bad)
    message = (
        "no member was stuck"
        if not len(first)
        else (
            f"{len(first)} of {len(final0)} members were stuck above loss {threshold:.4g} "
            f"(median {np.median(final0):.4g}); re-drew {len(replaced)} in {rounds} round(s)"
            + (f", {len(remaining)} still stuck" if remaining else "")
        )
    )
    return (
        params,
        losses,
        StuckReport(
            stuck=tuple(int(i) for i in first),
            replaced=tuple(sorted(replaced)),
            remaining=remaining,
            final_losses=_final(losses, 1),
            threshold=threshold if math.isfinite(threshold) else float("nan"),
            rounds=rounds,
            message=message,
        ),
    )
