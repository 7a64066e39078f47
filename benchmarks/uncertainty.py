"""Uncertainty benchmarks for `fieldpde.bayes` (issue 5); not run by pytest.

1. The sin(3πx) gap experiment (examples/bayesian_gap.py) over several ensemble seeds:
   median predictive std at the data (target <= 0.01), median gap/data std ratio (>= 30)
   and 95% interval coverage of the truth at the data points (>= 0.9), for the plain
   ensemble of MAP (the reference notebook's method) and for randomised MAP
   (``data_noise``), with stuck members re-drawn in both.
   ``--only calibration``: randomise-then-optimise (``data_noise`` and ``anchor``, 16
   members, prior std 2) over seeds 0-2: Gaussian 95% intervals must cover the truth at
   >= 0.9 of the data points and >= 0.8 of the gap points; NLL and fair CRPS.
2. The physics-informed Poisson example (examples/bayesian_poisson.py): 90% intervals must
   cover the exact solution on >= 85% of a 101-point grid; the Helmholtz inverse example's
   90% interval for k must contain the true k.
3. Speed: a 16-member vmapped `ensemble_map` against 16 sequential single-member fits of
   the same network, data and epochs, side by side in this process (compiled once each,
   then timed), target >= 3x.

    python benchmarks/uncertainty.py [--seeds 5] [--epochs 4000] [--speed-epochs 1000]
    python benchmarks/uncertainty.py --only speed
    python benchmarks/uncertainty.py --only calibration [--members 16] [--prior-std 2.0]
"""

import argparse
import importlib.util
import platform
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

jax.config.update("jax_enable_x64", True)

from fieldpde.bayes import ensemble_map, log_prior_fn, prior_init_fn  # noqa: E402
from fieldpde.nn import BayesianSIREN  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gap(seeds: int, epochs: int) -> list[tuple]:
    mod = _example("bayesian_gap")
    rows = []
    for randomize in (False, True):
        runs = []
        for seed in range(seeds):
            r = mod.gap_experiment(seed, num_epochs=epochs, randomize=randomize)
            runs.append(r)
            print(
                f"  gap {'randomised' if randomize else 'plain'} seed {seed}: std data "
                f"{r['std_data']:.4f}, ratio {r['ratio']:.1f}, cov95 {r['coverage95_data']:.2f}, "
                f"rmse of mean {r['rmse_mean_data']:.3f}; {r['stuck'].message} "
                f"({r['seconds']:.1f} s)",
                flush=True,
            )
        name = "randomised MAP" if randomize else "ensemble of MAP"
        med = {
            k: float(np.median([r[k] for r in runs]))
            for k in runs[0]
            if k in ("std_data", "ratio", "coverage95_data")
        }
        stuck = sum(len(r["stuck"].stuck) for r in runs)
        rows += [
            (
                f"gap, {name}",
                "median std at data",
                med["std_data"],
                "<= 0.01",
                med["std_data"] <= 0.01,
                f"{stuck} stuck members re-drawn over {seeds} seeds",
            ),
            (
                f"gap, {name}",
                "median gap/data std",
                med["ratio"],
                ">= 30",
                med["ratio"] >= 30,
                "reference: 43.7x (one seed)",
            ),
            (
                f"gap, {name}",
                "median 95% coverage at data",
                med["coverage95_data"],
                ">= 0.9",
                med["coverage95_data"] >= 0.9,
                "",
            ),
        ]
    return rows


def calibration(seeds: int, epochs: int, members: int, prior_std: float) -> list[tuple]:
    """Randomise-then-optimise on the gap experiment: each member fits its own noisy copy
    of the data (``data_noise``) under a prior re-centred on its own draw (``anchor``);
    Gaussian 95% intervals (mean +- 1.96 std over the members) at the 56 data points and
    at the gap's test points, with NLL and fair CRPS, for every seed."""
    mod = _example("bayesian_gap")
    rows = []
    for seed in range(seeds):
        r = mod.gap_experiment(
            seed,
            ensemble_size=members,
            num_epochs=epochs,
            randomize=True,
            anchor=True,
            prior_std=prior_std,
        )
        case = f"gap RTO, {members} members, seed {seed}"
        note = (
            f"prior_std {prior_std}; NLL data {r['nll_data']:.3f} gap {r['nll_gap']:.3f}; "
            f"CRPS data {r['crps_data']:.4f} gap {r['crps_gap']:.4f}; {r['seconds']:.0f} s"
        )
        print(f"  {case}: {note}", flush=True)
        rows += [
            (case, "Gaussian 95% coverage, data", r["gauss95_data"], ">= 0.9",
             r["gauss95_data"] >= 0.9, note),
            (case, "Gaussian 95% coverage, gap", r["gauss95_gap"], ">= 0.8",
             r["gauss95_gap"] >= 0.8, f"RMSE of the mean at the data {r['rmse_mean_data']:.4f}"),
        ]  # fmt: skip
    return rows


