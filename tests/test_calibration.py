"""Calibration metrics against closed forms."""

import math

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import pytest
from helpers import assert_close
from scipy import stats

from fieldpde.bayes import (
    central_interval,
    coverage,
    crps_ensemble,
    crps_gaussian,
    gaussian_coverage,
    gaussian_nll,
    plot_reliability,
    reliability,
)

matplotlib.use("Agg")


def test_coverage_counts_points_inside_the_central_interval():
    # members 0..100: the 90% interval is [5, 95] exactly (linear quantiles)
    samples = jnp.tile(jnp.arange(101.0)[:, None], (1, 6))
    truth = jnp.array([4.0, 5.0, 50.0, 95.0, 95.5, -1.0])
    lo, hi = central_interval(samples, 0.9)
    assert_close(lo, np.full(6, 5.0), rtol=0, atol=1e-12)
    assert_close(hi, np.full(6, 95.0), rtol=0, atol=1e-12)
    assert float(coverage(samples, truth, 0.9)) == pytest.approx(3 / 6)


def test_calibrated_gaussian_ensemble_reaches_nominal_coverage():
    # members and truth are draws from the same N(0, 1) at every point: observed coverage
    # of the central interval is the nominal level up to sampling error (binomial sd ~ 0.008,
    # quantile error O(1/e))
    e, n = 400, 3000
    samples = jax.random.normal(jax.random.key(0), (e, n))
    truth = jax.random.normal(jax.random.key(1), (n,))
    levels, observed = reliability(samples, truth, [0.5, 0.8, 0.9, 0.95])
    assert_close(observed, levels, rtol=0, atol=0.03, what="reliability")
    # and Gaussian intervals around the true mean and std
    assert float(gaussian_coverage(0.0, 1.0, truth, 0.9)) == pytest.approx(0.9, abs=0.015)
    # a twice-too-narrow ensemble covers P(|Z| < 1.645 / 2) = 0.59 of the time
    narrow = float(coverage(0.5 * samples, truth, 0.9))
    assert narrow == pytest.approx(2 * stats.norm.cdf(1.6449 / 2) - 1, abs=0.03)


@pytest.mark.x64
def test_gaussian_nll_closed_form():
    mean, std, y = jnp.array([0.0, 1.0]), jnp.array([1.0, 2.0]), jnp.array([1.0, -1.0])
    expected = -stats.norm.logpdf(np.asarray(y), np.asarray(mean), np.asarray(std)).mean()
    assert float(gaussian_nll(mean, std, y)) == pytest.approx(expected, rel=1e-12)
    assert float(jax.jit(gaussian_nll)(mean, std, y)) == pytest.approx(expected, rel=1e-12)
    # d/dmu of the NLL of one point: -(y - mu) / sigma^2
    g = jax.grad(lambda m: gaussian_nll(m, 2.0, 1.0))(0.0)
    assert float(g) == pytest.approx(-0.25, rel=1e-12)
    with pytest.raises(ValueError, match="`std` must be > 0"):
        gaussian_nll(0.0, jnp.array([1.0, 0.0]), 0.0)
    with pytest.raises(ValueError, match="must broadcast"):
        gaussian_nll(jnp.zeros(3), 1.0, jnp.zeros(4))


@pytest.mark.x64
def test_crps_closed_forms():
    # one member: CRPS = |x - y|
    assert float(crps_ensemble(jnp.array([[2.5]]), jnp.array([1.0]))) == pytest.approx(1.5)
    # two members x1 < x2 and y between: (|x1-y| + |x2-y|)/2 - |x1-x2|/4
    s = jnp.array([[0.0, -1.0], [2.0, 3.0]])
    y = jnp.array([0.5, 4.0])
    expected = np.mean([(0.5 + 1.5) / 2 - 2 / 4, (5 + 1) / 2 - 4 / 4])
    assert float(crps_ensemble(s, y)) == pytest.approx(expected, rel=1e-12)
    # against the brute-force pairwise sum for a random ensemble
    r = jax.random.normal(jax.random.key(2), (7, 5))
    t = jax.random.normal(jax.random.key(3), (5,))
    brute = jnp.mean(
        jnp.mean(jnp.abs(r - t), 0) - 0.5 * jnp.mean(jnp.abs(r[:, None] - r[None]), (0, 1))
    )
    assert float(crps_ensemble(r, t)) == pytest.approx(float(brute), rel=1e-12)
    # a large Gaussian ensemble approaches the Gaussian closed form; at y = mu it is
    # sigma (sqrt 2 - 1) / sqrt(pi)
    assert float(crps_gaussian(0.0, 2.0, 0.0)) == pytest.approx(
        2 * (math.sqrt(2) - 1) / math.sqrt(math.pi), rel=1e-12
    )
    big = 1.0 + 2.0 * jax.random.normal(jax.random.key(4), (20000, 3))
    y3 = jnp.array([1.0, 2.0, -3.0])
    assert float(crps_ensemble(big, y3)) == pytest.approx(
        float(crps_gaussian(1.0, 2.0, y3)), rel=0.02
    )
    # vmap and grad go through
    per_point = jax.vmap(lambda col, yy: crps_ensemble(col[:, None], yy[None]), in_axes=(1, 0))(
        s, y
    )
    assert_close(per_point, [0.5, 2.0], rtol=1e-12, atol=1e-12)
    assert bool(jnp.all(jnp.isfinite(jax.grad(lambda a: crps_ensemble(a, y))(s))))


def test_metric_errors():
    with pytest.raises(ValueError, match=r"`samples` must have shape \(e, \*truth.shape\)"):
        coverage(jnp.zeros((4, 3)), jnp.zeros(2))
    with pytest.raises(ValueError, match="`samples` must have shape"):
        crps_ensemble(jnp.zeros((4, 3)), jnp.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"`level` must be in \(0, 1\)"):
        coverage(jnp.zeros((4, 3)), jnp.zeros(3), 1.5)
    with pytest.raises(ValueError, match="`level`"):
        reliability(jnp.zeros((4, 3)), jnp.zeros(3), [0.5, 0.0])


def test_plot_reliability(tmp_path):
    samples = jax.random.normal(jax.random.key(0), (50, 200))
    truth = jax.random.normal(jax.random.key(1), (200,))
    ax = plot_reliability(samples, truth, label="test")
    assert ax.get_xlabel() == "nominal coverage"
    assert len(ax.lines) == 2 and len(ax.lines[1].get_xdata()) == 19
    ax.figure.savefig(tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 5000
