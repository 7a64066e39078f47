r"""PINNacle's Poisson 2d-C (Hao et al., NeurIPS 2024): Laplace's equation around four holes.

$\Delta u = 0$ on $[-0.5, 0.5]^2$ minus the disks of radius 0.1 centred at
$(\pm 0.3, \pm 0.3)$; $u = 1$ on the square's sides and $u = 0$ on the four circles.
The reference is PINNacle's COMSOL solution (``poisson1_cg_data.dat``, 1246 nodes), read
from ``$FIELDPDE_PINNACLE`` (default: ``shared/pinnacle`` beside the repository); the error
is PINNacle's L2RE at those nodes. PINNacle's best published method reaches 1.23e-2.

The file states the physics only: `fieldpde solve` chooses the network, the hard
enforcement of both Dirichlet conditions, the points and the training (the default recipe).
"""

import os
from pathlib import Path

from fieldpde import Problem
from fieldpde.constraints import Dirichlet, Residual
from fieldpde.domains import Box, Difference, Disk

DOMAIN = Difference(
    Box([-0.5, -0.5], [0.5, 0.5]),
    [Disk((sx * 0.3, sy * 0.3), 0.1) for sx in (-1.0, 1.0) for sy in (-1.0, 1.0)],
)


def reference():
    from fieldpde.reference import read_comsol

    folder = os.environ.get("FIELDPDE_PINNACLE")
    root = Path(folder) if folder else Path(__file__).resolve().parents[2] / "shared" / "pinnacle"
    path = root / "poisson1_cg_data.dat"
    return read_comsol(path, domain=DOMAIN) if path.exists() else None


def problem(points: int = 2048) -> Problem:
    pde = Residual(lambda x, d: d.laplacian, DOMAIN, num_points=points)
    sides = Dirichlet(1.0, DOMAIN, part="outer", num_points=max(points // 4, 64))
    holes = Dirichlet(0.0, DOMAIN, part="holes", num_points=max(points // 4, 64))
    return Problem(
        {"pde": pde, "sides": sides, "holes": holes},
        reference=reference(),
        domain=DOMAIN,
        name="poisson_2d_c",
    )
