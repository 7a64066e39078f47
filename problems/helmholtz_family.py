r"""A Helmholtz family over the wavenumber: one surrogate for every $k \in [0.5, 2]$.

$\Delta u + k^2 u = q$ on $[-1, 1]^2$, $u = 0$ on the boundary, with an off-centre
Gaussian source $q(x) = -10\,e^{-|x - c|^2 / (2 \sigma^2)}$, $c = (0.3, -0.2)$,
$\sigma = 0.2$. The range stops below the first Dirichlet eigenvalue of $-\Delta$
($k^2 = \pi^2/2$, $k \approx 2.22$), where the problem has no solution; across it the
response of the lowest mode grows about fivefold, so the solutions change shape and size.

The default surrogate is a `BasisSurrogate` (NIF's last-layer form): a SIREN basis of
$(x, y)$, zero on the walls, whose coefficients for a given $k$ come from a parameter net.
It is trained physics-informed only (the PDE residual, no solution data), each step taking
the residual at every pair of 2048 points and 16 wavenumbers. A new $k$ is then answered
by a `ResidualProjection`: the coefficients are solved by least squares on the PDE
residual at 512 points (the equation is linear in $u$), and the field on a grid is one
matrix-vector product with the basis cached there. That is checked against the
finite-difference solution (`fieldpde.reference.helmholtz_fd`, 257^2 nodes) at held-out
wavenumbers and timed against the FD solve of a new $k$ on a 256x256 grid: about 1e-4
relative L2 and 130x faster (10 000 Adam steps, under a minute; docs/benchmarks.md).
``--coefficients net`` reads the coefficients off the parameter net instead (1-2e-2 near
the resonance); ``--model siren --coefficients net --pairs 0 --points 4096 --steps 4000
--lbfgs-steps 1000`` trains a plain SIREN over $(x, y, k)$ (2e-3 to 9.5e-3, 15x). The
script body is `fieldpde.problem.family_main`.

    python problems/helmholtz_family.py            # train, evaluate, save out/helmholtz_family.eqx
    python problems/helmholtz_family.py --steps 500   # a quick run
"""

import functools

import numpy as np

from fieldpde.app import FamilySettings, family_field, family_main
from fieldpde.constraints import Residual
from fieldpde.domains import Box
from fieldpde.problem import ParametricProblem

SPACE = Box([-1.0, -1.0], [1.0, 1.0])
PARAMETERS = Box([0.5], [2.0])
CENTRE, SIGMA, AMPLITUDE = (0.3, -0.2), 0.2, 10.0
HELD_OUT = (0.7, 1.3, 1.9)
QUERY = (1.55, 0.83, 1.21, 1.77, 0.64)
MODELS = ("siren", "basis")

SETTINGS = FamilySettings(
    steps=10000,
    learning_rate=2e-3,
    resample_every=50,
    lbfgs_steps=0,
    lbfgs_points=8192,
    points=2048,
    parameters_per_batch=16,
    model="basis",
    coefficients="projection",
    projection_points=512,
    fd_shape=257,
)


def source(x, y):
    """$q$ at coordinates `x`, `y` (arrays; works with numpy and jax)."""
    r2 = (x - CENTRE[0]) ** 2 + (y - CENTRE[1]) ** 2
    return -AMPLITUDE * np.e ** (-r2 / (2 * SIGMA**2))


def family(
    points: int = 2048,
    parameters_per_batch: int | None = 16,
) -> ParametricProblem:
    """The family as a `ParametricProblem`: points are ``(x, y, k)``.

    With `parameters_per_batch` each step draws that many wavenumbers and takes the
    residual at every (point, k) pair (cheap for ``model="basis"``).
    """

    def pde(p, d):
        k = p[2]
        # the source is O(10): scale the residual to O(1) for Adam's step size
        return 0.1 * (d.laplacian + k**2 * d.value - source(p[0], p[1]))

    return ParametricProblem(
        {"pde": Residual(pde, SPACE, num_points=points, method="sobol")},
        parameters=PARAMETERS,
        reference=reference,
        name="helmholtz_family",
        parameters_per_batch=parameters_per_batch,
    )


def field(
    key,
    *,
    model="basis",
    width=32,
    depth=4,
    omega=6.0,
    rank=32,
    dtype=None,
):
    """The initial surrogate, zero on the walls for every k.

    ``model="siren"``: a SIREN over ``(x, y, k)`` times the box distance;
    ``model="basis"``: a `BasisSurrogate` with `rank` basis functions of ``(x, y)`` and a
    parameter net over k (a new k on a seen grid is one matrix-vector product).
    """
    return family_field(
        key,
        model=model,
        space=SPACE,
        parameters=PARAMETERS,
        width=width,
        depth=depth,
        rank=rank,
        omega=omega,
        dtype=dtype,
    )


@functools.lru_cache(maxsize=16)
def _reference(k: float, shape: int):
    return solve((k,), shape)


def reference(mu, shape: int = 257):
    """The finite-difference solution for wavenumber ``mu[0]`` (cached)."""
    return _reference(float(np.atleast_1d(mu)[0]), int(shape))


def solve(mu, shape: int = 257):
    """The finite-difference solution (uncached) for wavenumber ``mu[0]`` on `shape`^2 nodes."""
    from fieldpde.reference import helmholtz_fd

    k = float(np.atleast_1d(mu)[0])
    return helmholtz_fd(source, k, bounds=((-1.0, 1.0), (-1.0, 1.0)), shape=int(shape))


def main(argv=None, *, out: str = "out"):
    """Train, save, reload, check at `HELD_OUT` and time a query; see the module docstring."""
    return family_main(
        argv,
        name="helmholtz_family",
        description=__doc__.splitlines()[0],
        family=family,
        field=field,
        solve=solve,
        held_out=HELD_OUT,
        query_mus=QUERY,
        settings=SETTINGS,
        models=MODELS,
        out=out,
    )


if __name__ == "__main__":
    main()
