r"""Calibration scores of gridded forecasts held in xarray: per variable, over chosen cells.

A forecast is the Dataset that `fieldpde.io.FittedField.predict` returns for an ensemble:
each variable's mean under its own name, its standard deviation as ``<name>_std`` and,
with ``members=True``, the members as ``<name>_member`` (dimension ``member`` first).
`score_xarray` compares it with the truth at the cells a mask selects (held-out cells,
a gap), variable by variable: RMSE of the mean, coverage of the central interval, the
Gaussian negative log-likelihood, the CRPS (the fair ensemble estimator when the members
are there, the Gaussian closed form otherwise) and the reliability curve.

xarray is imported inside the function, as everywhere in `fieldpde.bayes`.
"""

from typing import Any

import jax.numpy as jnp
import numpy as np

from ._calibration import (
    _crps_points,
    _level,
    coverage,
    crps_gaussian,
    gaussian_coverage,
    gaussian_nll,
)

MEMBER_DIM = "member"


def score_xarray(
    forecast: Any,
    truth: Any,
    *,
    where: Any = None,
    level: float = 0.9,
    levels: Any = None,
    interval: str = "gaussian",
) -> Any:
    r"""RMSE, interval coverage, NLL, CRPS and reliability of a forecast, per variable.

    For each variable $y$ of `truth`, over the selected cells where the truth is finite:

    - ``rmse``: $\sqrt{\overline{(\mu - y)^2}}$ of the forecast mean $\mu$;
    - ``coverage``: the fraction of cells inside the central `level` interval, Gaussian
      ($|y-\mu| \le z_{(1+\alpha)/2}\,\sigma$) or, with ``interval="empirical"``, between
      the members' quantiles;
    - ``nll``: the mean Gaussian negative log-likelihood under $\mathcal N(\mu, \sigma^2)$;
    - ``crps``: the fair ensemble CRPS of the members when the forecast holds them
      (``<name>_member``), else the CRPS of $\mathcal N(\mu, \sigma^2)$;
    - ``reliability``: the observed coverage at each nominal level in `levels`.

    Args:
        forecast: an `xarray.Dataset` with ``<name>`` (mean) and ``<name>_std`` for each
            variable of `truth`, and optionally ``<name>_member`` with a leading
            ``member`` dimension (``FittedField.predict(members=True)``).
        truth: an `xarray.DataArray` (scored under its name) or `xarray.Dataset`, on the
            forecast's grid.
        where: boolean mask of the cells to score (an xarray object or array that
            broadcasts to the truth's shape; default every cell); NaN truth cells are
            always left out.
        level: the nominal level of ``coverage``, in (0, 1).
        levels: nominal levels of the reliability curve (default 0.05, 0.10, ..., 0.95).
        interval: ``"gaussian"`` (default; $\mu \pm z\sigma$) or ``"empirical"`` (member
            quantiles; needs the members).

    Returns:
        An `xarray.Dataset` with dimension ``variable``: ``rmse``, ``coverage``, ``nll``,
        ``crps``, ``cells`` (the number scored), and ``reliability`` over
        (``variable``, ``level``); its attributes record `level`, `interval` and the CRPS
        estimator.

    Raises:
        TypeError: `forecast` is not a Dataset or `truth` not a DataArray/Dataset.
        ValueError: a variable without its mean or ``_std`` in the forecast, grids that do
            not match, a mask selecting no finite cell, bad `level`, `levels` or
            `interval`.

    Example:
        >>> import numpy as np, xarray as xr
        >>> rng = np.random.default_rng(0)
        >>> truth = xr.DataArray(rng.normal(size=2000), dims="x", name="u")
        >>> fc = xr.Dataset({"u": ("x", np.zeros(2000)), "u_std": ("x", np.ones(2000))})
        >>> s = score_xarray(fc, truth, level=0.9)
        >>> abs(float(s["coverage"].sel(variable="u")) - 0.9) < 0.03
        True
    """
    import xarray as xr

    level = _level(level)
    if interval not in ("gaussian", "empirical"):
        raise ValueError(f"`interval` must be 'gaussian' or 'empirical', got {interval!r}")
    levels = np.linspace(0.05, 0.95, 19) if levels is None else np.asarray(levels, dtype=float)
    for lv in levels.reshape(-1).tolist():
        _level(lv)
    levels = levels.reshape(-1)
    if not isinstance(forecast, xr.Dataset):
        raise TypeError(
            f"`forecast` must be an xarray Dataset (an ensemble's `predict`), got "
            f"{type(forecast).__name__}"
        )
    if isinstance(truth, xr.DataArray):
        if truth.name is None:
            raise ValueError("`truth` must be a named DataArray (its name picks the variable)")
        truth = truth.to_dataset()
    elif not isinstance(truth, xr.Dataset):
        raise TypeError(f"`truth` must be an xarray DataArray or Dataset, got {type(truth)}")
    names = list(truth.data_vars)
    rows: dict[str, list[Any]] = {k: [] for k in ("rmse", "coverage", "nll", "crps", "cells")}
    curves, estimators = [], set()
    for name in names:
        for needed in (name, f"{name}_std"):
            if needed not in forecast.data_vars:
                raise ValueError(
                    f"`forecast` has no variable {needed!r} for `truth` variable {name!r}; "
                    f"it has {list(forecast.data_vars)} (predict an ensemble fit)"
                )
        y = truth[name]
        same = set(forecast[name].dims) == set(y.dims)
        mean = forecast[name].transpose(*y.dims) if same else None
        if mean is None or mean.shape != y.shape:
            raise ValueError(
                f"`forecast` variable {name!r} has dims {dict(forecast[name].sizes)}, the "
                f"truth {dict(y.sizes)}: predict on the truth's grid (``predict(like=truth)``)"
            )
        std = forecast[f"{name}_std"].transpose(*y.dims)
        keep = np.isfinite(np.asarray(y.values, dtype=float))
        if where is not None:
            mask = where[name] if isinstance(where, xr.Dataset) else where
            if isinstance(mask, xr.DataArray):
                mask = mask.broadcast_like(y).transpose(*y.dims).values
            try:
                mask = np.broadcast_to(np.asarray(mask, dtype=bool), y.shape)
            except ValueError as err:
                raise ValueError(
                    f"`where` must broadcast to the truth's shape {y.shape}, got {np.shape(mask)}"
                ) from err
            keep = keep & mask
        if not keep.any():
            raise ValueError(f"`where` selects no cell with a finite truth for {name!r}")
        t = jnp.asarray(np.asarray(y.values, dtype=float)[keep])
        mu = jnp.asarray(np.asarray(mean.values, dtype=float)[keep])
        sd = jnp.asarray(np.asarray(std.values, dtype=float)[keep])
        member_name = f"{name}_member"
        members = None
        if member_name in forecast.data_vars:
            m = forecast[member_name].transpose(MEMBER_DIM, *y.dims)
            members = jnp.asarray(np.asarray(m.values, dtype=float)[:, keep])
        if interval == "empirical" and members is None:
            raise ValueError(
                f"`interval='empirical'` needs the members ({member_name!r}); predict with "
                "`members=True`"
            )

        rows["rmse"].append(float(jnp.sqrt(jnp.mean((mu - t) ** 2))))
        rows["coverage"].append(_covered(interval, members, mu, sd, t, level))
        rows["nll"].append(float(gaussian_nll(mu, sd, t)))
        if members is not None and members.shape[0] >= 2:
            rows["crps"].append(float(jnp.mean(_crps_points(members, t, "fair"))))
            estimators.add("fair ensemble")
        else:
            rows["crps"].append(float(crps_gaussian(mu, sd, t)))
            estimators.add("gaussian")
        rows["cells"].append(int(keep.sum()))
        curves.append([_covered(interval, members, mu, sd, t, float(lv)) for lv in levels])
    data: dict[str, Any] = {k: ("variable", np.asarray(v)) for k, v in rows.items()}
    data["reliability"] = (("variable", "level"), np.asarray(curves))
    return xr.Dataset(
        data,
        coords={"variable": names, "level": levels},
        attrs={
            "coverage_level": level,
            "interval": interval,
            "crps_estimator": ", ".join(sorted(estimators)),
        },
    )


def _covered(interval: str, members: Any, mu: Any, sd: Any, t: Any, level: float) -> float:
    """Coverage at `level`: the members' central interval or the Gaussian one."""
    if members is not None and interval == "empirical":
        return float(coverage(members, t, level))
    return float(gaussian_coverage(mu, sd, t, level))
