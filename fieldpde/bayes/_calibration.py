r"""Calibration: do the stated intervals cover the truth, and how sharp are they?

For an ensemble $\{x_e\}_{e=1}^E$ predicting a truth $y$:

- central-interval coverage at level $\alpha$: the fraction of points where $y$ lies
  between the $(1-\alpha)/2$ and $(1+\alpha)/2$ quantiles of the members;
- Gaussian negative log-likelihood of $y$ under $\mathcal{N}(\mu, \sigma^2)$:
  $\tfrac12\log(2\pi\sigma^2) + (y-\mu)^2/(2\sigma^2)$;
- the continuous ranked probability score, $\mathrm{CRPS}(F, y) = \mathbb E|X - y| -
  \tfrac12\mathbb E|X - X'|$ (lower is better), estimated from the members by the *fair*
  estimator $\frac1E\sum_e |x_e - y| - \frac1{2E(E-1)}\sum_{e,e'}|x_e - x_{e'}|$
  (Ferro 2014): its expectation is the CRPS of the distribution the members are drawn
  from, whatever $E$. The energy form with $1/(2E^2)$ is the CRPS of the members'
  empirical distribution, larger on average by $\tfrac1{2E}\mathbb E|X-X'|$, which
  penalises small ensembles. For a Gaussian
  $\mathrm{CRPS}(\mathcal{N}(\mu,\sigma^2), y) = \sigma\,[z(2\Phi(z)-1) + 2\varphi(z) -
  1/\sqrt\pi]$, $z = (y-\mu)/\sigma$ (Gneiting & Raftery 2007).
"""

import math
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


def _level(level: float) -> float:
    if isinstance(level, bool) or not 0.0 < float(level) < 1.0:
        raise ValueError(f"`level` must be in (0, 1), e.g. 0.9, got {level!r}")
    return float(level)


def _ensemble_truth(samples: Any, truth: Any) -> tuple[Array, Array]:
    samples, truth = jnp.asarray(samples), jnp.asarray(truth)
    if samples.ndim < 1 or samples.shape[1:] != truth.shape:
        raise ValueError(
            f"`samples` must have shape (e, *truth.shape) = (e, {', '.join(map(str, truth.shape))})"
            f", got samples {samples.shape} and truth {truth.shape}"
        )
    return samples, truth


def central_interval(
    samples: Float[Array, "e ..."], level: float = 0.9
) -> tuple[Float[Array, "..."], Float[Array, "..."]]:
    """Lower and upper ends of the central `level` interval of the members (axis 0).

    Args:
        samples: member predictions, shape ``(e, ...)``.
        level: nominal coverage in (0, 1).

    Returns:
        ``(lower, upper)``, the $(1-\\alpha)/2$ and $(1+\\alpha)/2$ quantiles over the
        members, each of shape ``(...)``.

    Example:
        >>> import jax.numpy as jnp
        >>> central_interval(jnp.arange(101.0)[:, None], 0.9)
        (Array([5.], dtype=float...), Array([95.], dtype=float...))
    """
    level = _level(level)
    samples = jnp.asarray(samples)
    q = jnp.asarray([(1.0 - level) / 2.0, (1.0 + level) / 2.0], dtype=samples.dtype)
    lo, hi = jnp.quantile(samples, q, axis=0)
    return lo, hi


def coverage(samples: Float[Array, "e ..."], truth: Float[Array, "..."], level: float = 0.9):
    """Fraction of points whose truth lies in the members' central `level` interval.

    Args:
        samples: member predictions, shape ``(e, ...)``.
        truth: shape ``(...)``.
        level: nominal coverage in (0, 1).

    Returns:
        The fraction of covered points, a scalar in [0, 1].

    Example:
        >>> import jax, jax.numpy as jnp
        >>> s = jax.random.normal(jax.random.key(0), (4000, 1000))
        >>> y = jax.random.normal(jax.random.key(1), (1000,))
        >>> abs(float(coverage(s, y, 0.9)) - 0.9) < 0.03
        True
    """
    samples, truth = _ensemble_truth(samples, truth)
    lo, hi = central_interval(samples, level)
    return jnp.mean((truth >= lo) & (truth <= hi))


