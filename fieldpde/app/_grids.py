r"""The netCDF jobs of the command line: fit a field to variables of a file, predict onto a grid.

``fieldpde fit`` and ``fieldpde predict`` parse their arguments and call `fit_netcdf` and
`predict_netcdf`, which Python callers can use as well.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import check_target
from ._output import write_netcdf


def fit_netcdf(
    data: str | Path,
    variables: Sequence[str],
    *,
    out: str | Path | None = None,
    periodic: Any = "auto",
    verbose: bool = True,
    **options: Any,
) -> dict[str, Any]:
    """Fit a field to variables of a netCDF file and save it (``DATA.field`` by default).

    Args:
        data: a netCDF file (anything `xarray.open_dataset` reads).
        variables: the variables to fit (one output each).
        out: the field file to write (default: `data` with the suffix ``.field``).
        periodic: as for `fieldpde.io.fit_xarray`.
        verbose: print the fit's RMSE at the data cells and the file written.
        **options: more `fieldpde.io.fit_xarray` options (width, depth, steps, ...).

    Returns:
        ``field`` (the `fieldpde.io.FittedField`), ``out`` (the path written) and
        ``rmse`` (variable -> RMSE at the data cells).

    Example:
        >>> import os, tempfile, numpy as np, xarray as xr
        >>> data = os.path.join(tempfile.mkdtemp(), "h.nc")
        >>> x = np.linspace(0.0, 1.0, 20)
        >>> xr.Dataset({"h": ("x", np.sin(3 * x))}, coords={"x": x}).to_netcdf(data)
        >>> r = fit_netcdf(data, ["h"], width=16, depth=3, omega=5.0, steps=200,
        ...                progress=False)
        fitted h over x (linear): 20 cells
          h: RMSE at the data cells ...
        wrote ...h.field
        >>> r["rmse"]["h"] < 0.05, os.path.exists(r["out"])
        (True, True)
    """
    import xarray as xr

    from ..io import fit_xarray

    path = Path(data)
    if not path.exists():
        raise FileNotFoundError(f"no data file {str(path)!r}")
    if path.is_dir():
        raise ValueError(f"`data`: {str(path)!r} is a directory, not a netCDF file")
    target = check_target(
        Path(out) if out else path.with_suffix(".field"), "out", example="data.field"
    )
    try:
        ds = xr.open_dataset(path)
    except Exception as err:
        raise ValueError(f"`data`: {str(path)!r} is not a readable netCDF file ({err})") from err
    with ds:
        missing = [v for v in variables if v not in ds.data_vars]
        if missing:
            raise ValueError(f"{path} has no variable(s) {missing}; it has {list(ds.data_vars)}")
        obj = ds[variables[0]] if len(variables) == 1 else ds[list(variables)]
        obj = obj.load()
    field = fit_xarray(obj, periodic=periodic, **options)
    field.save(target)
    fitted = field.predict()
    rmse = {}
    for name in variables:
        values = np.asarray(obj[name] if len(variables) > 1 else obj, dtype=float)
        pred = np.asarray(fitted[name] if isinstance(fitted, xr.Dataset) else fitted, dtype=float)
        rmse[name] = float(np.sqrt(np.nanmean((pred - values) ** 2)))
    if verbose:
        axes = ", ".join(f"{a.name} ({a.kind})" for a in field.source.axes)
        print(f"fitted {', '.join(variables)} over {axes}: {field.source.training['cells']} cells")
        for name, value in rmse.items():
            print(f"  {name}: RMSE at the data cells {value:.4g}")
        calibration = field.source.training.get("calibration")
        if calibration is not None:
            scales = ", ".join(f"{c:.3g}" for c in calibration["spread"])
            print(
                f"  ensemble spread scaled by {scales} (calibrated on {calibration['cells']} "
                "held-out cells)"
            )
        print(f"wrote {target}")
    return {"field": field, "out": str(target), "rmse": rmse}


def predict_netcdf(
    field: str | Path,
    *,
    out: str | Path,
    like: str | Path | None = None,
    grid: Mapping[str, str] | Sequence[str] = (),
    chunk: int = 65536,
    quantiles: Sequence[float] | None = None,
    verbose: bool = True,
) -> dict[str, Any]:
    """Evaluate a saved field on the coordinates of `like` or on `grid`, into netCDF.

    An ensemble field (``fieldpde fit --ensemble N``) writes each variable's mean, its
    standard deviation ``<name>_std`` and, with `quantiles`, ``<name>_quantile``, with
    the CF metadata of `fieldpde.io.FittedField.predict` (``ancillary_variables``, the
    ``standard_error`` standard-name modifier).

    Args:
        field: a field file written by `fit_netcdf` (or `FittedField.save`).
        out: the netCDF file to write.
        like: a netCDF file whose coordinates give the grid.
        grid: new coordinates as ``DIM=START:STOP:NUM`` (inclusive; dates allowed) or
            ``DIM=xK`` (K times the training resolution); other dimensions keep the
            training grid.
        chunk: points per evaluation.
        quantiles: probabilities of the ensemble quantiles to write (ensemble fields only).
        verbose: print the file written.

    Returns:
        ``out`` (the prediction) and ``path``.

    Example:
        >>> import os, tempfile, numpy as np, xarray as xr
        >>> from fieldpde.io import fit_xarray
        >>> tmp = tempfile.mkdtemp()
        >>> da = xr.DataArray(np.arange(6.0), coords={"x": np.arange(6.0)}, dims="x", name="h")
        >>> fit_xarray(da, width=8, depth=2, steps=5, progress=False).save(f"{tmp}/h.field")
        >>> r = predict_netcdf(f"{tmp}/h.field", grid=["x=0:5:11"], out=f"{tmp}/fine.nc")
        wrote ...fine.nc (x: 11)
        >>> r["out"].sizes["x"], r["out"].x.values[:3].tolist()
        (11, [0.0, 0.5, 1.0])
    """
    import xarray as xr

    from ..io import load_field

    target = check_target(out, "out", example="out.nc")
    fitted = load_field(field)
    coords = {}
    for spec in grid:
        name, value = grid_spec(fitted, spec)
        coords[name] = value
    like_ds = None
    if like is not None:
        like_path = Path(like)
        if not like_path.exists():
            raise FileNotFoundError(f"no file {str(like)!r} for `like`")
        if like_path.is_dir():
            raise ValueError(f"`like`: {str(like)!r} is a directory, not a netCDF file")
        try:
            with xr.open_dataset(like_path) as ds:
                like_ds = ds.coords.to_dataset().load()
        except Exception as err:
            raise ValueError(
                f"`like`: {str(like)!r} is not a readable netCDF file ({err})"
            ) from err
    prediction = fitted.predict(like_ds, chunk=chunk, quantiles=quantiles, **coords)
    ds = (
        prediction
        if isinstance(prediction, xr.Dataset)
        else prediction.to_dataset(name=prediction.name or "field")
    )
    write_netcdf(ds, target)
    if verbose:
        sizes = ", ".join(f"{d}: {n}" for d, n in ds.sizes.items())
        print(f"wrote {target} ({sizes})")
    return {"out": prediction, "path": str(target)}


def grid_spec(field: Any, spec: str) -> tuple[str, np.ndarray]:
    """``DIM=START:STOP:NUM`` or ``DIM=xK`` as ``(DIM, coordinate values)``.

    Args:
        field: the `fieldpde.io.FittedField` whose dimensions and training grid the spec
            refers to.
        spec: ``DIM=START:STOP:NUM`` (inclusive; dates allowed on a time axis) or
            ``DIM=xK`` (K times the training resolution).

    Returns:
        ``(DIM, values)``: the dimension's name and its new coordinate values.

    Example:
        >>> import numpy as np, xarray as xr
        >>> from fieldpde.io import fit_xarray
        >>> da = xr.DataArray(np.arange(4.0), coords={"x": np.arange(4.0)}, dims="x")
        >>> f = fit_xarray(da, width=8, depth=2, steps=1, progress=False)
        >>> grid_spec(f, "x=0:1:3")[1].tolist(), grid_spec(f, "x=x2")[1].size
        ([0.0, 0.5, 1.0], 7)
    """
    from ..io import refine

    name, sep, value = spec.partition("=")
    if not sep or name not in field.dims:
        raise ValueError(
            f"`grid` {spec!r}: expected DIM=START:STOP:NUM or DIM=xK with DIM one of {field.dims}"
        )
    axis = field.source.axes[field.dims.index(name)]
    try:
        if value.startswith("x"):
            if name not in field.source.coords:
                raise ValueError("the dimension has no training coordinate to refine")
            return name, refine(field.source.coords[name].values, int(value[1:]))
        start, stop, num = value.split(":")
        num = int(num)
        if axis.kind == "time":
            t0 = np.datetime64(start, "ns").astype(np.int64)
            t1 = np.datetime64(stop, "ns").astype(np.int64)
            ns = np.rint(np.linspace(float(0), float(t1 - t0), num)).astype(np.int64) + t0
            return name, ns.astype("datetime64[ns]")
        return name, np.linspace(float(start), float(stop), num)
    except ValueError as err:
        raise ValueError(f"`grid` {spec!r}: {err}") from err
