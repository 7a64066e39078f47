r"""Helmholtz benchmark of Wang, Teng & Perdikaris (2021).

$\Delta u + k^2 u = q$ on $[-1, 1]^2$, $u = 0$ on the boundary, with the exact solution
$u = \sin(a_1 \pi x)\sin(a_2 \pi y)$, $a_1 = 1$, $a_2 = 4$, $k = 1$, so
$q = (k^2 - (a_1^2 + a_2^2)\pi^2)\,u$. Published relative L2 errors: plain PINN 7e-2,
learning-rate annealing 1.3e-3 after 40k steps.

fieldpde solves it with a SIREN under a hard Dirichlet transform (the boundary holds
exactly, only the PDE residual is trained), Adam with a cosine decay, then L-BFGS.
"""

import jax.numpy as jnp

from fieldpde import SIREN, Problem
from fieldpde.app import Settings
from fieldpde.constraints import Dirichlet, HardDirichlet, Residual
from fieldpde.domains import Box

A1, A2, K = 1.0, 4.0, 1.0
DOMAIN = Box([-1.0, -1.0], [1.0, 1.0])

# Settings `fieldpde solve` uses unless overridden on the command line.
SETTINGS = Settings(
    steps=4000,
    learning_rate=2e-3,
    resample_every=100,
    lbfgs_steps=2000,
    lbfgs_points=4096,
    points=2048,
    x64=False,
    grid=201,
)


def exact(x):
    return jnp.sin(A1 * jnp.pi * x[0]) * jnp.sin(A2 * jnp.pi * x[1])


def source(x):
    return (K**2 - (A1**2 + A2**2) * jnp.pi**2) * exact(x)


def problem(points: int = SETTINGS.points, *, hard: bool = True) -> Problem:
    # dividing by (a1^2 + a2^2) pi^2 keeps the residual O(1), which suits Adam's step size
    scale = 1.0 / ((A1**2 + A2**2) * jnp.pi**2)
    pde = Residual(
        lambda x, d: scale * (d.laplacian + K**2 * d.value - source(x)),
        DOMAIN,
        num_points=points,
        method="sobol",
    )
    # hard=False states the boundary data as a constraint too: the physics alone, for the
    # default recipe (benchmarks/accuracy.py --untuned) or a soft fit
    constraints = {"pde": pde}
    if not hard:
        constraints["bc"] = Dirichlet(0.0, DOMAIN, num_points=max(points // 4, 64))
    return Problem(constraints, exact=exact, domain=DOMAIN, name="helmholtz")


def field(key, *, width=64, depth=4, omega=10.0, dtype=None):
    net = SIREN.init(
        2, width, 1, depth=depth, key=key, first_omega=omega, hidden_omega=omega, dtype=dtype
    )
    return HardDirichlet.on(DOMAIN, net, boundary=0.0)
