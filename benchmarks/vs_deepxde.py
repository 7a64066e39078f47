r"""fieldpde vs DeepXDE on DeepXDE's own 2-D Helmholtz Dirichlet example.

The problem (DeepXDE's "Helmholtz equation over a 2D square domain", hard constraints):

$$-u_{xx} - u_{yy} - k_0^2 u = k_0^2 \sin(k_0 x)\sin(k_0 y) \text{ on } [0, 1]^2,
\quad u = 0 \text{ on the boundary}, \quad k_0 = 4\pi,$$

with exact solution $u = \sin(k_0 x)\sin(k_0 y)$. Three runs, one after the other in
this process (so they see the same machine load):

* ``fieldpde``: DeepXDE's setting reproduced: `MLP` [2] + [150]*3 + [1] with sine
  activations and Glorot-uniform weights / zero biases (DeepXDE's "Glorot uniform"),
  `HardDirichlet` (fieldpde's box distance is $16\,x(1-x)y(1-y)$, a constant factor from
  DeepXDE's transform), one `Residual` on 480 Sobol points fixed for the whole run (DeepXDE
  evaluates the PDE at its 400 Hammersley interior points and its 80 boundary points, so
  both losses are the mean squared residual over 480 points), ``optax.adam(1e-3)``,
  `--steps` steps.
* ``DeepXDE``: `_deepxde_helmholtz.py` (PyTorch backend) in the interpreter given by
  ``--deepxde-python``; skipped with a message if there is none.
* ``fieldpde tuned``: the library's recipe for this PDE: a width-64 depth-4 `SIREN`
  ($\omega = 10$) under `HardDirichlet`, residual scaled by $1/k_0^2$, 1024 Sobol points
  redrawn every 100 steps, Adam (cosine decay from 2e-3) then L-BFGS on 1536 points. Its
  wall time (compile included) is compared with DeepXDE's 5000-step training time.

Per-step time of fieldpde excludes compilation: after a short warm-up call, `fit` is timed
for 100 steps and for `--steps` steps (each one compiled scan); the difference over
``steps - 100`` is the step time and the remainder of the 100-step call is the compile
time. DeepXDE's per-step time is its ``train()`` wall time over the steps (PyTorch has no
compile; the test metric it evaluates every 1000 steps, as the example does, is included).
Errors are relative L2 against the exact solution on the same 101 x 101 grid.

Cores: by default both frameworks are pinned to the same single core (``--threads 1``:
CPU affinity for this process and the DeepXDE child, one PyTorch/OpenMP thread), because
JAX spreads one step over all cores while a fair PyTorch run on a busy machine cannot: its
OpenMP pool, with more threads than free cores, waits on descheduled threads and slows down
10-60x (measured on a 2-core machine shared with other work). ``--threads N`` pins both to
N cores; ``--threads 0`` pins nothing and keeps each framework's default.

Setup of DeepXDE's environment (kept out of git, CPU build of torch)::

    python3 -m venv .venv-deepxde && .venv-deepxde/bin/pip install torch==2.13.0 deepxde

Usage::

    python benchmarks/vs_deepxde.py            # 5000 steps each (about 8 minutes on 2 cores)
    python benchmarks/vs_deepxde.py --quick    # 500 steps, short tuned run: a smoke check
"""

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
K0 = 4 * math.pi  # 2 pi n with n = 2
N_POINTS = 400 + 80  # DeepXDE: nx_train**2 domain + 4 * nx_train boundary, nx_train = 20
WARMUP, SHORT = 10, 100
GRID = 101
TARGET_SPEEDUP, TARGET_L2 = 3.0, 1e-4
TUNED = dict(
    width=64,
    depth=4,
    omega=10.0,
    points=1024,
    resample_every=100,
    learning_rate=2e-3,
    steps=1500,
    lbfgs_steps=3000,
    lbfgs_points=1536,
)
TUNED_QUICK = dict(TUNED, steps=500, lbfgs_steps=500)


