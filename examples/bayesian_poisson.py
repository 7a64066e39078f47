"""A physics-informed ensemble: 1-D Poisson with sparse noisy data and no boundary data.

u'' = -π² sin(πx) on [0, 1], exact u = sin(πx) + x/2. No boundary conditions are given:
the PDE fixes u up to a line a + bx, and 8 noisy observations (σ = 0.05) on [0.05, 0.4]
pin that line near them only. So the posterior band must be tight at the data and widen
linearly towards x = 1, exactly as the Bayesian linear regression of (a, b) predicts:
sd(x) = sqrt([1, x] Σ [1, x]ᵀ), Σ = σ²(AᵀA)⁻¹. 16 randomised-MAP members of a
BayesianSIREN (1, 32, 1), depth 3, omega 3, trained by `fieldpde.bayes.ensemble_fit`.

    python examples/bayesian_poisson.py [--steps 3000] [--members 16] [--out out]
"""

import argparse
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fieldpde.bayes import coverage, ensemble_fit, find_stuck, log_prior_fn, prior_init_fn  # noqa: E402
from fieldpde.constraints import Observations, Residual  # noqa: E402
from fieldpde.domains import Interval  # noqa: E402
from fieldpde.nn import BayesianSIREN  # noqa: E402
from fieldpde.problem import Problem  # noqa: E402

SIGMA = 0.05


def exact(x):
    return jnp.sin(jnp.pi * x[..., 0]) + 0.5 * x[..., 0]


def poisson_experiment(steps: int = 3000, ensemble_size: int = 16, seed: int = 0) -> dict:
    domain = Interval(0.0, 1.0)
    x_obs = jnp.linspace(0.05, 0.4, 8)[:, None]
    y_obs = exact(x_obs) + SIGMA * jax.random.normal(jax.random.key(5), (8,))
    problem = Problem(
        {
            "pde": Residual(
                lambda x, d: d.laplacian + jnp.pi**2 * jnp.sin(jnp.pi * x[0]),
                domain,
                num_points=128,
            ),
            "data": Observations(x_obs, y_obs, noise_scale=SIGMA),
        },
        exact=exact,
    )
    model = BayesianSIREN.init(1, 32, 1, depth=3, first_omega=3.0, hidden_omega=3.0, pyrox_name="u")
    t0 = time.perf_counter()
    ens = ensemble_fit(
        problem,
        prior_init_fn(model),
        ensemble_size=ensemble_size,
        steps=steps,
        seed=seed,
        residual_scale=0.01,
        log_prior=log_prior_fn(model),
        learning_rate=3e-3,
    )
    seconds = time.perf_counter() - t0
    stuck, _ = find_stuck(ens.losses)
    keep = np.setdiff1d(np.arange(ensemble_size), stuck)
    x_test = jnp.linspace(0.0, 1.0, 101)[:, None]
    preds = ens.predict(x_test)[keep, :, 0]
    truth = exact(x_test)
    # the exact posterior of the free line a + bx given the data (flat prior)
    A = np.stack([np.ones(8), np.asarray(x_obs[:, 0])], 1)
    cov = SIGMA**2 * np.linalg.inv(A.T @ A)
    B = np.stack([np.ones(101), np.asarray(x_test[:, 0])], 1)
    exact_sd = np.sqrt(np.einsum("ij,jk,ik->i", B, cov, B))
    return {
        "coverage90": float(coverage(preds, truth, 0.9)),
        "std": np.asarray(preds.std(0)),
        "exact_sd": exact_sd,
        "stuck": stuck,
        "seconds": seconds,
        "x_test": x_test,
        "preds": preds,
        "truth": truth,
        "x_obs": x_obs,
        "y_obs": y_obs,
    }


def main(steps: int = 3000, ensemble_size: int = 16, out: str = "out") -> dict:
    r = poisson_experiment(steps, ensemble_size)
    print(f"{ensemble_size} members x {steps} steps in {r['seconds']:.1f} s")
    print(f"stuck members dropped: {r['stuck'].tolist()}")
    for i in (0, 20, 50, 100):
        print(
            f"x = {i / 100:.1f}: ensemble std {r['std'][i]:.3f}, exact posterior sd "
            f"{r['exact_sd'][i]:.3f}"
        )
    print(f"90% intervals cover the exact solution on {r['coverage90']:.0%} of the grid")

    xt, preds = r["x_test"][:, 0], r["preds"]
    lo, hi = jnp.quantile(preds, 0.05, axis=0), jnp.quantile(preds, 0.95, axis=0)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4))
    axes[0].plot(xt, r["truth"], "k--", label="exact")
    axes[0].plot(xt, preds.mean(0), color="C0", label="ensemble mean")
    axes[0].fill_between(xt, lo, hi, color="C0", alpha=0.25, label="90% interval")
    axes[0].scatter(r["x_obs"][:, 0], r["y_obs"], c="C1", edgecolors="k", zorder=5, label="data")
    axes[0].set(xlabel="x", ylabel="u", title="Poisson, no boundary data: posterior band")
    axes[0].legend()
    axes[1].plot(xt, r["std"], label="ensemble std")
    axes[1].plot(xt, r["exact_sd"], "k--", label="exact posterior sd")
    axes[1].set(xlabel="x", ylabel="sd", title="Band width vs the exact posterior")
    axes[1].legend()
    fig.tight_layout()
    path = Path(out) / "bayesian_poisson.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"figure: {path}")
    return {"coverage90": r["coverage90"]}


if __name__ == "__main__":
    jax.config.update("jax_enable_x64", True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--members", type=int, default=16)
    parser.add_argument("--out", default="out")
    args = parser.parse_args()
    main(args.steps, args.members, args.out)
