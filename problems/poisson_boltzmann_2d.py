r"""PINNacle's Poisson 2d-CG (Poisson-Boltzmann): a screened Poisson equation around holes.

$-\Delta u + k^2 u = f$ on $[-1, 1]^2$ minus the disks (centre, radius)
$((0.5, 0.5), 0.2)$, $((0.4, -0.4), 0.4)$, $((-0.2, -0.7), 0.1)$, $((-0.6, 0.5), 0.3)$,
with $k = 8$ and $f = A(\mu_1^2 + x^2 + \mu_2^2 + y^2) \sin(\mu_1 \pi x) \sin(\mu_2 \pi y)$,
$A = 10$, $\mu = (1, 4)$; $u = 0.2$ on the square's sides and $u = 1$ on the circles.
The reference is PINNacle's COMSOL solution (``poisson_boltzmann2d.dat``, 3236 nodes), read
from ``$FIELDPDE_PINNACLE`` (default: ``shared/pinnacle`` beside the repository); the error
is PINNacle's L2RE at those nodes. PINNacle's best published method reaches 1.43e-2.

The file states the physics only: `fieldpde solve` chooses everything else.
"""

import os
from pathlib import Path

import jax.numpy as jnp

from fieldpde import Problem
from fieldpde.constraints import Dirichlet, Residual
from fieldpde.domains import Box, Difference, Disk

K, A, MU = 8.0, 10.0, (1.0, 4.0)
HOLES = [((0.5, 0.5), 0.2), ((0.4, -0.4), 0.4), ((-0.2, -0.7), 0.1), ((-0.6, 0.5), 0.3)]
DOMAIN = Difference(Box([-1.0, -1.0], [1.0, 1.0]), [Disk(c, r) for c, r in HOLES])


def source(x):
    return (
        A
        * (MU[0] ** 2 + x[0] ** 2 + MU[1] ** 2 + x[1] ** 2)
        * jnp.sin(MU[0] * jnp.pi * x[0])
        * jnp.sin(MU[1] * jnp.pi * x[1])
    )


def reference():
    from fieldpde.reference import read_comsol

    folder = os.environ.get("FIELDPDE_PINNACLE")
    root = Path(folder) if folder else Path(__file__).resolve().parents[2] / "shared" / "pinnacle"
    path = root / "poisson_boltzmann2d.dat"
    return read_comsol(path, domain=DOMAIN) if path.exists() else None


def problem(points: int = 2048) -> Problem:
    pde = Residual(
        lambda x, d: -d.laplacian + K**2 * d.value - source(x), DOMAIN, num_points=points
    )
    sides = Dirichlet(0.2, DOMAIN, part="outer", num_points=max(points // 4, 64))
    holes = Dirichlet(1.0, DOMAIN, part="holes", num_points=max(points // 4, 64))
    return Problem(
        {"pde": pde, "sides": sides, "holes": holes},
        reference=reference(),
        domain=DOMAIN,
        name="poisson_boltzmann_2d",
    )
