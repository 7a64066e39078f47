r"""Poisson on an L-shaped domain: $-\Delta u = 1$ in $\Omega$, $u = 0$ on $\partial\Omega$.

$\Omega = [-1, 1]^2 \setminus (0, 1]^2$, whose re-entrant corner makes the solution
singular ($u \sim r^{2/3}$). No closed form exists; the reference is a second-order
finite-difference solution (`fieldpde.reference.poisson_fd`) on a 257 x 257 grid.
"""

import jax.numpy as jnp
import numpy as np

from fieldpde import SIREN, Problem
from fieldpde.app import Settings
from fieldpde.constraints import Dirichlet, Residual
from fieldpde.domains import Polygon

DOMAIN = Polygon([(-1.0, -1.0), (1.0, -1.0), (1.0, 0.0), (0.0, 0.0), (0.0, 1.0), (-1.0, 1.0)])

SETTINGS = Settings(
    steps=4000,
    learning_rate=2e-3,
    resample_every=100,
    lbfgs_steps=1000,
    lbfgs_points=4096,
    points=2048,
    x64=False,
    grid=129,
)


def reference(shape: int = 257):
    from fieldpde.reference import poisson_fd

    def inside(points):
        return np.asarray(DOMAIN.contains(jnp.asarray(points)))

    return poisson_fd(
        1.0, bounds=((-1.0, 1.0), (-1.0, 1.0)), shape=shape, boundary=0.0, inside=inside
    )


def problem(points: int = SETTINGS.points) -> Problem:
    pde = Residual(lambda x, d: d.laplacian + 1.0, DOMAIN, num_points=points, method="sobol")
    bc = Dirichlet(0.0, DOMAIN, num_points=max(points // 4, 64), method="sobol", weight=10.0)
    return Problem(
        {"pde": pde, "bc": bc}, reference=reference(), domain=DOMAIN, name="poisson_lshape"
    )


def field(key, *, width=64, depth=4, omega=3.0, dtype=None):
    return SIREN.init(
        2, width, 1, depth=depth, key=key, first_omega=omega, hidden_omega=omega, dtype=dtype
    )