def _pin(threads: int) -> str:
    """Restrict this process (and its children) to `threads` cores; describe the setting."""
    if threads <= 0:
        return "all cores, each framework's default threads"
    cores = sorted(os.sched_getaffinity(0))
    if threads > len(cores):
        raise ValueError(f"`--threads` must be at most {len(cores)} (usable cores), got {threads}")
    os.sched_setaffinity(0, cores[:threads])
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    return f"both pinned to core(s) {cores[:threads]}, {threads} PyTorch thread(s)"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _exact(x):
    import jax.numpy as jnp

    return jnp.sin(K0 * x[0]) * jnp.sin(K0 * x[1])


def _residual(x, d):
    return -d.laplacian - K0**2 * d.value - K0**2 * _exact(x)


def _scaled_residual(x, d):
    # O(1) residuals suit L-BFGS's line search and Adam's epsilon better than O(k0^2) ones
    return _residual(x, d) / K0**2


def _domain():
    from fieldpde.domains import Box

    return Box([0.0, 0.0], [1.0, 1.0])


def deepxde_problem():
    """DeepXDE's loss: the mean squared residual over 480 points fixed for the run."""
    from fieldpde import Problem
    from fieldpde.constraints import Residual

    pde = Residual(_residual, _domain(), num_points=N_POINTS, method="sobol")
    return Problem({"pde": pde}, exact=_exact, domain=_domain(), name="helmholtz_deepxde")


def tuned_problem(points: int):
    from fieldpde import Problem
    from fieldpde.constraints import Residual

    domain = _domain()
    pde = Residual(_scaled_residual, domain, num_points=points, method="sobol")
    return Problem({"pde": pde}, exact=_exact, domain=domain, name="helmholtz_deepxde")


def glorot_uniform(net, key):
    r"""Re-draw an `MLP`'s weights as DeepXDE's "Glorot uniform" does, biases zero.

    $W \sim \mathcal{U}(\pm\sqrt{6 / (d_\text{in} + d_\text{out})})$.
    """
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    keys = jax.random.split(key, len(net.layers))
    layers = []
    for layer, k in zip(net.layers, keys, strict=True):
        fan_in, fan_out = layer.W.shape
        lim = math.sqrt(6.0 / (fan_in + fan_out))
        W = jax.random.uniform(k, layer.W.shape, layer.W.dtype, -lim, lim)
        layers.append(eqx.tree_at(lambda lyr: (lyr.W, lyr.b), layer, (W, jnp.zeros_like(layer.b))))
    return eqx.tree_at(lambda n: n.layers, net, tuple(layers))


def _relative_l2(problem, field) -> float:
    from fieldpde.io import evaluate_on_grid

    return float(evaluate_on_grid(problem, field, shape=GRID).attrs["relative_l2"])


def run_fieldpde_same(steps: int, seed: int) -> dict:
    """DeepXDE's network and training with fieldpde; step time with compile separated."""
    import jax
    import optax

    from fieldpde import MLP, fit
    from fieldpde.constraints import HardDirichlet

    problem = deepxde_problem()
    nkey, ikey, skey = jax.random.split(jax.random.key(seed), 3)
    net = MLP.init(2, 150, 1, depth=4, key=nkey, activation="sin")
    field = HardDirichlet.on(_domain(), glorot_uniform(net, ikey))
    optimizer = optax.adam(1e-3)

    def timed(n):
        # resample_every=n: one block of fixed points, one compiled scan of length n
        t0 = time.perf_counter()
        result = fit(
            problem, field, key=skey, steps=n, optimizer=optimizer, resample_every=n, progress=False
        )
        jax.block_until_ready(result.field)
        return time.perf_counter() - t0, result

    # the first call pays one-time costs (samplers, eager optax init); the two timed calls
    # then differ only in their scan length
    t_warm, _ = timed(WARMUP)
    t_short, _ = timed(SHORT)
    t_long, result = timed(steps)
    per_step = (t_long - t_short) / (steps - SHORT)
    compile_s = max(t_short - SHORT * per_step, 0.0)
    if not result.ok:
        print(f"fieldpde (same network): {result.message}", file=sys.stderr)
    return {
        "per_step_ms": 1e3 * per_step,
        "compile_s": compile_s,
        "train_wall_s": steps * per_step,
        "total_wall_s": t_long,
        "first_call_extra_s": max(t_warm - compile_s - WARMUP * per_step, 0.0),
        "relative_l2": _relative_l2(problem, result.field),
        "final_loss": result.final_loss,
        "status": result.status,
    }


