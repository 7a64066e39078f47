r"""A Helmholtz family over the wavenumber: one surrogate for every $k \in [0.5, 2]$.

$\Delta u + k^2 u = q$ on $[-1, 1]^2$, $u = 0$ on the boundary, with an off-centre
Gaussian source $q(x) = -10\,e^{-|x - c|^2 / (2 \sigma^2)}$, $c = (0.3, -0.2)$,
$\sigma = 0.2$. The range stops below the first Dirichlet eigenvalue of $-\Delta$
($k^2 = \pi^2/2$, $k \approx 2.22$), where the problem has no solution; across it the
response of the lowest mode grows about fivefold, so the solutions change shape and size.

The surrogate is a `SIREN` over $(x, y, k)$ under a hard Dirichlet transform that acts on
$(x, y)$, trained physics-informed (the PDE residual only, no solution data) with $k$
drawn alongside the collocation points. It is checked against the finite-difference
solution (`fieldpde.reference.helmholtz_fd`, 257^2 nodes) at held-out wavenumbers, and
its 256x256-grid answer for a new $k$ is timed against the FD solve of that $k$.

    python problems/helmholtz_family.py            # train, evaluate, save out/helmholtz_family.eqx
    python problems/helmholtz_family.py --steps 300 --lbfgs-steps 0   # a quick run
"""

import argparse
import functools
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from fieldpde import SIREN
from fieldpde.constraints import BoxDistance, HardDirichlet, Residual
from fieldpde.domains import Box
from fieldpde.problem import ParametricProblem

SPACE = Box([-1.0, -1.0], [1.0, 1.0])
PARAMETERS = Box([0.5], [2.0])
CENTRE, SIGMA, AMPLITUDE = (0.3, -0.2), 0.2, 10.0
HELD_OUT = (0.7, 1.3, 1.9)

DEFAULTS = dict(
    steps=4000,
    points=4096,
    learning_rate=2e-3,
    resample_every=50,
    lbfgs_steps=1000,
    lbfgs_points=8192,
    width=32,
    depth=4,
    omega=6.0,
    fd_shape=257,
)


def source(x, y):
    """$q$ at coordinates `x`, `y` (arrays; works with numpy and jax)."""
    r2 = (x - CENTRE[0]) ** 2 + (y - CENTRE[1]) ** 2
    return -AMPLITUDE * np.e ** (-r2 / (2 * SIGMA**2))


def family(points: int = DEFAULTS["points"]) -> ParametricProblem:
    """The family as a `ParametricProblem`: points are ``(x, y, k)``."""

    def pde(p, d):
        k = p[2]
        # the source is O(10): scale the residual to O(1) for Adam's step size
        return 0.1 * (d.laplacian + k**2 * d.value - source(p[0], p[1]))

    return ParametricProblem(
        {"pde": Residual(pde, SPACE, num_points=points, method="sobol")},
        parameters=PARAMETERS,
        reference=reference,
        name="helmholtz_family",
    )


_space_distance = BoxDistance(SPACE.lo, SPACE.hi)


def space_distance(p):
    """The box distance of the space part of a point ``(x, y, k)``: zero on the walls."""
    return _space_distance(p[:2])


def field(
    key,
    *,
    width=DEFAULTS["width"],
    depth=DEFAULTS["depth"],
    omega=DEFAULTS["omega"],
    dtype=None,
):
    """A SIREN over ``(x, y, k)`` times the box distance, so u = 0 on the walls for all k."""
    net = SIREN.init(
        3, width, 1, depth=depth, key=key, first_omega=omega, hidden_omega=omega, dtype=dtype
    )
    return HardDirichlet(net, 0.0, space_distance)


@functools.lru_cache(maxsize=16)
def _reference(k: float, shape: int):
    from fieldpde.reference import helmholtz_fd

    return helmholtz_fd(source, k, bounds=((-1.0, 1.0), (-1.0, 1.0)), shape=shape)


