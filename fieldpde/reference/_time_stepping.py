r"""Method-of-lines reference solvers for time-dependent PDEs, integrated with diffrax.

Space is discretised on a uniform grid, time by an adaptive diffrax solver (Tsit5 with a
PID step-size controller by default) that saves the solution at the requested times.

Grids: ``boundary="dirichlet"`` puts nodes on both ends of each axis,
$x_j = a + j h$, $h = (b - a)/(N - 1)$, $j = 0, \dots, N-1$, and holds the boundary nodes at
the Dirichlet data. ``boundary="periodic"`` uses $N$ nodes with $h = (b - a)/N$; the node at
$b$ is the node at $a$ and is left out.

Space: ``method="fd"`` uses second-order central differences,
$\partial_x u \approx (u_{j+1} - u_{j-1})/(2h)$ and
$\partial_x^2 u \approx (u_{j+1} - 2u_j + u_{j-1})/h^2$, so the error is $O(h^2)$;
``method="spectral"`` (periodic grids only) differentiates the Fourier interpolant exactly
(FFT), with an error that falls faster than any power of $h$ for smooth solutions.

Everything is computed in float64 whatever the process-wide JAX setting. Callables receive
one coordinate array per spatial axis (``f(x)`` or ``f(x, y)``, broadcastable arrays) and must
be written with ``jax.numpy`` where they depend on time (boundary data ``g(x, t)``).
"""

from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any, Literal, TypeAlias

import jax
import jax.numpy as jnp
import numpy as np

from ._grid import call_on_grid, check_bounds, domain_bounds
from ._solution import GridSolution

Boundary: TypeAlias = Literal["dirichlet", "periodic"]
Method: TypeAlias = Literal["fd", "spectral"]
_AXES = ("x", "y", "z")


