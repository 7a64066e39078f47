"""The SIREN notebook's ensemble of MAP fits, at its own seed, written as the notebook does.

BayesianSIREN (1 -> 16 -> 16 -> 1, omega 5, scope "siren") on sin(3πx) with 80 noisy
points and the gap (-0.2, 0.4) held out; 16 members, each initialised by tracing the model
under ``handlers.seed(rng_seed=key)`` and splicing the draw into a SIREN, trained for 4000
full-batch Adam steps at lr 5e-3 on the Gaussian likelihood (noise 0.05) plus the traced
log-prior, with ``seed=jax.random.PRNGKey(0)`` and float64. The notebook's own code runs here
with only its imports changed; it reports final member losses min/median/max
-398.6/-393.6/-387.1, a mean predictive std of 0.006 at the data and 0.256 in the gap
(43.7x). Unlike `bayesian_gap.py` nothing is re-drawn: this is the notebook's run. Here
(`ensemble_map` draws the reference library's member keys) the minimum and median are the
notebook's, -398.6 and -393.6. Its maximum is not: at lr 5e-3 Adam's loss spikes tens of
times per member and run, and here one member is mid-spike at the last step (-369.9, std
0.013 at the data, 19x). Which member is, if any, is decided by rounding:
`benchmarks/notebook_ensemble.py` reruns it from starts nudged by 1e-15 (`nudge=`).

    python examples/notebook_ensemble.py [--epochs 4000] [--members 16] [--out out]
"""

import argparse
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import matplotlib
import numpy as np
from numpyro import handlers

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fieldpde.bayes import ensemble_map, ensemble_predict  # noqa: E402
from fieldpde.nn import SIREN, BayesianSIREN  # noqa: E402

HIDDEN, DEPTH, OMEGA, PRIOR_STD = 16, 3, 5.0, 1.0
NOISE_VAR = 0.05**2
SCOPE = "siren"

bsiren = BayesianSIREN.init(
    1,
    HIDDEN,
    1,
    depth=DEPTH,
    first_omega=OMEGA,
    hidden_omega=OMEGA,
    prior_std=PRIOR_STD,
    pyrox_name=SCOPE,
)


def notebook_data():
    """The notebook's 80 points on [-1, 1], the gap removed, noise from PRNGKey(2)."""
    n_obs = 80
    key_noise = jr.PRNGKey(2)
    x_full = jnp.linspace(-1.0, 1.0, n_obs)
    mask = (x_full < -0.2) | (x_full > 0.4)
    x_obs = x_full[mask].reshape(-1, 1)
    y_obs = jnp.sin(3.0 * jnp.pi * x_obs[:, 0]) + 0.05 * jr.normal(key_noise, x_obs.shape[0:1])
    return x_obs, y_obs


def _splice_layers_from_trace(base: SIREN, tr: dict) -> SIREN:
    """Write traced ``layer_i.W`` and ``layer_i.b`` values into a SIREN."""
    new_layers = [
        eqx.tree_at(
            lambda l: (l.W, l.b),  # noqa: E741
            layer,
            (tr[f"{SCOPE}.layer_{i}.W"]["value"], tr[f"{SCOPE}.layer_{i}.b"]["value"]),
        )
        for i, layer in enumerate(base.layers)
    ]
    return eqx.tree_at(lambda s: s.layers, base, new_layers)


def init_fn(key: jax.Array) -> SIREN:
    """One ensemble member: SIREN whose weights come from a prior draw."""
    base = SIREN.init(1, HIDDEN, 1, depth=DEPTH, key=key, first_omega=OMEGA, hidden_omega=OMEGA)
    with handlers.trace() as tr, handlers.seed(rng_seed=key):
        bsiren(jnp.zeros((1, 1)))
    return _splice_layers_from_trace(base, tr)


def log_prior_via_trace(net: SIREN) -> jax.Array:
    """Sum of BayesianSIREN's per-site Normal log-densities at ``net``'s weights."""
    sub = {f"{SCOPE}.layer_{i}.W": layer.W for i, layer in enumerate(net.layers)}
    sub.update({f"{SCOPE}.layer_{i}.b": layer.b for i, layer in enumerate(net.layers)})
    with (
        handlers.trace() as tr,
        handlers.substitute(data=sub),
        handlers.seed(rng_seed=0),
    ):
        bsiren(jnp.zeros((1, 1)))
    lp = jnp.array(0.0)
    for site in tr.values():
        if site["type"] == "sample" and not site.get("is_observed", False):
            lp = lp + site["fn"].log_prob(site["value"]).sum()
    return lp


def log_joint(net: SIREN, xb: jax.Array, yb: jax.Array):
    """Gaussian likelihood at fixed ``NOISE_VAR``, prior from BayesianSIREN."""
    f = net(xb)[..., 0]
    ll = -0.5 * jnp.sum((yb - f) ** 2) / NOISE_VAR
    return ll, log_prior_via_trace(net)


