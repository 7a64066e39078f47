r"""One surrogate for viscous Burgers over the viscosity: HyperSIREN vs FiLM-SIREN vs an MLP.

The family: $u_t + u u_x = \nu u_{xx}$ on $x \in [-1, 1]$, $t \in [0, 1]$,
$u(x, 0) = -\sin(\pi x)$, $u(\pm 1, t) = 0$, with $\nu$ log-uniform in
$[0.01/\pi, 0.1/\pi]$. A shock forms at $x = 0$ near $t = 1/\pi$ with a width of about
$2\nu/|u|$, so across the range the front goes from about eight cells of the 256-point grid
to under one, and its height decays at a rate set by $\nu$.

Data: snapshots from the diffrax method-of-lines reference (`fieldpde.reference.burgers`,
Fourier spectral, 512 modes; the Dirichlet problem equals the periodic one because the
solution is odd) at 9 log-spaced training viscosities, on a 256 x 101 grid in $(x, t)$.
Held out: the 8 geometric midpoints between them. 512 modes resolve the sharpest shock:
at $\nu = 0.01/\pi$ they differ from 1024 modes by 6e-5 relative L2 on the grid.

Three conditioned fields, trained on the same data with the same budget (3000 Adam steps
under one cosine one-cycle schedule, peak 3e-3, 512 random points per snapshot per step,
`fieldpde.train.fit_snapshots`), inputs $(x, 2t - 1)$ and $\mu$ = $\log\nu$ mapped to
$[-1, 1]$, 19-26k parameters each:

- HyperSIREN (Neural Implicit Flow): a tanh MLP $\mu \mapsto z \in [-1, 1]^8$ generates
  every weight of a 32-wide, depth-4 SIREN ($\omega = 10$) over $(x, t)$;
- FiLM-SIREN: a 96-wide, depth-4 SIREN whose hidden layers are modulated by
  `AffineModulation` of the same kind of latent $z$;
- MLP: a tanh MLP on $(x, t, \mu)$, 96 wide, depth 4 (`ConditionedINR` in input mode).

Reported: relative L2 error at the held-out $\nu$ on the full grid, and the time to answer
a new $\nu$ on that grid (the surrogate, compiled) against a diffrax solve of that $\nu$.
The reference solves are cached as ``.npz`` in ``$FIELDPDE_CACHE`` (default
``~/.cache/fieldpde``).

    python examples/burgers_family.py [--steps 3000] [--seed 0] [--out out] [--fast]
"""

import argparse
import hashlib
import os
import statistics
import time
from pathlib import Path
from typing import final

import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import optax

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fieldpde.nn import (  # noqa: E402
    MLP,
    SIREN,
    AffineModulation,
    ConditionedINR,
    HyperSIREN,
)
from fieldpde.train import fit_snapshots  # noqa: E402

NU_RANGE = (0.01 / np.pi, 0.1 / np.pi)

FULL = dict(
    n_train=9, modes=512, grid=256, times=101,
    steps=3000, batch=512, peak_lr=3e-3,
    hyper_width=32, film_width=96, mlp_width=96, latent=8, depth=4, omega=10.0,
)  # fmt: skip
FAST = dict(
    n_train=2, modes=64, grid=32, times=11,
    steps=30, batch=64, peak_lr=3e-3,
    hyper_width=8, film_width=8, mlp_width=8, latent=2, depth=3, omega=10.0,
)  # fmt: skip
MODELS = ("HyperSIREN", "FiLM-SIREN", "MLP")


def viscosities(n_train: int) -> tuple[np.ndarray, np.ndarray]:
    """`n_train` log-spaced training viscosities and the geometric midpoints between them."""
    log_nu = np.linspace(*np.log(NU_RANGE), n_train)
    return np.exp(log_nu), np.exp(0.5 * (log_nu[1:] + log_nu[:-1]))


def encode(nu) -> np.ndarray:
    """The network's parameter input: $\\log\\nu$ mapped affinely onto $[-1, 1]$, shape (..., 1)."""
    lo, hi = np.log(NU_RANGE)
    return (2.0 * (np.log(np.asarray(nu, dtype=np.float64)) - lo) / (hi - lo) - 1.0)[..., None]