def physics(steps: int) -> list[tuple]:
    r = _example("bayesian_poisson").poisson_experiment(steps=steps)
    h = _example("helmholtz_inverse").helmholtz_experiment(steps=steps)
    lo, hi = h["k_interval"]
    max_ratio = float(np.max(r["std"] / r["exact_sd"]))
    min_ratio = float(np.min(r["std"] / r["exact_sd"]))
    return [
        (
            "Poisson, 16 members",
            "90% coverage of exact on grid",
            r["coverage90"],
            ">= 0.85",
            r["coverage90"] >= 0.85,
            f"std / exact posterior sd in [{min_ratio:.2f}, {max_ratio:.2f}]; {r['seconds']:.0f} s",
        ),
        (
            "Helmholtz inverse, 16 members",
            "k mean (true 4)",
            h["k_mean"],
            "90% interval holds 4",
            h["covered"],
            f"sd {h['k_std']:.3f}, interval [{lo:.3f}, {hi:.3f}]; {h['seconds']:.0f} s",
        ),
    ]


def speed(epochs: int, members: int = 16) -> list[tuple]:
    mod = _example("bayesian_gap")
    model = BayesianSIREN.init(
        1, 16, 1, depth=3, first_omega=5.0, hidden_omega=5.0, pyrox_name="siren"
    )
    x, y = mod.gap_data()
    log_prior = log_prior_fn(model)

    def log_joint(net, xb, yb):
        return -0.5 * jnp.sum((yb - net(xb)[..., 0]) ** 2) / mod.NOISE**2, log_prior(net)

    opt = optax.adam(5e-3)  # one object, so both paths compile once and reuse it
    init = prior_init_fn(model)

    def run(size, seed):
        params, losses = ensemble_map(
            log_joint,
            init,
            ensemble_size=size,
            num_epochs=epochs,
            data=(x, y),
            seed=seed,
            optimizer=opt,
        )
        return jax.block_until_ready((params, losses))

    run(members, 0)
    run(1, 0)  # compile both
    t0 = time.perf_counter()
    run(members, 1)
    t_vmap = time.perf_counter() - t0
    t0 = time.perf_counter()
    for s in range(members):
        run(1, 100 + s)
    t_seq = time.perf_counter() - t0
    ratio = t_seq / t_vmap

    # cold: each sequential fit built afresh (its own optimizer, hence its own compilation),
    # as a loop over independent fits runs; the vmapped ensemble likewise compiles once
    def cold(size, seed):
        params, losses = ensemble_map(
            log_joint,
            init,
            ensemble_size=size,
            num_epochs=epochs,
            data=(x, y),
            seed=seed,
            optimizer=optax.adam(5e-3),
        )
        return jax.block_until_ready((params, losses))

    t0 = time.perf_counter()
    cold(members, 2)
    c_vmap = time.perf_counter() - t0
    t0 = time.perf_counter()
    for s in range(members):
        cold(1, 200 + s)
    c_seq = time.perf_counter() - t0
    return [
        (
            f"speed, {members} x {epochs} epochs, warm",
            "sequential / vmapped time",
            ratio,
            ">= 3x",
            ratio >= 3,
            f"vmapped {t_vmap:.2f} s, sequential {t_seq:.2f} s (both compiled beforehand)",
        ),
        (
            f"speed, {members} x {epochs} epochs, cold",
            "sequential / vmapped time",
            c_seq / c_vmap,
            ">= 3x",
            c_seq / c_vmap >= 3,
            f"vmapped {c_vmap:.2f} s, sequential {c_seq:.2f} s (compilation included)",
        ),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=4000)
    parser.add_argument("--physics-steps", type=int, default=3000)
    parser.add_argument("--speed-epochs", type=int, default=1000)
    parser.add_argument("--only", choices=["gap", "physics", "speed", "calibration"], default=None)
    parser.add_argument("--members", type=int, default=16, help="calibration: members")
    parser.add_argument("--prior-std", type=float, default=2.0, help="calibration: prior std")
    args = parser.parse_args()
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, {platform.processor() or ''}")
    rows = []
    if args.only in (None, "speed"):
        rows += speed(args.speed_epochs)
    if args.only in (None, "physics"):
        rows += physics(args.physics_steps)
    if args.only in (None, "gap"):
        rows += gap(args.seeds, args.epochs)
    if args.only in (None, "calibration"):
        rows += calibration(min(args.seeds, 3), args.epochs, args.members, args.prior_std)
    print()
    print(f"| {'case':34s} | {'metric':30s} | {'value':>8s} | {'target':20s} | ok | note")
    print(f"|{'-' * 36}|{'-' * 32}|{'-' * 10}|{'-' * 22}|----|------")
    for case, metric, value, target, ok, note in rows:
        print(
            f"| {case:34s} | {metric:30s} | {value:8.4g} | {target:20s} | "
            f"{'yes' if ok else 'NO ':3s}| {note}"
        )


if __name__ == "__main__":
    main()
