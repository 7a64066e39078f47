"""Calibration metrics against closed forms."""

import math

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import pytest
import xarray as xr
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
    score_xarray,
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
    one = crps_ensemble(jnp.array([[2.5]]), jnp.array([1.0]), estimator="energy")
    assert float(one) == pytest.approx(1.5)
    # two members x1 < x2 and y between: (|x1-y| + |x2-y|)/2 - |x1-x2|/4
    s = jnp.array([[0.0, -1.0], [2.0, 3.0]])
    y = jnp.array([0.5, 4.0])
    expected = np.mean([(0.5 + 1.5) / 2 - 2 / 4, (5 + 1) / 2 - 4 / 4])
    assert float(crps_ensemble(s, y, estimator="energy")) == pytest.approx(expected, rel=1e-12)
    # against the brute-force pairwise sum for a random ensemble
    r = jax.random.normal(jax.random.key(2), (7, 5))
    t = jax.random.normal(jax.random.key(3), (5,))
    brute = jnp.mean(
        jnp.mean(jnp.abs(r - t), 0) - 0.5 * jnp.mean(jnp.abs(r[:, None] - r[None]), (0, 1))
    )
    assert float(crps_ensemble(r, t, estimator="energy")) == pytest.approx(float(brute), rel=1e-12)
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
    per_point = jax.vmap(
        lambda col, yy: crps_ensemble(col[:, None], yy[None], estimator="energy"), in_axes=(1, 0)
    )(s, y)
    assert_close(per_point, [0.5, 2.0], rtol=1e-12, atol=1e-12)
    assert bool(jnp.all(jnp.isfinite(jax.grad(lambda a: crps_ensemble(a, y))(s))))


@pytest.mark.x64
def test_fair_crps_equals_scoringrules():
    """The fair estimator against scoringrules' on random ensembles of 2 to 33 members,
    to 1e-6 relative (both are float64 sums of the same O(E^2) terms, reordered)."""
    sr = pytest.importorskip("scoringrules")
    rng = np.random.default_rng(0)
    for e in (2, 3, 8, 33):
        fct = rng.normal(0.3, 1.7, size=(e, 50))
        obs = rng.normal(size=50)
        ours = jax.vmap(lambda col, yy: crps_ensemble(col[:, None], yy[None]), in_axes=(1, 0))(
            jnp.asarray(fct), jnp.asarray(obs)
        )
        ref = sr.crps_ensemble(obs, fct, m_axis=0, estimator="fair", backend="numpy")
        np.testing.assert_allclose(np.asarray(ours), ref, rtol=1e-6, atol=1e-12)
        energy = sr.crps_ensemble(obs, fct, m_axis=0, estimator="nrg", backend="numpy")
        assert float(crps_ensemble(fct, obs, estimator="energy")) == pytest.approx(
            float(np.mean(energy)), rel=1e-6
        )
        assert float(crps_ensemble(fct, obs)) == pytest.approx(float(np.mean(ref)), rel=1e-6)


def test_fair_crps_is_unbiased_for_small_ensembles():
    # members and truth from N(0, 1): the CRPS of N(0, 1) at y averages E|X - Y| - E|X - X'|/2
    # = 2/sqrt(pi) - 1/sqrt(pi) = 1/sqrt(pi); with E = 3 the fair mean is within its
    # Monte-Carlo error (~0.006 over 20000 points) and the energy mean is 1/(2E) E|X-X'|
    # = 1/(3 sqrt(pi)) ~ 0.19 above it
    s = jax.random.normal(jax.random.key(0), (3, 20000))
    y = jax.random.normal(jax.random.key(1), (20000,))
    expected = 1 / math.sqrt(math.pi)
    assert abs(float(crps_ensemble(s, y)) - expected) < 0.03
    bias = float(crps_ensemble(s, y, estimator="energy")) - expected
    assert abs(bias - 1 / (3 * math.sqrt(math.pi))) < 0.03


def test_metric_errors():
    with pytest.raises(ValueError, match="at least 2 members"):
        crps_ensemble(jnp.zeros((1, 3)), jnp.zeros(3))
    with pytest.raises(ValueError, match="`estimator`"):
        crps_ensemble(jnp.zeros((2, 3)), jnp.zeros(3), estimator="pwm")
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