def solve(nu: float, *, modes: int, grid: int, times: int) -> np.ndarray:
    """The diffrax reference for one viscosity on the (times, grid) output grid."""
    from fieldpde.reference import burgers

    ds = burgers(
        lambda x: -np.sin(np.pi * x),
        bounds=[(-1.0, 1.0)],
        shape=modes,
        times=np.linspace(0.0, 1.0, times),
        viscosity=float(nu),
        boundary="periodic",
        method="spectral",
    )
    return np.asarray(ds.u.values[:, :: modes // grid])


def grid_coords(grid: int, times: int) -> np.ndarray:
    """The output grid's points as rows $(x, 2t - 1)$, time-major, shape (times * grid, 2)."""
    x = -1.0 + 2.0 * np.arange(grid) / grid  # the periodic grid (x = 1 is x = -1)
    t = np.linspace(0.0, 1.0, times)
    X, T = np.meshgrid(x, t)
    return np.stack([X.ravel(), 2.0 * T.ravel() - 1.0], axis=-1)


def snapshots(nus, *, modes: int, grid: int, times: int, cache: bool = True) -> np.ndarray:
    """Reference solutions for each viscosity, shape (len(nus), times, grid), cached as .npz."""
    nus = np.asarray(nus, dtype=np.float64)
    root = Path(os.environ.get("FIELDPDE_CACHE", Path.home() / ".cache" / "fieldpde"))
    tag = hashlib.sha1(nus.tobytes()).hexdigest()[:12]
    path = root / f"burgers_family_m{modes}_g{grid}_t{times}_{tag}.npz"
    if cache and path.exists():
        data = np.load(path)
        if np.array_equal(data["nu"], nus):
            return data["u"]
    u = np.stack([solve(nu, modes=modes, grid=grid, times=times) for nu in nus])
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
        np.savez(tmp, nu=nus, u=u)
        os.replace(tmp, path)
    return u


@final
class _Encoder(eqx.Module):
    """A tanh MLP $\\mu \\mapsto z$ with a final tanh, so $|z_k| < 1$ (HyperSIREN's regime)."""

    mlp: MLP

    def __call__(self, mu):
        return jnp.tanh(self.mlp(mu))


@final
class _Encoded(eqx.Module):
    """A conditioned field that first encodes $\\mu$: ``field(x, encoder(mu))``."""

    encoder: _Encoder
    field: ConditionedINR

    def __call__(self, x, mu):
        return self.field(x, self.encoder(mu))


def make_models(key, s: dict) -> dict:
    """The three surrogates of the comparison, built with the settings `s`."""
    keys = jax.random.split(key, 6)

    def encoder(k):
        return _Encoder(MLP.init(1, 32, s["latent"], depth=3, key=k, activation="tanh"))

    omega = dict(first_omega=s["omega"], hidden_omega=s["omega"])
    hyper = HyperSIREN(
        2, s["hyper_width"], 1, depth=s["depth"], cond_dim=s["latent"],
        parameter_net=encoder(keys[0]), key=keys[1], **omega,
    )  # fmt: skip
    inner = SIREN.init(2, s["film_width"], 1, depth=s["depth"], key=keys[2], **omega)
    film = _Encoded(
        encoder(keys[3]),
        ConditionedINR.init(
            inner, conditioner_cls=AffineModulation, cond_dim=s["latent"], key=keys[4]
        ),
    )
    mlp = MLP.init(3, s["mlp_width"], 1, depth=s["depth"], key=keys[5], activation="tanh")
    # input mode feeds [x, t, mu] to the MLP (the conditioner class is unused there)
    concat = ConditionedINR.init(
        mlp, conditioner_cls=AffineModulation, cond_dim=1, key=keys[5], mode="input"
    )
    return {"HyperSIREN": hyper, "FiLM-SIREN": film, "MLP": concat}


def n_params(model) -> int:
    """Number of trainable scalars of a model."""
    return sum(leaf.size for leaf in jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array)))


@eqx.filter_jit
def predict(model, coords, mu):
    """The surrogate on every point of `coords` for one parameter vector `mu`, shape (N,)."""
    return model(coords, mu)[:, 0]


def relative_l2(model, coords, mus, u) -> np.ndarray:
    """$\\|u_\\theta - u\\|_2 / \\|u\\|_2$ on the grid, one value per snapshot."""
    pred = np.stack([np.asarray(predict(model, coords, mu)) for mu in mus])
    u = u.reshape(len(mus), -1)
    return np.linalg.norm(pred - u, axis=1) / np.linalg.norm(u, axis=1)