def gaussian_coverage(mean: Any, std: Any, truth: Any, level: float = 0.9):
    r"""Fraction of points with $|y - \mu| \le z_{(1+\alpha)/2}\,\sigma$ (Gaussian interval).

    Args:
        mean: predicted means $\mu$.
        std: predicted standard deviations $\sigma$ (broadcast with `mean` and `truth`).
        truth: the true values $y$.
        level: nominal coverage $\alpha$ in (0, 1).

    Returns:
        The fraction of covered points, a scalar in [0, 1].

    Example:
        >>> import jax.numpy as jnp
        >>> # z_0.95 = 1.645: 1.0 and -1.5 are inside the 90% interval, 2.0 is not
        >>> float(gaussian_coverage(0.0, 1.0, jnp.array([1.0, -1.5, 2.0]), 0.9))
        0.666...
    """
    level = _level(level)
    z = jax.scipy.special.ndtri((1.0 + level) / 2.0)
    mean, std, truth = jnp.broadcast_arrays(*map(jnp.asarray, (mean, std, truth)))
    return jnp.mean(jnp.abs(truth - mean) <= z * std)


def gaussian_nll(mean: Any, std: Any, truth: Any):
    r"""Mean Gaussian negative log-likelihood $\tfrac12\log 2\pi\sigma^2 + (y-\mu)^2/2\sigma^2$.

    Args:
        mean: predicted means $\mu$.
        std: predicted standard deviations $\sigma > 0$ (broadcast with `mean` and `truth`).
        truth: the true values $y$.

    Returns:
        The negative log-likelihood averaged over points, a scalar (lower is better).

    Raises:
        ValueError: shapes that do not broadcast, or a non-positive `std` (checked when
            the values are concrete).

    Example:
        >>> import math
        >>> abs(float(gaussian_nll(0.0, 1.0, 0.0)) - 0.5 * math.log(2 * math.pi)) < 1e-6
        True
    """
    mean, std, truth = map(jnp.asarray, (mean, std, truth))
    try:
        jnp.broadcast_shapes(mean.shape, std.shape, truth.shape)
    except ValueError as err:
        raise ValueError(
            f"`mean`, `std` and `truth` must broadcast, got {mean.shape}, {std.shape}, "
            f"{truth.shape}"
        ) from err
    if not isinstance(std, jax.core.Tracer) and not bool(jnp.all(std > 0)):
        raise ValueError("`std` must be > 0 everywhere (a zero spread has no likelihood)")
    z = (truth - mean) / std
    return jnp.mean(0.5 * math.log(2.0 * math.pi) + jnp.log(std) + 0.5 * z**2)


def crps_ensemble(
    samples: Float[Array, "e ..."], truth: Float[Array, "..."], *, estimator: str = "fair"
):
    r"""Mean CRPS of an ensemble forecast, by the fair (default) or the energy estimator.

    With $E$ members $x_e$ and truth $y$ at each point,

    $$\mathrm{CRPS}_\text{fair} = \frac1E\sum_e|x_e-y| - \frac{1}{2E(E-1)}\sum_{e,e'}
    |x_e-x_{e'}|, \qquad \mathrm{CRPS}_\text{energy} = \frac1E\sum_e|x_e-y| -
    \frac{1}{2E^2}\sum_{e,e'}|x_e-x_{e'}|,$$

    averaged over points. The fair estimator is unbiased for the CRPS of the distribution
    the members are drawn from (it matches ``scoringrules.crps_ensemble(...,
    estimator="fair")``); the energy form is the CRPS of the members' empirical
    distribution, biased upwards by $\frac1{2E}\mathbb E|X-X'|$ for small $E$. The
    pairwise term is computed from the sorted members in $O(E\log E)$.

    Args:
        samples: member predictions, shape ``(e, ...)``.
        truth: the true values, shape ``(...)``.
        estimator: ``"fair"`` (default; needs at least two members) or ``"energy"``.

    Returns:
        The CRPS averaged over points, a scalar (lower is better).

    Raises:
        ValueError: shapes that do not match, an unknown `estimator`, or one member with
            ``estimator="fair"``.

    Example:
        >>> import jax.numpy as jnp
        >>> s, y = jnp.array([[0.0], [2.0]]), jnp.array([0.0])
        >>> float(crps_ensemble(s, y)), float(crps_ensemble(s, y, estimator="energy"))
        (0.0, 0.5)
    """
    samples, truth = _ensemble_truth(samples, truth)
    if estimator not in ("fair", "energy"):
        raise ValueError(f"`estimator` must be 'fair' or 'energy', got {estimator!r}")
    e = samples.shape[0]
    if estimator == "fair" and e < 2:
        raise ValueError(
            "`samples`: the fair CRPS needs at least 2 members, got 1 (use "
            "estimator='energy', which is the absolute error for one member)"
        )
    return jnp.mean(_crps_points(samples, truth, estimator))


