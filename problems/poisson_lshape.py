r"""Poisson on an L-shaped domain: $-\Delta u = 1$ in $\Omega$, $u = 0$ on $\partial\Omega$.

$\Omega = [-1, 1]^2 \setminus (0, 1]^2$, whose re-entrant corner makes the solution
singular ($u \sim r^{2/3}$). No closed form exists; the reference is a second-order
finite-difference solution (`fieldpde.reference.poisson_fd`) on a 257 x 257 grid.

The file states only the physics: the default recipe (`fieldpde.app.choose`) holds the
boundary data exactly with a distance weighted to vanish like $r^{2/3}$ at the inner
corner (`fieldpde.constraints.SingularCorners`), and trains a float64 SIREN 32x4 with Adam
then SSBroyden. `fieldpde solve poisson_lshape` reaches relative L2 1.3e-3 against the FD
reference (the file's earlier settings, a soft boundary term on a float32 SIREN 64x4 with
Adam + L-BFGS, 4.6e-2; a hard field with the plain distance, 0.36).
"""

import jax.numpy as jnp
import numpy as np

from fieldpde import Problem
from fieldpde.app import Settings
from fieldpde.constraints import Dirichlet, Residual
from fieldpde.domains import Polygon

DOMAIN = Polygon([(-1.0, -1.0), (1.0, -1.0), (1.0, 0.0), (0.0, 0.0), (0.0, 1.0), (-1.0, 1.0)])

# grid of the output (the FD reference is on 257 x 257 nodes); the rest is the recipe's
SETTINGS = Settings(grid=129)


def reference(shape: int = 257):
    from fieldpde.reference import poisson_fd

    def inside(points):
        return np.asarray(DOMAIN.contains(jnp.asarray(points)))

    return poisson_fd(
        1.0, bounds=((-1.0, 1.0), (-1.0, 1.0)), shape=shape, boundary=0.0, inside=inside
    )


def problem(points: int = 2048) -> Problem:
    pde = Residual(lambda x, d: d.laplacian + 1.0, DOMAIN, num_points=points, method="sobol")
    bc = Dirichlet(0.0, DOMAIN, num_points=max(points // 4, 64), method="sobol", weight=10.0)
    return Problem(
        {"pde": pde, "bc": bc}, reference=reference(), domain=DOMAIN, name="poisson_lshape"
    )