class _Grid:
    """A uniform grid with its boundary kind and spatial differences (host-side helper)."""

    def __init__(self, bounds, shape, boundary: str, method: str, *, max_dim: int):
        bounds, mask, self.domain = domain_bounds(bounds)
        if mask is not None:
            raise ValueError(
                "`bounds` must be a box (Interval, Box, or a SpaceTime over one) for a "
                f"method-of-lines solve, got {type(self.domain).__name__}"
            )
        self.bounds = check_bounds(bounds)
        d = len(self.bounds)
        if d > max_dim:
            raise ValueError(
                f"`bounds` must describe at most {max_dim} spatial axes for this equation, "
                f"got {d} (lo, hi) pairs"
            )
        if boundary not in ("dirichlet", "periodic"):
            raise ValueError(f"`boundary` must be 'dirichlet' or 'periodic', got {boundary!r}")
        if method not in ("fd", "spectral"):
            raise ValueError(f"`method` must be 'fd' or 'spectral', got {method!r}")
        if method == "spectral" and boundary != "periodic":
            raise ValueError(
                "`method`='spectral' needs `boundary`='periodic' (a Fourier basis is periodic); "
                "use method='fd' for Dirichlet boundaries"
            )
        if isinstance(shape, int | np.integer) and not isinstance(shape, bool):
            shape = (int(shape),) * d
        if isinstance(shape, str) or not isinstance(shape, Sequence) or len(shape) != d:
            raise ValueError(
                f"`shape` must be an int or one int per axis ({d} for these `bounds`), "
                f"got {shape!r}"
            )
        minimum = 4 if boundary == "periodic" else 3
        for i, n in enumerate(shape):
            if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < minimum:
                raise ValueError(
                    f"`shape[{i}]` must be an integer >= {minimum} (nodes along axis {i}), "
                    f"got {n!r}"
                )
        self.shape = tuple(int(n) for n in shape)
        self.boundary = boundary
        self.method = method
        self.periodic = boundary == "periodic"
        if self.periodic:
            self.coords = tuple(
                lo + (hi - lo) * np.arange(n) / n
                for (lo, hi), n in zip(self.bounds, self.shape, strict=True)
            )
            self.h = tuple(
                (hi - lo) / n for (lo, hi), n in zip(self.bounds, self.shape, strict=True)
            )
        else:
            self.coords = tuple(
                np.linspace(lo, hi, n) for (lo, hi), n in zip(self.bounds, self.shape, strict=True)
            )
            self.h = tuple(
                (hi - lo) / (n - 1) for (lo, hi), n in zip(self.bounds, self.shape, strict=True)
            )
        self.edge = np.zeros(self.shape, dtype=bool)
        if not self.periodic:
            for axis in range(d):
                index = [slice(None)] * d
                for end in (0, -1):
                    index[axis] = end
                    self.edge[tuple(index)] = True

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def start(self, t0: float | None) -> float:
        """The initial time: `t0`, else the start of a `SpaceTime` domain's time, else 0."""
        from ..domains import SpaceTime

        if t0 is not None:
            return float(t0)
        return float(self.domain.time.t0) if isinstance(self.domain, SpaceTime) else 0.0

    def mesh(self) -> tuple[np.ndarray, ...]:
        return tuple(np.meshgrid(*self.coords, indexing="ij"))

    def nodes(self, name: str, data: Any) -> np.ndarray:
        """Node values of a number, an array of the grid's shape, or a callable."""
        if callable(data):
            with jax.enable_x64(True):
                values = np.asarray(call_on_grid(name, data, self.coords), dtype=np.float64)
        elif isinstance(data, Real) and not isinstance(data, bool):
            values = np.full(self.shape, float(data))
        else:
            values = np.asarray(data, dtype=np.float64)
        values = np.broadcast_to(values, self.shape) if values.ndim == 0 else values
        if values.shape != self.shape:
            raise ValueError(
                f"`{name}` must give one value per grid node, shape {self.shape} "
                f"({self.boundary} grid), got shape {values.shape}"
            )
        if not np.all(np.isfinite(values)):
            raise ValueError(f"`{name}` has non-finite values on the grid")
        return np.array(values)

    def _wavenumbers(self, axis: int) -> jax.Array:
        n, (lo, hi) = self.shape[axis], self.bounds[axis]
        k = 2 * np.pi * np.fft.fftfreq(n, d=(hi - lo) / n)
        shape = [1] * self.ndim
        shape[axis] = n
        return jnp.asarray(k.reshape(shape))

    def d1(self, u: jax.Array, axis: int) -> jax.Array:
        """First derivative along `axis` (garbage on Dirichlet edge nodes)."""
        if self.method == "spectral":
            k = self._wavenumbers(axis)
            return jnp.real(jnp.fft.ifft(1j * k * jnp.fft.fft(u, axis=axis), axis=axis))
        h = self.h[axis]
        return (jnp.roll(u, -1, axis) - jnp.roll(u, 1, axis)) / (2 * h)

    def d2(self, u: jax.Array, axis: int) -> jax.Array:
        """Second derivative along `axis` (garbage on Dirichlet edge nodes)."""
        if self.method == "spectral":
            k = self._wavenumbers(axis)
            return jnp.real(jnp.fft.ifft(-(k**2) * jnp.fft.fft(u, axis=axis), axis=axis))
        h = self.h[axis]
        return (jnp.roll(u, -1, axis) - 2 * u + jnp.roll(u, 1, axis)) / h**2

    def laplacian(self, u: jax.Array) -> jax.Array:
        return sum(self.d2(u, axis) for axis in range(self.ndim))


def _check_times(times: Any, t0: float) -> np.ndarray:
    if isinstance(t0, bool) or not isinstance(t0, Real) or not np.isfinite(t0):
        raise ValueError(f"`t0` must be a finite number, got {t0!r}")
    ts = np.atleast_1d(np.asarray(times, dtype=np.float64))
    if ts.ndim != 1 or ts.size == 0 or not np.all(np.isfinite(ts)):
        raise ValueError(
            f"`times` must be a non-empty 1-D sequence of finite save times, got {times!r}"
        )
    if np.any(np.diff(ts) <= 0):
        raise ValueError("`times` must be strictly increasing")
    if ts[0] < t0:
        raise ValueError(
            f"`times` must not start before the initial time `t0`={t0}, got times[0]={ts[0]}"
        )
    if ts[-1] == t0:
        raise ValueError(f"`times` must reach past the initial time `t0`={t0}")
    return ts


def _boundary_fn(grid: _Grid, value: Any) -> Callable[[jax.Array], jax.Array] | None:
    """Dirichlet data at time t on every node (only the edge nodes are used)."""
    if grid.periodic:
        return None
    mesh = tuple(jnp.asarray(m) for m in grid.mesh())
    if callable(value):
        return lambda t: jnp.broadcast_to(jnp.asarray(value(*mesh, t), jnp.float64), grid.shape)
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value):
        raise ValueError(
            f"`boundary_value` must be a finite number or a callable g(x, ..., t), got {value!r}"
        )
    constant = jnp.full(grid.shape, float(value))
    return lambda t: constant


