r"""Viscous Burgers (Raissi, Perdikaris & Karniadakis 2019): a shock forms at $x = 0$.

$u_t + u u_x = \nu u_{xx}$ on $x \in [-1, 1]$, $t \in [0, 1]$, $\nu = 0.01/\pi$, with
$u(x, 0) = -\sin(\pi x)$ and $u(\pm 1, t) = 0$. Published PINN relative L2 error: 6.7e-4.

Reference: the solution is odd in $x$ and 2-periodic, so the Dirichlet problem equals the
periodic one on $[-1, 1)$, solved here by a Fourier spectral method of lines with diffrax
(`fieldpde.reference.burgers`, 2048 modes, 1025 save times). Its error is ~1e-9 (the
1024-mode solution differs from the 4096-mode one by 1.2e-8). The solve takes ~10 s, so the
result is cached as netCDF in ``$FIELDPDE_CACHE`` (default ``~/.cache/fieldpde``), keyed by
its settings. The default 257-node output grid falls on reference nodes.

fieldpde solves it with Raissi et al.'s network, a tanh MLP (8 hidden layers of 20,
Glorot-normal weights, zero biases, 3021 parameters), on one fixed Sobol batch of 10 000
points, but under the hard transform $u = -\sin(\pi x) + t\,(1 - x^2)\,N(x, t)$, which
meets the initial and boundary data exactly, so only the PDE residual is trained, and with
dense SSBroyden (`fieldpde.train.SSBroyden`, float64) instead of L-BFGS. Some
initialisations stall in a smooth, shock-free basin (loss ~0.5), which shows within a few
hundred steps, so the default probes three initialisations for 300 steps each and trains
the best for the rest of the 2400 (`fieldpde.train.fit_best_of`, ``--starts 1`` for a
single start). `fieldpde solve burgers`, seeds 0, 1, 2 (2 cores shared with other jobs,
load average 5-9): relative L2 1.4e-5, 1.6e-6, 9.3e-6 in 536, 428, 384 s; 4000 steps
gave 5.5e-6 (seed 0) in 838 s. The previous default, L-BFGS for 6500 steps, gave 3.8e-4,
4.3e-4, 2.9e-4 in 415-776 s.
A SIREN (``activation="siren"``: 32x5, omega 4, Adam 1000 + L-BFGS 1000) reached 2.9e-2 in
29 min; see docs/benchmarks.md.
"""

import jax.numpy as jnp
import numpy as np

from fieldpde import SIREN, Problem
from fieldpde.app import Settings
from fieldpde.constraints import Dirichlet, HardDirichlet, Initial, Residual
from fieldpde.domains import Interval, SpaceTime, TimeInterval
from fieldpde.nn import MLP
from fieldpde.train import SSBroyden

NU = 0.01 / np.pi
DOMAIN = SpaceTime(Interval(-1.0, 1.0), TimeInterval(0.0, 1.0))

# Settings `fieldpde solve` uses unless overridden (see docs/benchmarks.md for what they reach).
# SSBroyden steps take 0.15-0.2 s each on 10 000 points on the shared machine; no Adam phase.
SETTINGS = Settings(
    phases=(SSBroyden(2400, points=10000, block=200),),
    points=4096,
    x64=True,
    grid=257,
    starts=3,
    probe_steps=300,
)


def initial(x):
    return -np.sin(np.pi * x)


def reference_dataset(modes: int = 2048, save_times: int = 1025):
    """The spectral reference as an xarray Dataset (computed once, then read from the cache)."""
    from fieldpde.reference import burgers, cached_dataset

    def solve():
        return burgers(
            initial,
            bounds=[(-1.0, 1.0)],
            shape=modes,
            times=np.linspace(0.0, 1.0, save_times),
            viscosity=NU,
            boundary="periodic",
            method="spectral",
            rtol=1e-10,
            atol=1e-12,
        )

    return cached_dataset("burgers", solve, nu=NU, modes=modes, times=save_times)


def reference():
    from fieldpde.reference import space_time_solution

    return space_time_solution(reference_dataset())


def residual(x, d):
    u, u_t, u_x, u_xx = d.value[0], d.grad[0, 1], d.grad[0, 0], d.laplacian[0]
    return u_t + u * u_x - NU * u_xx


def problem(points: int = SETTINGS.points, *, hard: bool = True) -> Problem:
    pde = Residual(residual, DOMAIN, num_points=points, method="sobol", laplacian_dims=(0,))
    # hard=False states the initial and boundary data as constraints too: the physics
    # alone, for the default recipe (benchmarks/accuracy.py --untuned) or a soft fit
    constraints = {"pde": pde}
    if not hard:
        n = max(points // 4, 64)
        constraints["initial"] = Initial(boundary, DOMAIN, num_points=n)
        constraints["walls"] = Dirichlet(0.0, DOMAIN, part="lateral", num_points=n)
    return Problem(constraints, reference=reference(), domain=DOMAIN, name="burgers")


def boundary(x):
    return -jnp.sin(jnp.pi * x[0])


def distance(x):
    return x[1] * (1.0 - x[0] ** 2)


def field(
    key,
    *,
    width=20,
    depth=9,
    activation="tanh",
    omega=4.0,
    dtype=None,
):
    """The hard-constrained field: an MLP (Glorot-normal init) or, with
    ``activation="siren"``, a SIREN with `omega`; `depth` counts the linear readout."""
    if activation == "siren":
        net = SIREN.init(
            2, width, 1, depth=depth, key=key, first_omega=omega, hidden_omega=omega, dtype=dtype
        )
        return HardDirichlet(net, boundary, distance)
    net = MLP.init(
        2, width, 1, depth=depth, key=key, activation=activation, dtype=dtype,
        init="glorot_normal",
    )  # fmt: skip
    return HardDirichlet(net, boundary, distance)
