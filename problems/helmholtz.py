r"""Helmholtz benchmark of Wang, Teng & Perdikaris (2021).

$\Delta u + k^2 u = q$ on $[-1, 1]^2$, $u = 0$ on the boundary, with the exact solution
$u = \sin(a_1 \pi x)\sin(a_2 \pi y)$, $a_1 = 1$, $a_2 = 4$, $k = 1$, so
$q = (k^2 - (a_1^2 + a_2^2)\pi^2)\,u$. Published relative L2 errors: plain PINN 7e-2,
learning-rate annealing 1.3e-3 after 40k steps.

fieldpde solves it with a SIREN (width 32, depth 4: 2241 parameters) under a hard
Dirichlet transform (the boundary holds exactly, only the PDE residual is trained), in
float64: Adam with a cosine decay, then dense SSBroyden on one batch of 4096 points.
`fieldpde solve helmholtz` reaches relative L2 1.9e-7 in 200 s on 2 shared cores (the
previous default, a width-64 SIREN in float32 with Adam 4000 + L-BFGS 2000, 3.0e-5; that
SIREN in float64 with Adam + SSBroyden, 1.9e-5 after 420 s: with 8577 parameters its
inverse Hessian made a step about 10x dearer, 0.4 s against 0.04 s).
See `benchmarks/optimizers.py`.
"""

import jax.numpy as jnp

from fieldpde import SIREN, Problem
from fieldpde.app import Settings
from fieldpde.constraints import Dirichlet, HardDirichlet, Residual
from fieldpde.domains import Box
from fieldpde.train import Adam, SSBroyden

A1, A2, K = 1.0, 4.0, 1.0
DOMAIN = Box([-1.0, -1.0], [1.0, 1.0])

# Settings `fieldpde solve` uses unless overridden on the command line.
SETTINGS = Settings(
    phases=(
        Adam(2000, learning_rate=2e-3, resample_every=100),
        SSBroyden(4000, points=4096, block=250),
    ),
    points=2048,
    x64=True,
    grid=201,
    field=dict(width=32),
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