def _solve(grid, rhs, y0, times, t0, *, solver, rtol, atol, max_steps):
    """Integrate ``dy/dt = rhs(t, y)`` from `t0`, saving at `times`; returns (ys, stats)."""
    import diffrax

    solver = diffrax.Tsit5() if solver is None else solver
    term = diffrax.ODETerm(lambda t, y, args: rhs(t, y))
    controller = diffrax.PIDController(rtol=rtol, atol=atol)
    sol = diffrax.diffeqsolve(
        term,
        solver,
        t0=t0,
        t1=float(times[-1]),
        dt0=None,
        y0=y0,
        saveat=diffrax.SaveAt(ts=jnp.asarray(times)),
        stepsize_controller=controller,
        max_steps=max_steps,
        # forward integration only: a plain while loop compiles faster than checkpointing
        adjoint=diffrax.ForwardMode(),
        throw=False,
    )
    if not bool(diffrax.is_successful(sol.result)):
        raise RuntimeError(
            f"diffrax stopped before t={times[-1]}: {sol.result}; raise `max_steps` "
            f"(now {max_steps}), loosen `rtol`/`atol`, or use an implicit `solver` such as "
            "diffrax.Kvaerno5() for a stiff problem"
        )
    stats = {k: int(v) for k, v in sol.stats.items() if np.ndim(v) == 0}
    return jax.tree.map(np.asarray, sol.ys), stats


def _dataset(grid, times, variables, *, equation, attrs, stats):
    import xarray as xr

    names = list(_AXES[: grid.ndim])
    dims = ["time", *names]
    data = {name: (dims, values, {"long_name": long}) for name, (values, long) in variables.items()}
    coords = {
        "time": ("time", times),
        **{n: (n, c) for n, c in zip(names, grid.coords, strict=True)},
    }
    all_attrs = {
        "equation": equation,
        "boundary": grid.boundary,
        "method": grid.method,
        "bounds": np.asarray(grid.bounds, dtype=np.float64).ravel(),
        **attrs,
        **{f"solver_{k}": v for k, v in stats.items()},
    }
    return xr.Dataset(data, coords=coords, attrs=all_attrs)


def _common(grid, initial, times, t0):
    times = _check_times(times, t0)
    u0 = grid.nodes("initial", initial)
    return times, u0


def _fill_edges(grid, g, ys, times):
    """Overwrite Dirichlet edge nodes of saved states with the boundary data."""
    if g is None:
        return ys
    with jax.enable_x64(True):
        edges = np.stack([np.asarray(g(jnp.asarray(t))) for t in times])
    out = np.array(ys)
    out[:, grid.edge] = edges[:, grid.edge]
    return out


def _solve_pinned(grid, boundary_value, interior, u0, times, t0, **solver):
    """Integrate ``u_t = interior(u)`` from `t0` with the Dirichlet edge nodes held at
    `boundary_value` (none on a periodic grid); returns (ys, stats), the saved states'
    edge nodes set to the data (in float64)."""
    with jax.enable_x64(True):
        g = _boundary_fn(grid, boundary_value)
        edge = jnp.asarray(grid.edge)

        def rhs(t, u):
            if g is None:
                return interior(u)
            return jnp.where(edge, 0.0, interior(jnp.where(edge, g(t), u)))

        ys, stats = _solve(grid, rhs, jnp.asarray(u0), times, t0, **solver)
        return _fill_edges(grid, g, ys, times), stats


