r"""fieldpde vs jinns (and DeepXDE) per training step on DeepXDE's 2-D Helmholtz example.

The problem and the network are `vs_deepxde.py`'s: $-\Delta u - k_0^2 u = k_0^2
\sin(k_0 x)\sin(k_0 y)$ on $[0, 1]^2$, $k_0 = 4\pi$, the hard constraint
$u = x(1-x)y(1-y)N$ (fieldpde's `HardDirichlet` box distance is a constant multiple of
it), a [2] + [w]*3 + [1] sine network with Glorot-uniform weights, the mean squared
residual on a fixed batch of points, Adam with learning rate 1e-3, float32. For each size
(points, width), one after the other in this run:

* ``fieldpde``: `benchmarks/step_roofline.py`'s step (the engine's compiled block, as
  `fit` runs it; large batches are tiled by default);
* ``jinns``: `_jinns_helmholtz.py` in the interpreter given by ``--jinns-python``
  (default ``.venv-jinns/bin/python``): `jinns.nn.PINN_MLP` with the hard constraint as
  its output transform, jinns' own `jinns.loss.laplacian_rev` in a `PDEStatio` dynamic
  loss, `LossPDEStatio`, the same Sobol points as fieldpde, its value-and-gradient and an
  optax Adam update in one compiled scan; skipped with a message if absent;
* ``DeepXDE``: `_deepxde_helmholtz.py` (PyTorch backend) in ``--deepxde-python``
  (default ``.venv-deepxde/bin/python``) on as many of its own Hammersley points;
  skipped with a message if absent.

Each framework compiles (or warms up) once, then runs ``--blocks`` blocks of ``steps``
steps; the per-step time is the median block time / steps. All are pinned to the same
core(s), one thread (``--threads``, as in `vs_deepxde.py`).

Setup of the environments (kept out of git)::

    python3 -m venv .venv-jinns && .venv-jinns/bin/pip install jinns==1.10.2
    python3 -m venv .venv-deepxde && .venv-deepxde/bin/pip install torch==2.13.0 deepxde==1.15.0

Usage::

    python benchmarks/vs_jinns.py                 # 480 x 150 and 4096 x 128 (about 10 min)
    python benchmarks/vs_jinns.py --quick         # short blocks: a smoke check
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from vs_deepxde import _cpu_model, _pin  # noqa: E402

SIZES = ((480, 150, 1000), (4096, 128, 100))  # points, width, steps per block
TARGETS = {4096: {"DeepXDE": 4.0, "jinns": 8.0}}


def run_fieldpde(points: int, width: int, steps: int, blocks: int, seed: int) -> dict:
    import jax
    import step_roofline as sr

    import fieldpde

    parts = sr.build(fieldpde, points, width, None, seed)
    run = sr.block_runner(fieldpde, parts, steps)
    t0 = time.perf_counter()
    run()
    first = time.perf_counter() - t0
    times = []
    for _ in range(blocks):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    points_xy = np.asarray(jax.device_get(parts[3]["pde"].points))
    return {
        "per_step_ms": 1e3 * float(np.median(times)) / steps,
        "first_block_s": first,
        "points_xy": points_xy,
    }


def _child(cmd: list[str], env: dict | None = None) -> dict | None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        print(
            f"{Path(cmd[1]).name} failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n"
            f"{proc.stderr[-3000:]}",
            file=sys.stderr,
        )
        return None
    return json.loads(lines[-1][len("RESULT ") :])


def run_jinns(python: Path, points_xy, width: int, steps: int, blocks: int, seed: int):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "points.npy"
        np.save(path, points_xy.astype(np.float32))
        cmd = [str(python), str(HERE / "_jinns_helmholtz.py"), "--points-file", str(path)]
        cmd += ["--width", str(width), "--steps", str(steps), "--blocks", str(blocks)]
        return _child(cmd + ["--seed", str(seed)])


def run_deepxde(python: Path, points: int, width: int, steps: int, blocks: int, threads: int):
    cmd = [str(python), str(HERE / "_deepxde_helmholtz.py"), "--points", str(points)]
    cmd += ["--width", str(width), "--steps", str(steps), "--blocks", str(blocks)]
    cmd += ["--threads", str(threads), "--grid", "11"]
    return _child(cmd, env=dict(os.environ, DDE_BACKEND="pytorch"))


def _interpreter(given: Path | None, default: str, name: str) -> Path | None:
    if given is not None:
        if not given.exists():
            sys.exit(f"`--{name}-python` {given} does not exist")
        return given
    path = ROOT / default / "bin" / "python"
    return path if path.exists() else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="steps per block / 10")
    parser.add_argument("--blocks", type=int, default=3, help="timed blocks per framework")
    parser.add_argument("--jinns-python", type=Path, default=None)
    parser.add_argument("--deepxde-python", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=1, help="cores all are pinned to")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cores = _pin(args.threads)
    jinns_py = _interpreter(args.jinns_python, ".venv-jinns", "jinns")
    dde_py = _interpreter(args.deepxde_python, ".venv-deepxde", "deepxde")
    for name, py, setup in (("jinns", jinns_py, "jinns"), ("DeepXDE", dde_py, "deepxde")):
        if py is None:
            print(f"{name}: skipped (no .venv-{setup}/bin/python; see the docstring)")

    load0 = os.getloadavg()
    rows = []
    for points, width, steps in SIZES:
        steps = max(steps // 10, 10) if args.quick else steps
        print(f"{points} points, width {width}: {args.blocks} blocks of {steps} steps ...")
        fp = run_fieldpde(points, width, steps, args.blocks, args.seed)
        row = {"points": points, "width": width, "steps": steps, "fieldpde": fp["per_step_ms"]}
        if jinns_py is not None:
            out = run_jinns(jinns_py, fp["points_xy"], width, steps, args.blocks, args.seed)
            row["jinns"] = None if out is None else out["per_step_ms"]
            row["jinns_version"] = None if out is None else out["jinns"]
        if dde_py is not None:
            out = run_deepxde(dde_py, points, width, steps, args.blocks, args.threads)
            row["DeepXDE"] = None if out is None else out["per_step_ms"]
            row["deepxde_version"] = None if out is None else f"{out['deepxde']}/{out['torch']}"
        rows.append(row)
    load1 = os.getloadavg()

    import jax

    print()
    print(
        f"machine: {_cpu_model()}; load average {load0[0]:.1f} at start, {load1[0]:.1f} "
        f"at end; {cores}; jax {jax.__version__}"
    )
    versions = {k: v for r in rows for k, v in r.items() if k.endswith("_version") and v}
    if versions:
        print("versions: " + ", ".join(f"{k[:-8]} {v}" for k, v in versions.items()))
    print("\n| points, width | steps/block | fieldpde ms/step | DeepXDE | jinns |")
    print("|---|---|---|---|---|")
    verdicts = []
    for r in rows:
        cells = []
        for name in ("DeepXDE", "jinns"):
            ms = r.get(name)
            if ms is None:
                cells.append("-")
                continue
            ratio = ms / r["fieldpde"]
            cells.append(f"{ms:.2f} ({ratio:.1f}x)")
            target = TARGETS.get(r["points"], {}).get(name)
            if target is not None:
                ok = "MET" if ratio >= target else "NOT MET"
                verdicts.append(
                    f"target at {r['points']} points: fieldpde >= {target:g}x faster than "
                    f"{name}: {ratio:.2f}x {ok}"
                )
        print(
            f"| {r['points']}, {r['width']} | {r['steps']} | {r['fieldpde']:.2f} "
            f"| {cells[0]} | {cells[1]} |"
        )
    for line in verdicts:
        print(line)


if __name__ == "__main__":
    main()
