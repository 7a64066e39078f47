r"""The 1-D wave equation with an exact standing-wave solution.

$u_{tt} = c^2 u_{xx}$ on $x \in [0, 1]$, $t \in [0, 1]$, $c = 1$, $u(0, t) = u(1, t) = 0$,
$u(x, 0) = \sin(\pi x) + \tfrac12 \sin(3\pi x)$, $u_t(x, 0) = 0$, so

$$u(x, t) = \sin(\pi x)\cos(\pi c t) + \tfrac12 \sin(3\pi x)\cos(3\pi c t).$$

fieldpde solves it with a SIREN under a hard Dirichlet transform in $x$, an `Initial`
constraint on both $u$ and $u_t$, and the residual $u_{tt} - c^2 u_{xx}$ (both second
derivatives are the diagonal of the space-time Hessian), in float64 with Adam and L-BFGS.
"""

import jax.numpy as jnp

from fieldpde import SIREN, Problem
from fieldpde.app import Settings
from fieldpde.constraints import HardDirichlet, Initial, Residual
from fieldpde.domains import Interval, SpaceTime, TimeInterval
from fieldpde.ops import hessian

C = 1.0
DOMAIN = SpaceTime(Interval(0.0, 1.0), TimeInterval(0.0, 1.0))

SETTINGS = Settings(
    steps=3000,
    learning_rate=2e-3,
    resample_every=100,
    lbfgs_steps=2000,
    lbfgs_points=2048,
    points=1024,
    x64=True,
    grid=101,
)


def initial(x):
    return jnp.sin(jnp.pi * x[0]) + 0.5 * jnp.sin(3 * jnp.pi * x[0])


def exact(x):
    s, t = x[0], x[1]
    return jnp.sin(jnp.pi * s) * jnp.cos(jnp.pi * C * t) + 0.5 * jnp.sin(3 * jnp.pi * s) * jnp.cos(
        3 * jnp.pi * C * t
    )


def residual(x, u):
    h = hessian(lambda p: u(p)[0])(x)
    # divided by (3 pi)^2, the largest mode's frequency squared, to keep the residual O(1)
    return (h[1, 1] - C**2 * h[0, 0]) / (3 * jnp.pi) ** 2


def problem(points: int = SETTINGS.points) -> Problem:
    pde = Residual(residual, DOMAIN, num_points=points, method="sobol", uses="field")
    ic = Initial(initial, DOMAIN, velocity=0.0, num_points=max(points // 4, 64), weight=10.0)
    return Problem({"pde": pde, "initial": ic}, exact=exact, domain=DOMAIN, name="wave")


def distance(x):
    return 4.0 * x[0] * (1.0 - x[0])


def field(key, *, width=48, depth=3, omega=3.0, dtype=None):
    net = SIREN.init(
        2, width, 1, depth=depth, key=key, first_omega=omega, hidden_omega=omega, dtype=dtype
    )
    return HardDirichlet(net, 0.0, distance)