def heat(
    initial: Any,
    *,
    bounds: Sequence[Sequence[float]],
    shape: int | Sequence[int],
    times: Sequence[float],
    diffusivity: float = 1.0,
    boundary: Boundary = "dirichlet",
    boundary_value: Any = 0.0,
    method: Method = "fd",
    t0: float | None = None,
    solver: Any = None,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_steps: int = 1_000_000,
):
    r"""The heat (diffusion) equation $u_t = \kappa \Delta u$ in 1-D, 2-D or 3-D.

    Args:
        initial: $u(x, t_0)$: a number, node values or a callable ``f(x)`` / ``f(x, y)``.
        bounds: one ``(lo, hi)`` pair per spatial axis, or a box domain (`Interval`,
            `Box`, or a `SpaceTime` over one, which also gives the default `t0`).
        shape: nodes per axis (see the module docstring for periodic grids).
        times: strictly increasing save times, none before `t0`.
        diffusivity: $\kappa > 0$.
        boundary: ``"dirichlet"`` or ``"periodic"``.
        boundary_value: Dirichlet data, a number or ``g(x, ..., t)`` (jax.numpy).
        method: ``"fd"`` (second order) or ``"spectral"`` (periodic only).
        t0: the initial time (default: the `SpaceTime` domain's, else 0).
        solver: a diffrax solver (default ``diffrax.Tsit5()``; pass ``diffrax.Kvaerno5()``
            for fine grids, where the explicit step is limited to $\sim h^2 / \kappa$).
        rtol, atol: tolerances of the PID step-size controller.
        max_steps: the step budget of diffrax.

    Returns:
        An `xarray.Dataset` with ``u`` on dims ``("time", "x"[, "y"])``.

    Example:
        >>> import numpy as np
        >>> ds = heat(lambda x: np.sin(np.pi * x), bounds=[(0.0, 1.0)], shape=33,
        ...           times=[0.0, 0.1])
        >>> exact = np.exp(-np.pi**2 * 0.1) * np.sin(np.pi * ds.x.values)
        >>> float(abs(ds.u.isel(time=-1) - exact).max()) < 1e-3
        True
    """
    kappa = _positive("diffusivity", diffusivity)
    grid = _Grid(bounds, shape, boundary, method, max_dim=3)
    t0 = grid.start(t0)
    times, u0 = _common(grid, initial, times, t0)

    def interior(u):
        return kappa * grid.laplacian(u)

    ys, stats = _solve_pinned(
        grid, boundary_value, interior, u0, times, t0,
        solver=solver, rtol=rtol, atol=atol, max_steps=max_steps,
    )  # fmt: skip
    return _dataset(
        grid,
        times,
        {"u": (ys, "temperature")},
        equation="heat",
        attrs={"diffusivity": kappa, "t0": float(t0)},
        stats=stats,
    )


def advection(
    initial: Any,
    *,
    bounds: Sequence[Sequence[float]],
    shape: int | Sequence[int],
    times: Sequence[float],
    velocity: float = 1.0,
    boundary: Boundary = "periodic",
    boundary_value: Any = 0.0,
    method: Method = "fd",
    t0: float | None = None,
    solver: Any = None,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_steps: int = 1_000_000,
):
    r"""Linear advection $u_t + a\,u_x = 0$ in 1-D.

    With ``boundary="dirichlet"`` only the inflow end (left for $a > 0$, right for $a < 0$)
    takes `boundary_value`; the outflow node is updated with the second-order one-sided
    difference $(3u_N - 4u_{N-1} + u_{N-2})/(2h)$, as the equation needs no data there.

    Args:
        initial, bounds, shape, times, boundary_value, method: as for `heat`.
        t0, solver, rtol, atol, max_steps: as for `heat`.
        velocity: $a \ne 0$, in place of the diffusivity.
        boundary: ``"periodic"`` (default) or ``"dirichlet"`` (data at the inflow end).

    Returns:
        An `xarray.Dataset` with ``u`` on dims ``("time", "x")``.

    Example:
        >>> import numpy as np
        >>> ds = advection(lambda x: np.sin(2 * np.pi * x), bounds=[(0.0, 1.0)], shape=32,
        ...                times=[0.0, 0.25], method="spectral")
        >>> exact = np.sin(2 * np.pi * (ds.x.values - 0.25))
        >>> float(abs(ds.u.isel(time=-1) - exact).max()) < 1e-6
        True
    """
    if isinstance(velocity, bool) or not isinstance(velocity, Real) or not velocity != 0:
        raise ValueError(f"`velocity` must be a non-zero number, got {velocity!r}")
    a = float(velocity)
    grid = _Grid(bounds, shape, boundary, method, max_dim=1)
    t0 = grid.start(t0)
    times, u0 = _common(grid, initial, times, t0)
    h = grid.h[0]
    with jax.enable_x64(True):
        g = _boundary_fn(grid, boundary_value)
        inflow = np.zeros(grid.shape, dtype=bool)
        inflow[0 if a > 0 else -1] = True
        inflow_j = jnp.asarray(inflow)

        def rhs(t, u):
            if g is None:
                return -a * grid.d1(u, 0)
            u = jnp.where(inflow_j, g(t), u)
            ux = grid.d1(u, 0)
            if a > 0:
                ux = ux.at[-1].set((3 * u[-1] - 4 * u[-2] + u[-3]) / (2 * h))
            else:
                ux = ux.at[0].set(-(3 * u[0] - 4 * u[1] + u[2]) / (2 * h))
            return jnp.where(inflow_j, 0.0, -a * ux)

        ys, stats = _solve(
            grid, rhs, jnp.asarray(u0), times, t0,
            solver=solver, rtol=rtol, atol=atol, max_steps=max_steps,
        )  # fmt: skip
        if g is not None:
            edges = np.stack([np.asarray(g(jnp.asarray(t))) for t in times])
            ys = np.array(ys)
            ys[:, inflow] = edges[:, inflow]
    return _dataset(
        grid,
        times,
        {"u": (ys, "advected quantity")},
        equation="advection",
        attrs={"velocity": a, "t0": float(t0)},
        stats=stats,
    )