def run_fieldpde_tuned(cfg: dict, seed: int) -> dict:
    """SIREN + HardDirichlet + Adam (cosine) + L-BFGS; wall time with compilation."""
    import jax

    from fieldpde import SIREN, fit
    from fieldpde.constraints import HardDirichlet

    problem = tuned_problem(cfg["points"])
    nkey, skey = jax.random.split(jax.random.key(seed))
    t0 = time.perf_counter()
    net = SIREN.init(
        2,
        cfg["width"],
        1,
        depth=cfg["depth"],
        key=nkey,
        first_omega=cfg["omega"],
        hidden_omega=cfg["omega"],
    )
    result = fit(
        problem,
        HardDirichlet.on(_domain(), net),
        key=skey,
        steps=cfg["steps"],
        learning_rate=cfg["learning_rate"],
        resample_every=cfg["resample_every"],
        lbfgs_steps=cfg["lbfgs_steps"],
        lbfgs_points=cfg["lbfgs_points"],
        progress=False,
    )
    jax.block_until_ready(result.field)
    wall = time.perf_counter() - t0
    if not result.ok:
        print(f"fieldpde (tuned): {result.message}", file=sys.stderr)
    return {
        "total_wall_s": wall,
        "relative_l2": _relative_l2(problem, result.field),
        "final_loss": result.final_loss,
        "status": result.status,
    }


