r"""The spectral content of a problem's data: how fast they vary along each axis.

A neural field resolves what its first layer's frequencies reach, so a default field
should see frequencies per axis that match the problem: $\sin(20\pi x)$ initial data ask
for much higher ones along $x$ than along a time axis where nothing oscillates. The data
are what the problem states: Dirichlet values, initial values and the sources of its PDE
residuals (a residual evaluated for the zero field, $C(x, 0, 0, 0)$, is minus the source
of a linear equation). Each is sampled on a regular grid of the domain's bounding box and
its power spectrum taken along each axis (mean removed, Hann window); the axis's
wavenumber is the root-mean-square one, $k_i = (\sum_k k^2 P_i(k) / \sum_k P_i(k))^{1/2}$
in radians per unit length, the largest over the data.
"""

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..constraints import Dirichlet, Initial, Residual
from ..ops import FieldDerivatives, resolve_dims
from ._enforce import SpaceData
from ._problem import Problem

_MAX_POINTS = 2**15


def data_functions(problem: Problem) -> dict[str, Callable[[Any], Any]]:
    """The problem's data as functions of a point of its domain.

    Args:
        problem: the `Problem`.

    Returns:
        name -> pointwise function: the value of each `Dirichlet` and `Initial`
        constraint and the source (the residual of the zero field) of each `Residual`.

    Example:
        >>> import jax.numpy as jnp
        >>> from fieldpde.constraints import Dirichlet, Residual
        >>> from fieldpde.domains import Box
        >>> box = Box([0.0], [1.0])
        >>> p = Problem({"pde": Residual(lambda x, d: d.laplacian + 3.0 * x[0], box),
        ...              "bc": Dirichlet(2.0, box)})
        >>> fns = data_functions(p)
        >>> float(fns["pde"](jnp.array([0.5]))), float(fns["bc"](jnp.array([0.5])))
        (1.5, 2.0)
    """
    out: dict[str, Callable[[Any], Any]] = {}
    for name, c in problem.constraints.items():
        if isinstance(c, Dirichlet):
            out[name] = c.value
        elif isinstance(c, Initial):
            out[name] = SpaceData(c.value)
        elif isinstance(c, Residual) and c.uses == "derivatives":
            out[name] = _source(c, problem.params, len(problem.outputs or ("u",)))
    return out


def _source(c: Residual, params: Any, m: int = 1) -> Callable[[Any], Any]:
    def source(x):
        k = len(resolve_dims(c.dims, x.shape[-1]))
        zero = FieldDerivatives(
            jnp.zeros((m,), x.dtype), jnp.zeros((m, k), x.dtype), jnp.zeros((m,), x.dtype)
        )
        return jnp.sum(jnp.asarray(c.evaluate(x, zero, params), x.dtype))

    return source


def _axis_wavenumber(values: np.ndarray, axis: int, length: float) -> tuple[float, float]:
    """``(k_rms, power)`` of `values` along `axis` of a grid spanning `length`."""
    v = np.moveaxis(values, axis, -1)
    v = v - v.mean(axis=-1, keepdims=True)
    n = v.shape[-1]
    window = np.hanning(n)
    spectrum = np.abs(np.fft.rfft(v * window, axis=-1)) ** 2
    power = spectrum.reshape(-1, spectrum.shape[-1]).sum(axis=0)
    k = 2 * np.pi * np.fft.rfftfreq(n, d=length / n)
    total = float(power.sum())
    if not total > 0:
        return 0.0, 0.0
    return float(np.sqrt(np.sum(k**2 * power) / total)), total


def data_wavenumbers(problem: Problem, *, max_points: int = _MAX_POINTS) -> tuple[float, ...]:
    """The largest root-mean-square wavenumber of the problem's data along each axis.

    Args:
        problem: the `Problem` (its `domain` gives the grid).
        max_points: the grid has about this many nodes.

    Returns:
        One wavenumber per axis (time included), in radians per unit length; 0 along an
        axis on which no data vary.

    Example:
        >>> import jax.numpy as jnp
        >>> from fieldpde.constraints import Initial, Residual
        >>> from fieldpde.domains import Interval, TimeInterval
        >>> cyl = Interval(0.0, 1.0) * TimeInterval(0.0, 5.0)
        >>> p = Problem({"pde": Residual(lambda x, d: d.grad[0, 1] - d.laplacian, cyl),
        ...              "ic": Initial(lambda x: jnp.sin(20 * jnp.pi * x[0]), cyl)})
        >>> kx, kt = data_wavenumbers(p)
        >>> 55 < kx < 70, kt  # 20 pi = 62.8 along x, nothing along t
        (True, 0.0)
    """
    domain = problem.domain
    if domain is None:
        raise ValueError("`problem` has no `domain` to sample its data on")
    lo, hi = (np.asarray(a, np.float64) for a in domain.bounding_box())
    d = lo.size
    nodes = max(8, min(1024, int(math.floor(max_points ** (1.0 / d)))))
    axes = [a + (np.arange(nodes) + 0.5) * (b - a) / nodes for a, b in zip(lo, hi, strict=True)]
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)
    x = jnp.asarray(mesh, jnp.result_type(float))
    best = [0.0] * d
    for fn in data_functions(problem).values():
        values = jax.vmap(lambda p, fn=fn: jnp.sum(jnp.asarray(fn(p), p.dtype)))(x)
        grid = np.asarray(values, np.float64).reshape((nodes,) * d)
        if not np.all(np.isfinite(grid)):
            continue
        for i in range(d):
            k, power = _axis_wavenumber(grid, i, float(hi[i] - lo[i]))
            if power > 1e-20 * grid.size * max(1.0, float(np.max(np.abs(grid)))) ** 2:
                best[i] = max(best[i], k)
    return tuple(best)