def reference(mu, shape: int = DEFAULTS["fd_shape"]):
    """The finite-difference solution for wavenumber ``mu[0]`` (cached)."""
    return _reference(float(np.atleast_1d(mu)[0]), int(shape))


def grid_points(n: int) -> np.ndarray:
    c = np.linspace(-1.0, 1.0, n)
    X, Y = np.meshgrid(c, c, indexing="ij")
    return np.stack([X.ravel(), Y.ravel()], axis=-1)


def query_speed(fam: ParametricProblem, surrogate, k: float, n: int = 256, repeats: int = 5):
    """Seconds to answer a new `k` on an ``n x n`` grid: surrogate (jitted) vs FD solve."""
    from fieldpde.reference import helmholtz_fd

    pts = jnp.asarray(grid_points(n), dtype=jnp.float32)
    answer = eqx.filter_jit(
        lambda f, x, kk: f(jnp.concatenate([x, jnp.full((x.shape[0], 1), kk)], axis=1))
    )
    answer(surrogate, pts, jnp.float32(k)).block_until_ready()  # compile once
    t_net = []
    for i in range(repeats):
        kk = jnp.float32(k + 1e-3 * i)  # a new parameter each time
        t0 = time.perf_counter()
        answer(surrogate, pts, kk).block_until_ready()
        t_net.append(time.perf_counter() - t0)
    t_fd = []
    for i in range(repeats):
        t0 = time.perf_counter()
        helmholtz_fd(source, k + 1e-3 * i, bounds=((-1.0, 1.0), (-1.0, 1.0)), shape=n)
        t_fd.append(time.perf_counter() - t0)
    return float(np.median(t_net)), float(np.median(t_fd))


def main(argv=None, *, out: str = "out"):
    from fieldpde.train import fit, load_checkpoint, save_checkpoint

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=DEFAULTS["steps"])
    parser.add_argument("--lbfgs-steps", type=int, default=DEFAULTS["lbfgs_steps"])
    parser.add_argument("--points", type=int, default=DEFAULTS["points"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fd-shape", type=int, default=DEFAULTS["fd_shape"])
    parser.add_argument("--query-grid", type=int, default=256, help="side of the timed grid")
    parser.add_argument("--out", default=out)
    args = parser.parse_args(argv)

    fam = family(points=args.points)
    init = field(jax.random.key(args.seed), dtype=jnp.float32)
    lbfgs_points = max(DEFAULTS["lbfgs_points"] * args.points // DEFAULTS["points"], 1)
    result = fit(
        fam.problem,
        init,
        key=jax.random.key(args.seed + 1),
        steps=args.steps,
        learning_rate=DEFAULTS["learning_rate"],
        resample_every=DEFAULTS["resample_every"],
        lbfgs_steps=args.lbfgs_steps,
        lbfgs_points=lbfgs_points,
        dtype=jnp.float32,
        progress=False,
    )
    print(f"{result.status}: {result.steps} steps in {result.wall_time:.1f} s")

    path = Path(args.out) / "helmholtz_family.eqx"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(path, result.field, step=result.steps, history=result.history)
    surrogate, *_ = load_checkpoint(path, init)  # what a later session would do

    errors = {}
    for k in HELD_OUT:
        ref = fam.reference((k,), shape=args.fd_shape)
        errors[k] = fam.relative_l2(surrogate, ref.points(), (k,))
    t_net, t_fd = query_speed(fam, surrogate, 1.55, n=args.query_grid)
    print(f"{'k':>5} {'rel. L2 vs FD':>14}")
    for k, e in errors.items():
        print(f"{k:5.2f} {e:14.3e}")
    print(
        f"new k on a {args.query_grid}^2 grid: surrogate {1e3 * t_net:.2f} ms, "
        f"FD solve {1e3 * t_fd:.1f} ms ({t_fd / t_net:.0f}x)"
    )
    print(f"saved {path}")
    return {"errors": errors, "t_net": t_net, "t_fd": t_fd, "result": result, "path": path}


if __name__ == "__main__":
    main()