def query_ms(model, coords, mu, repeats: int = 10) -> float:
    """Median wall time (ms) of one compiled surrogate answer on the grid (after a warm-up)."""
    jax.block_until_ready(predict(model, coords, mu + 0.01))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(predict(model, coords, mu))
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def run(seed: int = 0, fast: bool = False, steps: int | None = None, cache: bool = True) -> dict:
    """Build the data, train the three surrogates and measure them; returns everything."""
    s = dict(FAST if fast else FULL)
    if steps is not None:
        s["steps"] = steps
    grid = dict(modes=s["modes"], grid=s["grid"], times=s["times"])
    nu_train, nu_test = viscosities(s["n_train"])
    cache = cache and not fast
    # a diffrax solve of a new viscosity on the output grid, timed as a user would run it
    t0 = time.perf_counter()
    u_new = solve(nu_test[0], **grid)
    solve_s = time.perf_counter() - t0
    u_train = snapshots(nu_train, **grid, cache=cache)
    if cache:
        u_test = snapshots(nu_test, **grid, cache=True)
        assert np.allclose(u_new, u_test[0], atol=1e-8), "the cached reference is stale"
    else:
        u_test = np.stack([u_new, *(solve(nu, **grid) for nu in nu_test[1:])])
    coords = jnp.asarray(grid_coords(s["grid"], s["times"]), jnp.float32)
    mu_train = jnp.asarray(encode(nu_train), jnp.float32)
    mu_test = jnp.asarray(encode(nu_test), jnp.float32)
    values = jnp.asarray(u_train.reshape(len(nu_train), -1), jnp.float32)

    schedule = optax.cosine_onecycle_schedule(
        s["steps"], s["peak_lr"], pct_start=0.1, div_factor=25.0, final_div_factor=1e3
    )
    key = jax.random.key(seed)
    models = make_models(jax.random.fold_in(key, 0), s)
    fitted, curves, metrics = {}, {}, {}
    for name, model in models.items():
        t0 = time.perf_counter()
        fitted[name], curves[name] = fit_snapshots(
            model, coords, mu_train, values,
            steps=s["steps"], batch_size=s["batch"], optimizer=optax.adam(schedule),
            key=jax.random.fold_in(key, 1),
        )  # fmt: skip
        jax.block_until_ready(curves[name])
        wall = time.perf_counter() - t0
        held_out = relative_l2(fitted[name], coords, mu_test, u_test)
        metrics[name] = {
            "params": n_params(model),
            "train_s": wall,
            "train_rel_l2": float(np.mean(relative_l2(fitted[name], coords, mu_train, u_train))),
            "held_out_rel_l2": [float(e) for e in held_out],
            "held_out_mean": float(np.mean(held_out)),
            "held_out_max": float(np.max(held_out)),
            "query_ms": query_ms(fitted[name], coords, mu_test[0]),
        }
    return {
        "settings": s,
        "nu_train": nu_train,
        "nu_test": nu_test,
        "u_test": u_test,
        "coords": coords,
        "mu_test": mu_test,
        "fitted": fitted,
        "curves": curves,
        "metrics": metrics,
        "diffrax_solve_s": solve_s,
    }


def _save(fig, out: str, name: str) -> Path:
    path = Path(out) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"figure: {path}")
    return path


def plot(result: dict, out: str) -> Path:
    """Held-out predictions against the reference, error maps and the error over $\\nu$."""
    s, nu_test, u_test = result["settings"], result["nu_test"], result["u_test"]
    nt, nx = s["times"], s["grid"]
    x = -1.0 + 2.0 * np.arange(nx) / nx
    pick = (0, len(nu_test) // 2, len(nu_test) - 1)
    preds = {
        name: np.stack(
            [
                np.asarray(predict(m, result["coords"], mu)).reshape(nt, nx)
                for mu in result["mu_test"]
            ]
        )
        for name, m in result["fitted"].items()
    }
    fig, axes = plt.subplots(2, 3, figsize=(15, 8))
    for ax, i in zip(axes[0], pick, strict=True):
        for j, frac in enumerate((0.25, 1.0)):
            k = round(frac * (nt - 1))
            label = "reference" if j == 0 else None
            ax.plot(x, u_test[i, k], "k-", lw=2.5, alpha=0.5, label=label)
            for name, style in zip(MODELS, ("C0--", "C1-.", "C2:"), strict=True):
                ax.plot(x, preds[name][i, k], style, lw=1.4, label=name if j == 0 else None)
        ax.set(title=f"held-out nu = {nu_test[i]:.4f}: t = 0.25 and 1", xlabel="x", ylabel="u")
    axes[0, 0].legend(fontsize=8)
    hard = 0
    for ax, name in zip(axes[1, :2], ("HyperSIREN", "MLP"), strict=True):
        err = np.abs(preds[name][hard] - u_test[hard])
        im = ax.imshow(err.T, origin="lower", aspect="auto", extent=(0, 1, -1, 1), cmap="magma")
        fig.colorbar(im, ax=ax)
        ax.set(title=f"{name}: |error| at nu = {nu_test[hard]:.4f}", xlabel="t", ylabel="x")
    ax = axes[1, 2]
    for name in MODELS:
        ax.loglog(nu_test, result["metrics"][name]["held_out_rel_l2"], "o-", label=name)
    for nu in result["nu_train"]:
        ax.axvline(nu, color="grey", lw=0.6, ls=":")
    ax.axhline(2e-2, color="k", lw=0.8, ls="--", label="target 2e-2")
    ax.set(xlabel="nu (held out; training nu dotted)", ylabel="relative L2", title="held-out error")
    ax.legend(fontsize=8)
    return _save(fig, out, "burgers_family.png")


def main(steps: int | None = None, seed: int = 0, out: str = "out", fast: bool = False) -> dict:
    """Train, print the held-out errors and query times, save the figure; returns the metrics."""
    result = run(seed=seed, fast=fast, steps=steps)
    for name, m in result["metrics"].items():
        print(
            f"{name:10s} {m['params']:6d} params  train {m['train_s']:6.1f} s  "
            f"held-out rel L2 mean {m['held_out_mean']:.2e} max {m['held_out_max']:.2e}  "
            f"query {m['query_ms']:.2f} ms"
        )
    print(f"diffrax solve of one new nu on the same grid: {result['diffrax_solve_s']:.2f} s")
    plot(result, out)
    return {**result["metrics"], "diffrax_solve_s": result["diffrax_solve_s"]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out")
    parser.add_argument("--fast", action="store_true", help="tiny sizes, a smoke test")
    args = parser.parse_args()
    main(args.steps, args.seed, args.out, args.fast)
