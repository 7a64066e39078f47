r"""Allen-Cahn: $u_t - 10^{-4} u_{xx} + 5u^3 - 5u = 0$, sharp interfaces forming and merging.

$x \in [-1, 1]$ periodic, $t \in [0, 1]$, $u(x, 0) = x^2 \cos(\pi x)$ (the benchmark of
Raissi et al. 2019 and jaxpi; jaxpi's full recipe reaches relative L2 5.8e-4).

Reference: a Fourier spectral method of lines with diffrax (`fieldpde.reference.allen_cahn`,
4096 modes, 201 save times, tolerances 1e-10/1e-12). The initial data are periodic but
not smoothly so ($u_0'(\pm 1) = \mp 2$), so the modes converge algebraically: the 512-,
1024- and 2048-mode solutions differ from the 4096-mode one by 1.1e-5, 3.4e-6 and 7.0e-7
(relative L2), i.e. the reference is good to about 2e-7. It is cached as netCDF in
``$FIELDPDE_CACHE`` (default ``~/.cache/fieldpde``), keyed by its settings; the default
513 x 201 output grid falls on reference nodes.

The field meets the initial data and the periodicity exactly:
$u = u_0(x) + t\,N(\cos \pi x, \sin \pi x, \dots, \cos K\pi x, \sin K\pi x, t)$ with a tanh
MLP $N$, so only the PDE residual is trained. Adam 1000 steps, then dense SSBroyden 4000
steps on one batch of 8192 points, float64: `fieldpde solve allen_cahn` reaches relative
L2 5.5e-4 in 386 s (2 cores shared with other jobs, load average 8-9).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from fieldpde import Problem
from fieldpde.app import Settings
from fieldpde.constraints import HardDirichlet, Residual
from fieldpde.domains import Interval, SpaceTime, TimeInterval
from fieldpde.nn import MLP
from fieldpde.ops import Jet
from fieldpde.train import Adam, SSBroyden

EPSILON, KAPPA = 1e-4, 5.0
DOMAIN = SpaceTime(Interval(-1.0, 1.0), TimeInterval(0.0, 1.0))
MODES, SAVE_TIMES = 4096, 201

SETTINGS = Settings(
    phases=(Adam(1000, learning_rate=2e-3), SSBroyden(4000, points=8192, block=500)),
    points=4096,
    x64=True,
    grid=(513, 201),
)


def initial(x):
    return x**2 * np.cos(np.pi * x)


def reference_dataset(modes: int = MODES, save_times: int = SAVE_TIMES):
    """The spectral reference as an xarray Dataset (computed once, then read from the cache)."""
    from fieldpde.reference import allen_cahn, cached_dataset

    def solve():
        return allen_cahn(
            initial,
            bounds=[(-1.0, 1.0)],
            shape=modes,
            times=np.linspace(0.0, 1.0, save_times),
            diffusivity=EPSILON,
            reaction=KAPPA,
            rtol=1e-10,
            atol=1e-12,
        )

    key = dict(eps=EPSILON, k=KAPPA, modes=modes, times=save_times)
    return cached_dataset("allen_cahn", solve, **key)


def reference():
    from fieldpde.reference import space_time_solution

    return space_time_solution(reference_dataset())


def residual(x, d):
    u, u_t, u_xx = d.value[0], d.grad[0, 1], d.laplacian[0]
    return u_t - EPSILON * u_xx + KAPPA * (u**3 - u)


def problem(points: int = SETTINGS.points) -> Problem:
    pde = Residual(residual, DOMAIN, num_points=points, method="sobol", laplacian_dims=(0,))
    return Problem({"pde": pde}, reference=reference(), domain=DOMAIN, name="allen_cahn")


class PeriodicMLP(eqx.Module):
    """$N(\\cos k\\pi x, \\sin k\\pi x\\ (k = 1..K), t)$: an MLP of a periodic embedding."""

    mlp: MLP
    harmonics: int = eqx.field(static=True)

    def embed(self, p):
        k = jnp.arange(1, self.harmonics + 1, dtype=p.dtype) * jnp.pi
        return jnp.concatenate([jnp.cos(k * p[0]), jnp.sin(k * p[0]), p[1:2]])

    def __call__(self, x):
        flat = x.reshape((-1, x.shape[-1]))
        out = self.mlp(jax.vmap(self.embed)(flat))
        return out.reshape(x.shape[:-1] + out.shape[-1:])

    def forward_laplacian(self, jet: Jet) -> Jet:
        return self.mlp.forward_laplacian(jet.pointwise(self.embed))


def boundary(p):
    return p[0] ** 2 * jnp.cos(jnp.pi * p[0])


def time_factor(p):
    return p[1]


def field(key, *, width=32, depth=4, harmonics=1, dtype=None):
    """$u_0(x) + t\\,N$ with a tanh MLP $N$ (`depth` counts the linear readout)."""
    net = MLP.init(
        2 * harmonics + 1, width, 1, depth=depth, key=key, activation="tanh", dtype=dtype
    )
    return HardDirichlet(PeriodicMLP(net, harmonics), boundary, time_factor)