def run_deepxde(python: Path, steps: int, seed: int, threads: int) -> dict | None:
    script = Path(__file__).resolve().parent / "_deepxde_helmholtz.py"
    env = dict(os.environ, DDE_BACKEND="pytorch")
    cmd = [
        str(python),
        str(script),
        "--steps",
        str(steps),
        "--seed",
        str(seed),
        "--grid",
        str(GRID),
        "--threads",
        str(threads),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        print(
            f"DeepXDE run failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n"
            f"{proc.stderr[-3000:]}",
            file=sys.stderr,
        )
        return None
    out = json.loads(lines[-1][len("RESULT ") :])
    out["process_wall_s"] = wall
    return out


def _fmt_time(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f} s"


def _verdict(ok: bool | None) -> str:
    return "n/a (DeepXDE not run)" if ok is None else ("MET" if ok else "NOT MET")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="500 steps each and a short tuned run (a smoke check)"
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="Adam steps for both same-network runs (default 5000, quick 500)",
    )
    parser.add_argument(
        "--deepxde-python",
        type=Path,
        default=None,
        help="interpreter with torch + deepxde (default: .venv-deepxde/bin/python if it exists)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="cores both frameworks are pinned to, one PyTorch thread each (0: no pinning, "
        "each framework's defaults)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-tuned", action="store_true", help="leave out the tuned run")
    args = parser.parse_args()
    steps = args.steps if args.steps is not None else (500 if args.quick else 5000)
    if steps <= SHORT:
        parser.error(f"`--steps` must exceed {SHORT} (the short timing call), got {steps}")
    cores = _pin(args.threads)

    import jax

    python = args.deepxde_python
    if python is None:
        default = ROOT / ".venv-deepxde" / "bin" / "python"
        python = default if default.exists() else None
    elif not python.exists():
        sys.exit(f"`--deepxde-python` {python} does not exist")

    load0 = os.getloadavg()
    print(f"fieldpde, same network as DeepXDE: {steps} Adam steps ...", flush=True)
    same = run_fieldpde_same(steps, args.seed)
    dx = None
    if python is None:
        print(
            "DeepXDE: skipped (no .venv-deepxde/bin/python; see the docstring for its setup "
            "or pass --deepxde-python)",
            flush=True,
        )
    else:
        print(f"DeepXDE (pytorch, {python}): {steps} Adam steps ...", flush=True)
        dx = run_deepxde(python, steps, args.seed, args.threads)
    tuned_cfg = TUNED_QUICK if args.quick else TUNED
    tuned = None
    if not args.skip_tuned:
        print("fieldpde tuned: SIREN + Adam (cosine) + L-BFGS ...", flush=True)
        tuned = run_fieldpde_tuned(tuned_cfg, args.seed)
    load1 = os.getloadavg()

    import equinox
    import optax

    print()
    print(
        "DeepXDE's 2-D Helmholtz Dirichlet example: -Δu - k0² u = k0² sin(k0 x) sin(k0 y) on "
        "[0,1]², k0 = 4π, hard BC"
    )
    print(
        f"machine: {_cpu_model()}, {os.cpu_count()} cores; load average "
        f"{load0[0]:.1f} at start, {load1[0]:.1f} at end; {cores}"
    )
    versions = (
        f"python {platform.python_version()}, jax {jax.__version__}, "
        f"equinox {equinox.__version__}, optax {optax.__version__}"
    )
    if dx is not None:
        versions += f"; torch {dx['torch']}, deepxde {dx['deepxde']} (pytorch backend)"
    print(f"versions: {versions}")
    print()
    print(
        f"Same network ([2]+[150]*3+[1], sin, Glorot uniform), "
        f"{N_POINTS} fixed points, Adam 1e-3, {steps} steps, float32"
    )
    header = (
        f"{'':<20}{'per step':>11}{'compile':>10}{'train':>10}{'total wall':>12}{'rel. L2':>10}"
    )
    print(header)
    print("-" * len(header))
    print(
        f"{'fieldpde':<20}{same['per_step_ms']:>8.2f} ms{_fmt_time(same['compile_s']):>10}"
        f"{_fmt_time(same['train_wall_s']):>10}{_fmt_time(same['total_wall_s']):>12}"
        f"{same['relative_l2']:>10.2e}"
    )
    speedup_met = None
    if dx is not None:
        print(
            f"{'DeepXDE (pytorch)':<20}{dx['per_step_ms']:>8.2f} ms{'-':>10}"
            f"{_fmt_time(dx['train_wall_s']):>10}{_fmt_time(dx['process_wall_s']):>12}"
            f"{dx['relative_l2']:>10.2e}"
        )
        ratio = dx["per_step_ms"] / same["per_step_ms"]
        speedup_met = ratio >= TARGET_SPEEDUP
        print(
            f"per-step speed-up fieldpde / DeepXDE: {ratio:.2f}x "
            f"(DeepXDE trains on {dx['train_points']} points)"
        )
    print(
        f"  fieldpde total wall = compile + train; its first fit call also paid "
        f"{same['first_call_extra_s']:.1f} s of one-time setup. DeepXDE total wall = its "
        "process (imports, setup, train, evaluation)."
    )
    tuned_met = None
    if tuned is not None:
        c = tuned_cfg
        print()
        print(
            f"fieldpde tuned: SIREN {c['width']}x{c['depth']} (omega {c['omega']:g}), "
            f"HardDirichlet, {c['points']} Sobol points / {c['resample_every']} steps, "
            f"Adam {c['steps']} (cosine from {c['learning_rate']:g}) + L-BFGS "
            f"{c['lbfgs_steps']} on {c['lbfgs_points']} points"
        )
        print(
            f"  wall time {tuned['total_wall_s']:.1f} s (compile included), "
            f"relative L2 {tuned['relative_l2']:.2e} ({tuned['status']})"
        )
        if dx is not None:
            tuned_met = (
                tuned["relative_l2"] <= TARGET_L2 and tuned["total_wall_s"] < dx["train_wall_s"]
            )
            print(
                f"  vs DeepXDE's {steps}-step training: {dx['train_wall_s']:.1f} s to "
                f"relative L2 {dx['relative_l2']:.2e}"
            )
    print()
    print(
        f"target: fieldpde >= {TARGET_SPEEDUP:g}x faster per step than DeepXDE: "
        f"{_verdict(speedup_met)}"
    )
    if tuned is not None:
        print(
            f"target: relative L2 <= {TARGET_L2:g} in less wall time than DeepXDE's "
            f"{steps} steps: {_verdict(tuned_met)}"
        )
    if args.quick or steps != 5000:
        print("(not the full setting: targets are judged on 5000 steps without --quick)")


if __name__ == "__main__":
    main()