def burgers(
    initial: Any,
    *,
    bounds: Sequence[Sequence[float]],
    shape: int | Sequence[int],
    times: Sequence[float],
    viscosity: float,
    boundary: Boundary = "dirichlet",
    boundary_value: Any = 0.0,
    method: Method = "fd",
    t0: float | None = None,
    solver: Any = None,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_steps: int = 1_000_000,
):
    r"""Viscous Burgers $u_t + (u^2/2)_x = \nu u_{xx}$ in 1-D.

    The flux is differenced in conservation form, $(F_{j+1} - F_{j-1})/(2h)$ with
    $F = u^2/2$ (``"fd"``) or as $\partial_x F$ of the Fourier interpolant (``"spectral"``),
    so on a periodic grid $\sum_j u_j h$ is conserved exactly by the semi-discrete system.

    Args:
        initial, bounds, shape, times, boundary_value, method: as for `heat`.
        t0, solver, rtol, atol, max_steps: as for `heat`.
        viscosity: $\nu > 0$.
        boundary: ``"dirichlet"`` (default) or ``"periodic"``.

    Returns:
        An `xarray.Dataset` with ``u`` on dims ``("time", "x")``.

    Example:
        >>> import numpy as np
        >>> ds = burgers(lambda x: -np.sin(np.pi * x), bounds=[(-1.0, 1.0)], shape=64,
        ...              times=[0.0, 0.2], viscosity=0.1, boundary="periodic",
        ...              method="spectral")
        >>> ds.u.dims, float(ds.u.isel(time=-1).mean()) < 1e-12
        (('time', 'x'), True)
    """
    nu = _positive("viscosity", viscosity)
    grid = _Grid(bounds, shape, boundary, method, max_dim=1)
    t0 = grid.start(t0)
    times, u0 = _common(grid, initial, times, t0)

    def interior(u):
        return nu * grid.d2(u, 0) - grid.d1(0.5 * u * u, 0)

    ys, stats = _solve_pinned(
        grid, boundary_value, interior, u0, times, t0,
        solver=solver, rtol=rtol, atol=atol, max_steps=max_steps,
    )  # fmt: skip
    return _dataset(
        grid,
        times,
        {"u": (ys, "velocity")},
        equation="burgers",
        attrs={"viscosity": nu, "t0": float(t0)},
        stats=stats,
    )


