"""A Helmholtz inverse problem: recover the wavenumber k with an interval.

u'' + k² u = 0 on [0, 1] with true k = 4 and u = sin(kx); 12 noisy observations
(σ = 0.02) of u, no boundary data. 16 randomised-MAP members of a BayesianSIREN
(1, 32, 1), depth 3, omega 3, each with its own k drawn from the prior LogNormal(log 3, 0.3),
learn the field and k together with `fieldpde.bayes.ensemble_fit`; the spread of the
members' k is its posterior uncertainty.

    python examples/helmholtz_inverse.py [--steps 3000] [--members 16] [--out out]
"""

import argparse
import math
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import numpyro.distributions as dist

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fieldpde.bayes import ensemble_fit, find_stuck, log_prior_fn, prior_init_fn  # noqa: E402
from fieldpde.constraints import Observations, Residual  # noqa: E402
from fieldpde.domains import Interval  # noqa: E402
from fieldpde.nn import BayesianSIREN  # noqa: E402
from fieldpde.problem import Problem  # noqa: E402

K_TRUE, SIGMA = 4.0, 0.02


def helmholtz_experiment(steps: int = 3000, ensemble_size: int = 16, seed: int = 0) -> dict:
    domain = Interval(0.0, 1.0)
    x_obs = jnp.linspace(0.04, 0.96, 12)[:, None]
    y_obs = jnp.sin(K_TRUE * x_obs[:, 0]) + SIGMA * jax.random.normal(jax.random.key(11), (12,))
    problem = Problem(
        {
            "pde": Residual(
                lambda x, d, p: d.laplacian + p["k"] ** 2 * d.value, domain, num_points=128
            ),
            "data": Observations(x_obs, y_obs, noise_scale=SIGMA),
        },
        params={"k": 3.0},
        exact=lambda x: jnp.sin(K_TRUE * x[..., :1]),
    )
    model = BayesianSIREN.init(1, 32, 1, depth=3, first_omega=3.0, hidden_omega=3.0, pyrox_name="u")
    t0 = time.perf_counter()
    ens = ensemble_fit(
        problem,
        prior_init_fn(model),
        ensemble_size=ensemble_size,
        steps=steps,
        seed=seed,
        residual_scale=0.05,
        log_prior=log_prior_fn(model),
        param_prior={"k": dist.LogNormal(math.log(3.0), 0.3)},
        learning_rate=3e-3,
    )
    seconds = time.perf_counter() - t0
    stuck, _ = find_stuck(ens.losses)
    keep = np.setdiff1d(np.arange(ensemble_size), stuck)
    k = np.asarray(ens.params["k"])[keep]
    lo, hi = np.quantile(k, [0.05, 0.95])
    return {
        "k": k,
        "k_mean": float(k.mean()),
        "k_std": float(k.std()),
        "k_interval": (float(lo), float(hi)),
        "covered": bool(lo <= K_TRUE <= hi),
        "stuck": stuck,
        "seconds": seconds,
        "ensemble": ens,
        "keep": keep,
        "x_obs": x_obs,
        "y_obs": y_obs,
    }


def main(steps: int = 3000, ensemble_size: int = 16, out: str = "out") -> dict:
    r = helmholtz_experiment(steps, ensemble_size)
    print(f"{ensemble_size} members x {steps} steps in {r['seconds']:.1f} s")
    print(f"stuck members dropped: {r['stuck'].tolist()}")
    lo, hi = r["k_interval"]
    print(
        f"k = {r['k_mean']:.3f} ± {r['k_std']:.3f}; 90% interval [{lo:.3f}, {hi:.3f}] "
        f"(true {K_TRUE}: {'inside' if r['covered'] else 'outside'})"
    )

    x = jnp.linspace(0.0, 1.0, 200)[:, None]
    preds = r["ensemble"].predict(x)[r["keep"], :, 0]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4))
    axes[0].plot(x[:, 0], jnp.sin(K_TRUE * x[:, 0]), "k--", label="exact")
    axes[0].plot(x[:, 0], preds.mean(0), color="C0", label="ensemble mean")
    axes[0].fill_between(
        x[:, 0],
        jnp.quantile(preds, 0.05, 0),
        jnp.quantile(preds, 0.95, 0),
        color="C0",
        alpha=0.25,
        label="90% interval",
    )
    axes[0].scatter(r["x_obs"][:, 0], r["y_obs"], c="C1", edgecolors="k", zorder=5, label="data")
    axes[0].set(xlabel="x", ylabel="u", title="Field")
    axes[0].legend()
    axes[1].hist(r["k"], bins=10, color="C0", alpha=0.7, label="members' k")
    axes[1].axvline(K_TRUE, color="k", ls="--", label="true k")
    axes[1].axvspan(lo, hi, color="C1", alpha=0.2, label="90% interval")
    axes[1].set(xlabel="k", title="Posterior of the wavenumber")
    axes[1].legend()
    fig.tight_layout()
    path = Path(out) / "helmholtz_inverse.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"figure: {path}")
    return {"k_mean": r["k_mean"], "k_std": r["k_std"], "covered": r["covered"]}


if __name__ == "__main__":
    jax.config.update("jax_enable_x64", True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--members", type=int, default=16)
    parser.add_argument("--out", default="out")
    args = parser.parse_args()
    main(args.steps, args.members, args.out)
