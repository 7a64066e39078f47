r"""DeepXDE's 2-D Helmholtz Dirichlet example, timed; run by `vs_deepxde.py` in its own venv.

The setting is the one DeepXDE documents for "Helmholtz equation over a 2D square domain"
(hard-constraint variant): $-\Delta u - k_0^2 u = k_0^2 \sin(k_0 x)\sin(k_0 y)$ on
$[0, 1]^2$, $k_0 = 4\pi$, $u = x(1-x)y(1-y)N(x, y)$, a [2] + [150]*3 + [1] sine network
with Glorot-uniform weights, 10 training points per wavelength along each axis
(``num_domain = 20**2`` Hammersley points plus ``num_boundary = 4 * 20``), 30 per
wavelength for the test set, Adam with learning rate 1e-3 and the "l2 relative error"
metric. Needs ``DDE_BACKEND=pytorch`` in the environment.

``--points N`` trains on N points instead of 480, split between the interior and the
boundary in the example's proportion (5 to 1); ``--blocks B`` times B calls of
``train(iterations=--steps)`` after a 10-step warm-up call and reports the median per-step
time (for `vs_jinns.py`, which also sets ``--width``); the default, one call, is what
`vs_deepxde.py` times.

The last line printed is ``RESULT {json}``: the train() wall time, the time per step, the
relative L2 error on a regular grid and the versions.
"""

import argparse
import json
import platform
import sys
import time

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--grid", type=int, default=101)
    parser.add_argument("--points", type=int, default=None, help="training points (480)")
    parser.add_argument("--blocks", type=int, default=1, help="timed train() calls")
    parser.add_argument("--width", type=int, default=150, help="hidden width")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch intra-op threads (0: torch's default)"
    )
    args = parser.parse_args()

    t_start = time.perf_counter()
    import torch

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    import deepxde as dde

    if dde.backend.backend_name != "pytorch":
        sys.exit(f"expected DeepXDE's pytorch backend, got {dde.backend.backend_name}")
    dde.config.set_random_seed(args.seed)
    sin = dde.backend.pytorch.sin

    n = 2
    k0 = 2 * np.pi * n
    wave_len = 1 / n
    nx_train = int(1 / (wave_len / 10))  # 10 points per wavelength: 20
    nx_test = int(1 / (wave_len / 30))  # 30 points per wavelength: 60

    def pde(x, u):
        u_xx = dde.grad.hessian(u, x, i=0, j=0)
        u_yy = dde.grad.hessian(u, x, i=1, j=1)
        f = k0**2 * sin(k0 * x[:, 0:1]) * sin(k0 * x[:, 1:2])
        return -u_xx - u_yy - k0**2 * u - f

    def exact(x):
        return np.sin(k0 * x[:, 0:1]) * np.sin(k0 * x[:, 1:2])

    def hard_dirichlet(x, u):
        return x[:, 0:1] * (1 - x[:, 0:1]) * x[:, 1:2] * (1 - x[:, 1:2]) * u

    num_domain, num_boundary = nx_train**2, 4 * nx_train
    if args.points is not None:
        num_boundary = args.points * num_boundary // (num_domain + num_boundary)
        num_domain = args.points - num_boundary
    geom = dde.geometry.Rectangle([0, 0], [1, 1])
    data = dde.data.PDE(
        geom,
        pde,
        [],
        num_domain=num_domain,
        num_boundary=num_boundary,
        solution=exact,
        num_test=nx_test**2,
    )
    net = dde.nn.FNN([2] + [args.width] * 3 + [1], "sin", "Glorot uniform")
    net.apply_output_transform(hard_dirichlet)
    model = dde.Model(data, net)
    model.compile("adam", lr=1e-3, metrics=["l2 relative error"])

    block_s = []
    if args.blocks > 1:
        model.train(iterations=10, display_every=10**9)  # warm-up
        for _ in range(args.blocks):
            t0 = time.perf_counter()
            model.train(iterations=args.steps, display_every=10**9)
            block_s.append(time.perf_counter() - t0)
        train_wall = float(np.median(block_s))
    else:
        t0 = time.perf_counter()
        model.train(iterations=args.steps)
        train_wall = time.perf_counter() - t0

    axis = np.linspace(0.0, 1.0, args.grid)
    grid = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    u = np.asarray(model.predict(grid.astype(np.float32)), dtype=np.float64)
    ref = exact(grid)
    rel_l2 = float(np.linalg.norm(u - ref) / np.linalg.norm(ref))
    result = {
        "steps": args.steps,
        "train_wall_s": train_wall,
        "per_step_ms": 1e3 * train_wall / args.steps,
        "total_wall_s": time.perf_counter() - t_start,
        "relative_l2": rel_l2,
        "train_points": int(len(data.train_x)),
        "blocks": args.blocks,
        "block_s": block_s,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "deepxde": dde.__version__,
        "python": platform.python_version(),
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
