r"""Method-of-lines reference for a reaction-diffusion equation: Allen-Cahn.

The grids, spatial differences (second-order finite differences or Fourier spectral),
time stepping (diffrax) and output Dataset are those of the other method-of-lines solvers
(see `fieldpde.reference.heat`); only the right-hand side differs.
"""

from collections.abc import Sequence
from typing import Any

from ._time_stepping import (
    Boundary,
    Method,
    _common,
    _dataset,
    _Grid,
    _positive,
    _solve_pinned,
)


def allen_cahn(
    initial: Any,
    *,
    bounds: Sequence[Sequence[float]],
    shape: int | Sequence[int],
    times: Sequence[float],
    diffusivity: float = 1e-4,
    reaction: float = 5.0,
    boundary: Boundary = "periodic",
    boundary_value: Any = 0.0,
    method: Method = "spectral",
    t0: float | None = None,
    solver: Any = None,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_steps: int = 1_000_000,
):
    r"""Allen-Cahn $u_t = \varepsilon \Delta u + \kappa (u - u^3)$ in 1-D or 2-D.

    The reaction drives $u$ to the stable states $\pm 1$ at the rate $2\kappa$; the
    diffusion $\varepsilon$ sets the width $\sim\sqrt{\varepsilon / \kappa}$ of the
    interfaces between them (0.0045 for the benchmark values $\varepsilon = 10^{-4}$,
    $\kappa = 5$, so resolve them with a fine grid: 1024 or more Fourier modes on an
    interval of length 2). The cubic term is evaluated on the nodes (collocation, no
    dealiasing).

    Args:
        initial, bounds, shape, times, boundary_value: as for `heat`.
        t0, solver, rtol, atol, max_steps: as for `heat`.
        diffusivity: $\varepsilon > 0$.
        reaction: $\kappa > 0$.
        boundary: ``"periodic"`` (default) or ``"dirichlet"``.
        method: ``"spectral"`` (default, periodic only) or ``"fd"``.

    Returns:
        An `xarray.Dataset` with ``u`` on dims ``("time", "x"[, "y"])``.

    Example:
        Without diffusion a constant state follows the logistic-like ODE
        $u' = \kappa(u - u^3)$, whose solution from $u_0$ is
        $u = u_0 e^{\kappa t} / \sqrt{1 + u_0^2 (e^{2\kappa t} - 1)}$:

        >>> import numpy as np
        >>> ds = allen_cahn(0.5, bounds=[(-1.0, 1.0)], shape=16, times=[0.0, 0.2],
        ...                 diffusivity=1e-12, reaction=5.0)
        >>> e = np.exp(5.0 * 0.2)
        >>> exact = 0.5 * e / np.sqrt(1 + 0.25 * (e**2 - 1))
        >>> float(abs(ds.u.isel(time=-1) - exact).max()) < 1e-7
        True
    """
    eps = _positive("diffusivity", diffusivity)
    kappa = _positive("reaction", reaction)
    grid = _Grid(bounds, shape, boundary, method, max_dim=2)
    t0 = grid.start(t0)
    save_times, u0 = _common(grid, initial, times, t0)

    def interior(u):
        return eps * grid.laplacian(u) + kappa * (u - u**3)

    ys, stats = _solve_pinned(
        grid, boundary_value, interior, u0, save_times, t0,
        solver=solver, rtol=rtol, atol=atol, max_steps=max_steps,
    )  # fmt: skip
    return _dataset(
        grid,
        save_times,
        {"u": (ys, "phase field")},
        equation="allen_cahn",
        attrs={"diffusivity": eps, "reaction": kappa, "t0": float(t0)},
        stats=stats,
    )