def nudged_init_fn(nudge: int):
    """`init_fn` with every initial weight scaled by ``1 + 1e-15 * N(0, 1)`` (key `nudge`).

    A change of the order of float64's rounding (a few to a few tens of units in each
    weight's last place): it shows which results are decided by rounding alone.
    """

    def init(key: jax.Array) -> SIREN:
        net = init_fn(key)
        leaves, treedef = jax.tree.flatten(eqx.filter(net, eqx.is_inexact_array))
        keys = jr.split(jr.fold_in(key, nudge), len(leaves))
        scaled = [
            w * (1 + 1e-15 * jr.normal(k, w.shape, w.dtype))
            for w, k in zip(leaves, keys, strict=True)
        ]
        return eqx.combine(jax.tree.unflatten(treedef, scaled), net)

    return init


def run(num_epochs: int = 4000, ensemble_size: int = 16, nudge: int = 0) -> dict:
    """The notebook's ensemble; its summary numbers and the arrays to plot.

    ``nudge > 0`` starts from `nudged_init_fn` (``nudge = 0``: the notebook's own start).
    """
    x_obs, y_obs = notebook_data()
    t0 = time.perf_counter()
    params, losses = ensemble_map(
        log_joint,
        init_fn if nudge == 0 else nudged_init_fn(nudge),
        ensemble_size=ensemble_size,
        num_epochs=num_epochs,
        data=(x_obs, y_obs),
        seed=jr.PRNGKey(0),
        learning_rate=5e-3,
        prior_weight=1.0,
    )
    losses.block_until_ready()
    seconds = time.perf_counter() - t0
    x_test = jnp.linspace(-1.2, 1.2, 400).reshape(-1, 1)
    preds = ensemble_predict(params, lambda net, xs: net(xs)[..., 0], x_test)
    std = jnp.std(preds, axis=0)
    trained = ((x_test[:, 0] > -0.5) & (x_test[:, 0] < -0.3)) | (
        (x_test[:, 0] > 0.5) & (x_test[:, 0] < 0.7)
    )
    gap_region = (x_test[:, 0] > -0.2) & (x_test[:, 0] < 0.4)
    final = np.asarray(losses[:, -1])
    return {
        "loss_min": float(final.min()),
        "loss_median": float(np.median(final)),
        "loss_max": float(final.max()),
        "std_data": float(jnp.mean(std[trained])),
        "std_gap": float(jnp.mean(std[gap_region])),
        "ratio": float(jnp.mean(std[gap_region]) / jnp.mean(std[trained])),
        "seconds": seconds,
        "losses": np.asarray(losses),
        "x_test": x_test,
        "preds": preds,
        "x_obs": x_obs,
        "y_obs": y_obs,
    }


def main(num_epochs: int = 4000, ensemble_size: int = 16, out: str = "out") -> dict:
    with jax.enable_x64(True):
        r = run(num_epochs, ensemble_size)
    print(f"{ensemble_size} members x {num_epochs} epochs in {r['seconds']:.1f} s")
    print(
        f"ensemble losses (final): min={r['loss_min']:.1f} median={r['loss_median']:.1f} "
        f"max={r['loss_max']:.1f}   (notebook: -398.6 / -393.6 / -387.1)"
    )
    print(f"mean predictive std at the data : {r['std_data']:.3f}   (notebook: 0.006)")
    print(f"mean predictive std in the gap  : {r['std_gap']:.3f}   (notebook: 0.256)")
    print(f"gap / data std ratio            : {r['ratio']:.1f}x   (notebook: 43.7x)")

    xt, preds = np.asarray(r["x_test"][:, 0]), np.asarray(r["preds"])
    mean, std = preds.mean(0), preds.std(0)
    fig, ax = plt.subplots(figsize=(12, 5))
    ax.plot(xt, np.sin(3.0 * np.pi * xt), "k--", label="truth")
    for member in preds[:8]:
        ax.plot(xt, member, color="C0", alpha=0.15, linewidth=1.0)
    ax.plot(xt, mean, color="C0", linewidth=2.0, label="ensemble mean")
    ax.fill_between(xt, mean - 2 * std, mean + 2 * std, color="C0", alpha=0.2, label="±2σ")
    ax.scatter(
        r["x_obs"][:, 0],
        r["y_obs"],
        c="C1",
        edgecolors="k",
        lw=0.5,
        zorder=5,
        label="observations",
    )
    ax.axvspan(-0.2, 0.4, color="0.85", alpha=0.4, label="held-out gap")
    ax.set(xlabel="x", ylabel="y", title=f"BayesianSIREN, ensemble of MAP, {ensemble_size} members")
    ax.legend(loc="upper right")
    fig.tight_layout()
    path = Path(out) / "notebook_ensemble.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"figure: {path}")
    return {
        k: r[k] for k in ("loss_min", "loss_median", "loss_max", "std_data", "std_gap", "ratio")
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4000)
    parser.add_argument("--members", type=int, default=16)
    parser.add_argument("--out", default="out")
    args = parser.parse_args()
    main(args.epochs, args.members, args.out)
