r"""Poisson with a smooth exact solution: $-\Delta u = 2\pi^2 \sin(\pi x)\sin(\pi y)$ on $[0,1]^2$.

$u = 0$ on the boundary; exact $u = \sin(\pi x) \sin(\pi y)$. Solved in float64 with a hard
Dirichlet transform, Adam, then dense SSBroyden on one batch of 2048 points: relative L2
9.8e-11 in 52 s (`fieldpde solve poisson_sinsin`, 2 shared cores; Adam + 2000 L-BFGS steps
gave 1.9e-7). See `benchmarks/optimizers.py`.
"""

import jax.numpy as jnp

from fieldpde import SIREN, Problem
from fieldpde.app import Settings
from fieldpde.constraints import Dirichlet, HardDirichlet, Residual
from fieldpde.domains import Box
from fieldpde.train import Adam, SSBroyden

DOMAIN = Box([0.0, 0.0], [1.0, 1.0])

SETTINGS = Settings(
    phases=(
        Adam(2000, learning_rate=2e-3, resample_every=100),
        SSBroyden(2000, points=2048, block=500),
    ),
    points=1024,
    x64=True,
    grid=101,
)


def exact(x):
    return jnp.sin(jnp.pi * x[0]) * jnp.sin(jnp.pi * x[1])


def problem(points: int = SETTINGS.points, *, hard: bool = True) -> Problem:
    pde = Residual(
        lambda x, d: (d.laplacian + 2 * jnp.pi**2 * exact(x)) / (2 * jnp.pi**2),
        DOMAIN,
        num_points=points,
        method="sobol",
    )
    # hard=False states the boundary data as a constraint too: the physics alone, for the
    # default recipe (benchmarks/accuracy.py --untuned) or a soft fit
    constraints = {"pde": pde}
    if not hard:
        constraints["bc"] = Dirichlet(0.0, DOMAIN, num_points=max(points // 4, 64))
    return Problem(constraints, exact=exact, domain=DOMAIN, name="poisson_sinsin")


def field(key, *, width=32, depth=3, omega=2.0, dtype=None):
    net = SIREN.init(
        2, width, 1, depth=depth, key=key, first_omega=omega, hidden_omega=omega, dtype=dtype
    )
    return HardDirichlet.on(DOMAIN, net, boundary=0.0)
