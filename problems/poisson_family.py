r"""A Poisson family over the source position: one surrogate for every centre $c \in [-0.5, 0.5]^2$.

$-\Delta u = f$ on $[-1, 1]^2$, $u = 0$ on the boundary, with a Gaussian source
$f(x) = 10\,e^{-|x - c|^2 / (2 \sigma^2)}$, $\sigma = 0.25$, whose centre $\mu = c$ is the
parameter. Moving a bump is not a low-rank family, but the solution operator smooths it:
the best rank-32 linear basis of 300 FD snapshots reaches about 8e-4 relative L2 on new
centres (rank 24: 3.5e-3, rank 16: 1.5e-2).

The default surrogate is a `BasisSurrogate` (NIF's last-layer form): a SIREN over $(x, y)$
gives a basis $\phi_r$ and a tanh MLP over $\mu$ its coefficients, under the hard
Dirichlet factor $D(x, y)$, so on a grid seen before a new $\mu$ costs one small MLP call and
a matrix-vector product. It is trained physics-informed (the PDE residual only, no solution
data): each step draws 2048 points and 32 centres and takes the residual at all 65536 pairs
(`fieldpde.problem.WithParameterPairs`; the basis is differentiated once per point),
10 000 Adam steps (107 s). A new centre is answered by a `ResidualProjection`: the
coefficients are solved by least squares on the (linear) PDE residual at 512 points, then
one product with the basis cached on the grid. It is checked against the finite-difference
solution (`fieldpde.reference.poisson_fd`, 257^2 nodes) at held-out centres (1.2e-3,
2.6e-3, 3.0e-3; the parameter net's own coefficients: 5.2e-3, 1.4e-2, 1.2e-2), and its
256x256-grid answer for a new centre is timed against the FD solve (156x).
``--coefficients net`` uses the parameter net (the former default, 3000 Adam + 5000 L-BFGS
steps, reached 4.5e-3 to 8.0e-3). ``--model siren --coefficients net`` trains a plain
SIREN over $(x, y, \mu)$ instead (slow with pairs: each pair is then a full network
evaluation; ``--pairs 0`` draws one centre per point).

    python problems/poisson_family.py            # train, evaluate, save out/poisson_family.eqx
    python problems/poisson_family.py --steps 300   # a quick run
"""

import functools

import numpy as np

from fieldpde.app import FamilySettings, family_field, family_main
from fieldpde.constraints import Residual
from fieldpde.domains import Box
from fieldpde.problem import ParametricProblem

SPACE = Box([-1.0, -1.0], [1.0, 1.0])
PARAMETERS = Box([-0.5, -0.5], [0.5, 0.5])
SIGMA, AMPLITUDE = 0.25, 10.0
HELD_OUT = ((0.1, -0.2), (-0.35, 0.3), (0.42, 0.05))
QUERY = ((0.21, 0.13), (-0.12, 0.33), (0.37, -0.41), (-0.44, -0.06), (0.03, 0.27))
MODELS = ("basis", "siren")

SETTINGS = FamilySettings(
    steps=10000,
    learning_rate=2e-3,
    resample_every=50,
    lbfgs_steps=0,
    lbfgs_points=2048,
    points=2048,
    parameters_per_batch=32,
    model="basis",
    coefficients="projection",
    projection_points=512,
    fd_shape=257,
)


def source(x, y, mu):
    """$f$ at coordinates `x`, `y` for centre ``mu = (cx, cy)`` (numpy or jax)."""
    r2 = (x - mu[0]) ** 2 + (y - mu[1]) ** 2
    return AMPLITUDE * np.e ** (-r2 / (2 * SIGMA**2))


def solve(mu, shape: int = 257):
    """The finite-difference solution (a `GridSolution`) for centre `mu` on `shape`^2 nodes."""
    from fieldpde.reference import poisson_fd

    mu = tuple(float(v) for v in np.atleast_1d(mu))
    return poisson_fd(
        lambda x, y: source(x, y, mu), bounds=((-1.0, 1.0), (-1.0, 1.0)), shape=int(shape)
    )


@functools.lru_cache(maxsize=16)
def _reference(mu: tuple, shape: int):
    return solve(mu, shape)


def reference(mu, shape: int = 257):
    """`solve`, cached per ``(mu, shape)``."""
    return _reference(tuple(float(v) for v in np.atleast_1d(mu)), int(shape))


def family(
    points: int = 2048,
    parameters_per_batch: int | None = 32,
) -> ParametricProblem:
    """The family as a `ParametricProblem`: points are ``(x, y, cx, cy)``.

    Each step draws `points` space points and `parameters_per_batch` centres and evaluates
    the residual at every pair (``None``: one centre per point).
    """

    def pde(p, d):
        # the source is O(10): scale the residual to O(1) for Adam's step size
        return 0.1 * (d.laplacian + source(p[0], p[1], p[2:]))

    return ParametricProblem(
        {"pde": Residual(pde, SPACE, num_points=points, method="sobol")},
        parameters=PARAMETERS,
        reference=reference,
        name="poisson_family",
        parameters_per_batch=parameters_per_batch,
    )


def field(
    key,
    *,
    model="basis",
    width=64,
    depth=4,
    rank=32,
    omega=4.0,
    dtype=None,
):
    """The initial surrogate, zero on the walls for every centre.

    ``model="basis"``: a `BasisSurrogate` with `rank` basis functions (fast grid queries);
    ``model="siren"``: a SIREN over ``(x, y, cx, cy)`` times the box distance.
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


def main(argv=None, *, out: str = "out"):
    """Train, save, reload, check at `HELD_OUT` and time a query; see the module docstring."""
    return family_main(
        argv,
        name="poisson_family",
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
