r"""PINNacle's Burgers 1d-C: viscous Burgers with a shock forming at $x = 0$.

$u_t + u u_x = \nu u_{xx}$, $\nu = 0.01/\pi$, on $x \in [-1, 1]$, $t \in [0, 1]$, with
$u(x, 0) = -\sin(\pi x)$ and $u(\pm 1, t) = 0$. The reference is PINNacle's COMSOL solution
(``burgers1d.dat``: 101 nodes in $x$ at 11 times), read from ``$FIELDPDE_PINNACLE``
(default: ``shared/pinnacle`` beside the repository); the error is PINNacle's L2RE at those
nodes. PINNacle's vanilla PINN and best method both reach 1.45e-2. The nodes themselves
are 1.33e-2 from a 2048-mode Fourier spectral solution (`fieldpde.reference.burgers`, as
``problems/burgers.py`` uses it), so about 1.3e-2 is the floor of an error measured there;
``benchmarks/pinnacle.py`` also reports the error against the spectral solution.

The file states the physics only: `fieldpde solve` chooses everything else. (The tuned
`problems/burgers.py` solves the same equation against a spectral reference.)
"""

import os
from pathlib import Path

import jax.numpy as jnp

from fieldpde import Problem
from fieldpde.constraints import Dirichlet, Initial, Residual
from fieldpde.domains import Interval, SpaceTime, TimeInterval

NU = 0.01 / jnp.pi
DOMAIN = SpaceTime(Interval(-1.0, 1.0), TimeInterval(0.0, 1.0))


def reference():
    from fieldpde.reference import read_comsol

    folder = os.environ.get("FIELDPDE_PINNACLE")
    root = Path(folder) if folder else Path(__file__).resolve().parents[2] / "shared" / "pinnacle"
    path = root / "burgers1d.dat"
    return read_comsol(path, domain=DOMAIN) if path.exists() else None


def residual(x, d):
    u, u_x, u_t, u_xx = d.value[0], d.grad[0, 0], d.grad[0, 1], d.laplacian[0]
    return u_t + u * u_x - NU * u_xx


def problem(points: int = 4096) -> Problem:
    pde = Residual(residual, DOMAIN, num_points=points, laplacian_dims=(0,))
    initial = Initial(lambda x: -jnp.sin(jnp.pi * x[0]), DOMAIN, num_points=max(points // 4, 64))
    walls = Dirichlet(0.0, DOMAIN, part="lateral", num_points=max(points // 4, 64))
    return Problem(
        {"pde": pde, "initial": initial, "walls": walls},
        reference=reference(),
        domain=DOMAIN,
        name="burgers_1d_c",
    )