def _forecast(rng, n, members):
    """A calibrated Gaussian ensemble forecast on a (lat, lon) grid, and a truth from it."""
    shape = (n, 2 * n)
    mu = rng.normal(size=shape)
    sd = rng.uniform(0.5, 2.0, size=shape)
    draws = mu + sd * rng.normal(size=(members,) + shape)
    truth = mu + sd * rng.normal(size=shape)
    dims = ("lat", "lon")
    forecast = xr.Dataset(
        {
            "t": (dims, draws.mean(0)),
            "t_std": (dims, draws.std(0, ddof=1)),
            "t_member": (("member",) + dims, draws),
            "g": (dims, mu),
            "g_std": (dims, sd),
        }
    )
    truths = xr.Dataset({"t": (dims, truth), "g": (dims, truth.copy())})
    return forecast, truths, draws, mu, sd


@pytest.mark.x64
def test_score_xarray_matches_the_array_scores():
    rng = np.random.default_rng(1)
    forecast, truth, draws, mu, sd = _forecast(rng, 30, 200)
    where = np.zeros((30, 60), dtype=bool)
    where[5:25, 10:50] = True
    where[7, 12] = False
    truth["t"][3, 3] = np.nan  # outside `where` anyway; a NaN inside is dropped below
    truth["g"][6, 11] = np.nan
    s = score_xarray(forecast, truth, where=xr.DataArray(where, dims=("lat", "lon")))
    y = truth["t"].values
    keep = where & np.isfinite(y)
    assert int(s["cells"].sel(variable="t")) == keep.sum()
    assert float(s["crps"].sel(variable="t")) == pytest.approx(
        float(crps_ensemble(draws[:, keep], y[keep])), rel=1e-12
    )
    m, d = draws.mean(0)[keep], draws.std(0, ddof=1)[keep]
    assert float(s["nll"].sel(variable="t")) == pytest.approx(
        float(gaussian_nll(m, d, y[keep])), rel=1e-12
    )
    assert float(s["rmse"].sel(variable="t")) == pytest.approx(
        float(np.sqrt(np.mean((m - y[keep]) ** 2))), rel=1e-12
    )
    # the Gaussian forecast (no members) uses the closed-form CRPS; 1500 cells of a
    # calibrated forecast cover at 0.9 within ~3 binomial sds (0.011 each over 800 cells)
    keep_g = where & np.isfinite(truth["g"].values)
    assert int(s["cells"].sel(variable="g")) == keep_g.sum() == keep.sum() - 1
    assert float(s["crps"].sel(variable="g")) == pytest.approx(
        float(crps_gaussian(mu[keep_g], sd[keep_g], truth["g"].values[keep_g])), rel=1e-12
    )
    for v in ("t", "g"):
        assert abs(float(s["coverage"].sel(variable=v)) - 0.9) < 0.035
        assert float(abs(s["reliability"].sel(variable=v) - s["level"]).max()) < 0.06
    assert s.attrs["crps_estimator"] == "fair ensemble, gaussian"
    emp = score_xarray(forecast[["t", "t_std", "t_member"]], truth[["t"]], interval="empirical")
    ok = np.isfinite(y)
    assert emp["coverage"].item() == pytest.approx(float(coverage(draws[:, ok], y[ok])))


def test_score_xarray_errors():
    rng = np.random.default_rng(2)
    forecast, truth, *_ = _forecast(rng, 4, 5)
    with pytest.raises(ValueError, match="no variable 'u'"):
        score_xarray(forecast, xr.DataArray(np.zeros((4, 8)), dims=("lat", "lon"), name="u"))
    with pytest.raises(ValueError, match="named DataArray"):
        score_xarray(forecast, xr.DataArray(np.zeros((4, 8)), dims=("lat", "lon")))
    with pytest.raises(TypeError, match="`forecast`"):
        score_xarray(forecast["t"], truth)
    with pytest.raises(ValueError, match="selects no cell"):
        score_xarray(forecast, truth, where=np.zeros((4, 8), dtype=bool))
    with pytest.raises(ValueError, match="`where` must broadcast"):
        score_xarray(forecast, truth, where=np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="needs the members"):
        score_xarray(forecast, truth[["g"]], interval="empirical")
    with pytest.raises(ValueError, match="predict on the truth's grid"):
        score_xarray(forecast, truth.isel(lat=slice(0, 2)))
    with pytest.raises(ValueError, match="`level`"):
        score_xarray(forecast, truth, level=90)
