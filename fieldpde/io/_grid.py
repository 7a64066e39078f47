"""Evaluate a solved problem on a regular grid as an xarray Dataset."""

from typing import Any

import jax.numpy as jnp
import numpy as np

from ..domains import SpaceTime
from ..problem import Problem

_AXES = ("x", "y", "z")


def evaluate_on_grid(
    problem: Problem, field: Any, *, shape: int | tuple[int, ...] = 101, chunk: int = 65536
):
    r"""The field, the exact/reference solution and their difference on a regular grid.

    The grid spans the bounding box of ``problem.domain``; nodes outside the domain are NaN.
    Points are evaluated in chunks of `chunk` so memory stays bounded.

    Args:
        problem: the `Problem`; its ``domain`` gives the grid, its ``exact`` or
            ``reference`` solution the ``reference`` variable.
        field: the trained field, ``(n, d) -> (n,)`` or ``(n, m)``.
        shape: nodes per axis, one number for all axes or one per axis.
        chunk: points per evaluation.

    Returns:
        An `xarray.Dataset` with data variables ``u``, ``reference`` and ``error``
        (``u - reference``; the last two only when the problem has a solution), or with
        named `Problem.outputs` ``NAME``, ``NAME_reference`` and ``NAME_error`` per output
        (attributes ``relative_l2_NAME`` beside the overall ``relative_l2``), coordinates
        ``x``, ``y`` (, ``z``; time problems name their last axis ``t``), and attributes
        ``problem`` and ``relative_l2`` (over the nodes inside the domain).

    Example:
        >>> import jax.numpy as jnp
        >>> from fieldpde.constraints import Residual
        >>> from fieldpde.domains import Box
        >>> from fieldpde.problem import Problem
        >>> box = Box([0.0, 0.0], [1.0, 2.0])
        >>> problem = Problem([Residual(lambda x, d: d.laplacian, box)],
        ...     exact=lambda x: x[0] + x[1], name="plane")
        >>> ds = evaluate_on_grid(problem, lambda x: 1.01 * (x[:, :1] + x[:, 1:]), shape=(3, 5))
        >>> ds["u"].dims, ds["u"].shape, round(ds.attrs["relative_l2"], 6)
        (('y', 'x'), (5, 3), 0.01)

        A problem with named outputs gets one variable per output:

        >>> flow = Problem([Residual(lambda x, d: d.laplacian, box)], outputs=("u", "p"),
        ...                exact=lambda x: jnp.stack([x[0], 2.0 + x[1]]))
        >>> ds = evaluate_on_grid(flow, lambda x: jnp.stack([x[:, 0], 2.0 + x[:, 1]], -1),
        ...                       shape=(3, 5))
        >>> sorted(ds.data_vars), ds.attrs["relative_l2_p"]
        (['p', 'p_error', 'p_reference', 'u', 'u_error', 'u_reference'], 0.0)
    """
    import xarray as xr

    domain = problem.domain
    if domain is None:
        raise ValueError("`problem` has no `domain` to put a grid on")
    lo, hi = (np.asarray(a, dtype=float) for a in domain.bounding_box())
    d = lo.shape[0]
    shape = (shape,) * d if isinstance(shape, int) else tuple(shape)
    if len(shape) != d or min(shape) < 2:
        raise ValueError(f"`shape` must give >= 2 nodes on each of {d} axes, got {shape}")
    names = list(_AXES[:d])
    if isinstance(domain, SpaceTime):
        names[-1] = "time"  # the one name of the time dimension, as in fieldpde.reference
    coords = [np.linspace(a, b, n) for a, b, n in zip(lo, hi, shape, strict=True)]
    mesh = np.stack(np.meshgrid(*coords, indexing="ij"), axis=-1).reshape(-1, d)
    pts = jnp.asarray(mesh, dtype=jnp.result_type(float))
    inside = np.asarray(domain.contains(pts))
    u = np.concatenate([_rows(field(pts[i : i + chunk])) for i in range(0, len(pts), chunk)])
    m = u.shape[1]
    u[~inside] = np.nan
    dims = names[::-1]  # (y, x) order, as images and CF grids are stored

    def grid(values):
        k = values.shape[1]
        arr = values.reshape(*shape, k)
        return (
            np.moveaxis(arr, list(range(d)), list(range(d))[::-1])[..., 0]
            if k == 1
            else (np.moveaxis(arr, list(range(d)), list(range(d))[::-1]))
        )

    attrs: dict[str, Any] = {"problem": problem.name}
    ref = None
    if problem.has_solution:
        ref = np.concatenate(
            [_rows(problem.solution(pts[i : i + chunk])) for i in range(0, len(pts), chunk)]
        )
        ref[~inside] = np.nan
        attrs["relative_l2"] = float(
            np.linalg.norm((u - ref)[inside]) / np.linalg.norm(ref[inside])
        )
    if problem.outputs is not None:
        vars_ = _named(problem.outputs, u, ref, inside, grid, dims, attrs)
    else:
        extra_dims = [] if m == 1 else ["component"]
        vars_ = {"u": (dims + extra_dims, grid(u), {"long_name": "neural field solution"})}
        if ref is not None:
            vars_["reference"] = (
                dims + extra_dims,
                grid(ref),
                {"long_name": "exact or reference solution"},
            )
            vars_["error"] = (dims + extra_dims, grid(u - ref), {"long_name": "u - reference"})
    return xr.Dataset(
        vars_, coords={n: (n, c) for n, c in zip(names, coords, strict=True)}, attrs=attrs
    )


def _named(outputs, u, ref, inside, grid, dims, attrs) -> dict[str, Any]:
    """One variable per named output (``u``, ``v``, ``p``), with ``NAME_reference`` and
    ``NAME_error``; the relative L2 error of each goes to ``attrs["relative_l2_NAME"]``."""
    if u.shape[1] != len(outputs):
        raise ValueError(
            f"the field has {u.shape[1]} output(s) but the problem names {len(outputs)}: {outputs}"
        )
    vars_: dict[str, Any] = {}
    for j, name in enumerate(outputs):
        vars_[name] = (dims, grid(u[:, j : j + 1]), {"long_name": f"neural field solution, {name}"})
        if ref is not None:
            vars_[f"{name}_reference"] = (
                dims,
                grid(ref[:, j : j + 1]),
                {"long_name": f"exact or reference solution, {name}"},
            )
            e = u[:, j : j + 1] - ref[:, j : j + 1]
            vars_[f"{name}_error"] = (dims, grid(e), {"long_name": f"{name} - reference"})
            scale = np.linalg.norm(ref[inside, j])
            attrs[f"relative_l2_{name}"] = (
                float(np.linalg.norm(e[inside]) / scale) if scale > 0 else float("nan")
            )
    attrs["outputs"] = ", ".join(outputs)
    return vars_


def _rows(values) -> np.ndarray:
    """Values at a chunk of points as a float64 ``(n, m)`` array."""
    values = np.asarray(values, dtype=np.float64)
    return values.reshape(values.shape[0], -1)