def _crps_points(samples: Array, truth: Array, estimator: str) -> Array:
    """The CRPS at every point (no mean), for `crps_ensemble` and the xarray scores."""
    e = samples.shape[0]
    skill = jnp.mean(jnp.abs(samples - truth), axis=0)
    # sum_{e,e'} |x_e - x_e'| = 2 sum_i (2i - E + 1) x_(i) over the sorted members
    ordered = jnp.sort(samples, axis=0)
    weights = (2.0 * jnp.arange(e) - e + 1.0).reshape((e,) + (1,) * (samples.ndim - 1))
    pairs = e * (e - 1) if estimator == "fair" else e**2
    spread = jnp.sum(weights * ordered, axis=0) / pairs
    return skill - spread


def crps_gaussian(mean: Any, std: Any, truth: Any):
    r"""Mean CRPS of $\mathcal{N}(\mu, \sigma^2)$ at $y$, in closed form.

    Args:
        mean: predicted means $\mu$.
        std: predicted standard deviations $\sigma > 0$ (broadcast with `mean` and `truth`).
        truth: the true values $y$.

    Returns:
        The CRPS averaged over points, a scalar (lower is better).

    Example:
        >>> import math
        >>> # at z = 0 the closed form is sigma * (2 phi(0) - 1 / sqrt(pi))
        >>> crps = float(crps_gaussian(0.0, 2.0, 0.0))
        >>> abs(crps - 2.0 * (2.0 / math.sqrt(2.0 * math.pi) - 1.0 / math.sqrt(math.pi))) < 1e-6
        True
    """
    mean, std, truth = map(jnp.asarray, (mean, std, truth))
    z = (truth - mean) / std
    pdf = jnp.exp(-0.5 * z**2) / math.sqrt(2.0 * math.pi)
    cdf = jax.scipy.special.ndtr(z)
    return jnp.mean(std * (z * (2.0 * cdf - 1.0) + 2.0 * pdf - 1.0 / math.sqrt(math.pi)))


def reliability(
    samples: Float[Array, "e ..."], truth: Float[Array, "..."], levels: Any = None
) -> tuple[Float[Array, " l"], Float[Array, " l"]]:
    """Observed coverage of the central interval at each nominal level.

    Args:
        samples, truth: as `coverage`.
        levels: nominal levels in (0, 1) (default 0.05, 0.10, ..., 0.95).

    Returns:
        ``(levels, observed)``; a calibrated ensemble has observed close to levels.

    Example:
        >>> import jax
        >>> s = jax.random.normal(jax.random.key(0), (2000, 500))
        >>> y = jax.random.normal(jax.random.key(1), (500,))
        >>> levels, observed = reliability(s, y, [0.5, 0.9])
        >>> bool(abs(observed - levels).max() < 0.06)
        True
    """
    levels = jnp.linspace(0.05, 0.95, 19) if levels is None else jnp.asarray(levels, dtype=float)
    for lv in levels.reshape(-1).tolist():
        _level(lv)
    samples, truth = _ensemble_truth(samples, truth)
    observed = jnp.stack([coverage(samples, truth, float(lv)) for lv in levels.tolist()])
    return levels, observed


def plot_reliability(samples: Any, truth: Any, levels: Any = None, *, ax: Any = None, label=None):
    """Plot observed against nominal coverage (the diagonal is perfect calibration).

    matplotlib is imported here, not with `fieldpde.bayes`.

    Args:
        samples, truth, levels: as for `reliability`.
        ax: matplotlib axes to draw on (default: a new figure).
        label: legend label of the ensemble's curve (default ``"ensemble"``).

    Returns:
        The matplotlib axes.

    Example:
        >>> import jax, matplotlib
        >>> matplotlib.use("Agg")
        >>> s = jax.random.normal(jax.random.key(0), (200, 100))
        >>> ax = plot_reliability(s, s[0], [0.5, 0.9], label="members")
        >>> [line.get_label() for line in ax.get_lines()]
        ['calibrated', 'members']
        >>> matplotlib.pyplot.close(ax.figure)
    """
    import matplotlib.pyplot as plt

    levels, observed = reliability(samples, truth, levels)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="calibrated")
    ax.plot(levels, observed, "o-", label=label or "ensemble")
    ax.set(xlabel="nominal coverage", ylabel="observed coverage", xlim=(0, 1), ylim=(0, 1))
    ax.set_title("Reliability of central intervals")
    ax.legend(loc="upper left")
    return ax