def wave(
    initial: Any,
    *,
    bounds: Sequence[Sequence[float]],
    shape: int | Sequence[int],
    times: Sequence[float],
    initial_velocity: Any = 0.0,
    speed: float = 1.0,
    boundary: Boundary = "dirichlet",
    boundary_value: Any = 0.0,
    method: Method = "fd",
    t0: float | None = None,
    solver: Any = None,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_steps: int = 1_000_000,
):
    r"""The wave equation $u_{tt} = c^2 u_{xx}$ in 1-D, as the system $u_t = v$, $v_t = c^2 u_{xx}$.

    Dirichlet data $g(x, t)$ holds $u$ at the ends, and $v = \partial_t g$ there (by
    automatic differentiation of `boundary_value`). The semi-discrete system conserves the
    energy $E = \tfrac12 \sum_j \big(v_j^2 + c^2 (\delta u)_j^2\big) h$ (for
    homogeneous or periodic data), so the saved energy drifts only by the time-stepping
    tolerance.

    Args:
        initial, bounds, shape, times, boundary_value, method: as for `heat`.
        t0, solver, rtol, atol, max_steps: as for `heat`.
        initial_velocity: $u_t(x, t_0)$, a number, node values or a callable ``f(x)``.
        speed: $c > 0$.
        boundary: ``"dirichlet"`` (default) or ``"periodic"``.

    Returns:
        An `xarray.Dataset` with ``u`` and ``v`` ($= u_t$) on dims ``("time", "x")``.

    Example:
        >>> import numpy as np
        >>> ds = wave(lambda x: np.sin(np.pi * x), bounds=[(0.0, 1.0)], shape=65,
        ...           times=[0.0, 0.5])
        >>> float(abs(ds.u.isel(time=-1)).max()) < 1e-3  # cos(pi t) = 0 at t = 1/2
        True
    """
    c = _positive("speed", speed)
    grid = _Grid(bounds, shape, boundary, method, max_dim=1)
    t0 = grid.start(t0)
    times, u0 = _common(grid, initial, times, t0)
    v0 = grid.nodes("initial_velocity", initial_velocity)
    with jax.enable_x64(True):
        g = _boundary_fn(grid, boundary_value)
        edge = jnp.asarray(grid.edge)

        def rhs(t, y):
            u, v = y
            if g is not None:
                gt, dgt = jax.jvp(g, (t,), (jnp.ones_like(t),))
                u = jnp.where(edge, gt, u)
                v = jnp.where(edge, dgt, v)
            dv = c**2 * grid.d2(u, 0)
            return (v, dv) if g is None else (jnp.where(edge, 0.0, v), jnp.where(edge, 0.0, dv))

        (us, vs), stats = _solve(
            grid, rhs, (jnp.asarray(u0), jnp.asarray(v0)), times, t0,
            solver=solver, rtol=rtol, atol=atol, max_steps=max_steps,
        )  # fmt: skip
        us = _fill_edges(grid, g, us, times)
        if g is not None:
            dg = jax.vmap(lambda t: jax.jvp(g, (t,), (jnp.ones_like(t),))[1])
            edges = np.asarray(dg(jnp.asarray(times)))
            vs = np.array(vs)
            vs[:, grid.edge] = edges[:, grid.edge]
    return _dataset(
        grid,
        times,
        {"u": (us, "displacement"), "v": (vs, "velocity u_t")},
        equation="wave",
        attrs={"speed": c, "t0": float(t0)},
        stats=stats,
    )


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not value > 0:
        raise ValueError(f"`{name}` must be a positive number, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"`{name}` must be finite, got {value!r}")
    return float(value)


def space_time_solution(dataset: Any, variable: str = "u") -> GridSolution:
    r"""A `GridSolution` over $(x[, y], t)$ from a solver's Dataset, for ``Problem(reference=...)``.

    Its axes follow the points of a `fieldpde.domains.SpaceTime` domain (space first, time
    last), so ``sol(points)`` interpolates the reference at space-time points of shape
    ``(..., d + 1)``. On a periodic grid the node at the upper end of each axis, left out
    by the solver, is added back as a copy of the first.

    Args:
        dataset: the `xarray.Dataset` of `heat`, `advection`, `burgers` or `wave`.
        variable: the data variable to interpolate.

    Returns:
        A `GridSolution` over space-time points.

    Example:
        >>> import numpy as np
        >>> ds = heat(lambda x: np.sin(np.pi * x), bounds=[(0.0, 1.0)], shape=33,
        ...           times=np.linspace(0.0, 0.1, 11))
        >>> sol = space_time_solution(ds)
        >>> [c.size for c in sol.coords]
        [33, 11]
        >>> x, t = 0.3, 0.05
        >>> bool(abs(sol(np.array([x, t])) - np.exp(-np.pi**2 * t) * np.sin(np.pi * x)) < 1e-3)
        True
    """
    if variable not in dataset:
        raise ValueError(
            f"`variable` {variable!r} is not in the dataset; it has {sorted(dataset.data_vars)}"
        )
    da = dataset[variable]
    if da.dims[0] != "time" or da.sizes["time"] < 2:
        raise ValueError(
            f"`dataset[{variable!r}]` must have a leading 'time' dimension with >= 2 times, "
            f"got dims {da.dims} and sizes {dict(da.sizes)}"
        )
    space = list(da.dims[1:])
    values = np.asarray(da.values, dtype=np.float64)
    coords = [np.asarray(dataset[n].values, dtype=np.float64) for n in space]
    if dataset.attrs.get("boundary") == "periodic":
        bounds = np.asarray(dataset.attrs["bounds"]).reshape(-1, 2)
        for axis in range(len(space)):
            first = np.take(values, [0], axis=axis + 1)
            values = np.concatenate([values, first], axis=axis + 1)
            coords[axis] = np.append(coords[axis], bounds[axis, 1])
    values = np.moveaxis(values, 0, -1)
    return GridSolution([*coords, np.asarray(dataset["time"].values, dtype=np.float64)], values)
