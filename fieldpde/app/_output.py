"""Writing results: netCDF files replaced atomically, and the solve figure."""

import os
from pathlib import Path
from typing import Any

from .._atomic import atomic_write


def write_netcdf(ds: Any, path: str | os.PathLike) -> Path:
    """Write an xarray Dataset to `path` through a temporary file renamed over it.

    An interrupted write never leaves a broken file where the old one was; the file gets
    the mode the umask gives (see `fieldpde._atomic`).

    Args:
        ds: the Dataset.
        path: the netCDF file (its folder is created if needed).

    Returns:
        The path written.

    Example:
        >>> import tempfile, xarray as xr
        >>> path = write_netcdf(xr.Dataset({"u": ("x", [1.0, 2.0])}), tempfile.mkdtemp() + "/a.nc")
        >>> xr.open_dataset(path)["u"].values.tolist()
        [1.0, 2.0]
    """
    path = Path(path)
    atomic_write(path, ds.to_netcdf)
    return path


def solve_figure(ds: Any, path: str | os.PathLike) -> Path:
    """The field, the reference and the signed error side by side, saved as PNG.

    The signed error uses a diverging colour map centred on zero.

    Args:
        ds: a Dataset with ``u`` and optionally ``reference`` and ``error`` (as
            `fieldpde.io.evaluate_on_grid` gives), its ``problem`` and ``relative_l2``
            attributes used in the title.
        path: the PNG file.

    Returns:
        The path written.

    Example:
        >>> import tempfile, numpy as np, xarray as xr
        >>> ds = xr.Dataset({"u": (("y", "x"), np.eye(3)), "error": (("y", "x"), -np.eye(3))})
        >>> solve_figure(ds, tempfile.mkdtemp() + "/a.png").stat().st_size > 1000
        True
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if {"u", "v"} <= set(ds.attrs.get("outputs", "").split(", ")):
        return flow_figure(ds, path)
    names = [n for n in ("u", "reference", "error") if n in ds]
    fig, axes = plt.subplots(
        1, len(names), figsize=(5.2 * len(names), 4.2), squeeze=False, layout="constrained"
    )
    for ax, name in zip(axes[0], names, strict=True):
        da = ds[name]
        if da.ndim == 2 and name == "error":
            # a signed error: a diverging map centred on zero
            span = float(abs(da).max()) or 1.0
            da.plot(ax=ax, cmap="RdBu_r", vmin=-span, vmax=span)
        elif da.ndim == 2:
            da.plot(ax=ax, cmap="RdBu_r")
        else:
            da.plot(ax=ax)
        ax.set_title(name)
    return _save(fig, ds, path)


def flow_figure(ds: Any, path: str | os.PathLike) -> Path:
    """A 2-D flow: streamlines over the speed, the pressure, and the velocity's error.

    Args:
        ds: a Dataset with variables ``u`` and ``v`` (and ``p``, ``u_error``,
            ``v_error`` when present) on a ``(y, x)`` grid, as `fieldpde.io.evaluate_on_grid`
            gives for a problem with outputs ``(u, v, p)``.
        path: the PNG file.

    Returns:
        The path written.

    Example:
        >>> import tempfile, numpy as np, xarray as xr
        >>> y, x = np.mgrid[0:1:9j, 0:1:9j]
        >>> ds = xr.Dataset({"u": (("y", "x"), -y + 0.5), "v": (("y", "x"), x - 0.5),
        ...                  "p": (("y", "x"), x * y)},
        ...                 coords={"x": np.linspace(0, 1, 9), "y": np.linspace(0, 1, 9)})
        >>> flow_figure(ds, tempfile.mkdtemp() + "/f.png").stat().st_size > 1000
        True
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    panels = ["speed"] + (["p"] if "p" in ds else []) + (["error"] if "u_error" in ds else [])
    fig, axes = plt.subplots(
        1, len(panels), figsize=(5.2 * len(panels), 4.2), squeeze=False, layout="constrained"
    )
    x, y = ds["x"].values, ds["y"].values
    u, v = ds["u"].values, ds["v"].values
    for ax, name in zip(axes[0], panels, strict=True):
        if name == "speed":
            speed = np.hypot(u, v)
            mesh = ax.pcolormesh(x, y, speed, cmap="viridis", shading="auto")
            fig.colorbar(mesh, ax=ax)
            ax.streamplot(x, y, np.nan_to_num(u), np.nan_to_num(v), color="white",
                          density=1.2, linewidth=0.6)  # fmt: skip
            ax.set_title("speed |(u, v)| and streamlines")
        elif name == "p":
            mesh = ax.pcolormesh(x, y, ds["p"].values, cmap="RdBu_r", shading="auto")
            fig.colorbar(mesh, ax=ax)
            ax.set_title("pressure p")
        else:
            err = np.hypot(ds["u_error"].values, ds["v_error"].values)
            mesh = ax.pcolormesh(x, y, err, cmap="magma", shading="auto")
            fig.colorbar(mesh, ax=ax)
            ax.set_title("|velocity error|")
        ax.set_aspect("equal")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    return _save(fig, ds, path)


def _save(fig: Any, ds: Any, path: str | os.PathLike) -> Path:
    """Title a figure with the problem and its error, write it to `path` and close it."""
    import matplotlib.pyplot as plt

    title = ds.attrs.get("problem", "")
    if "relative_l2" in ds.attrs:
        title += f"   relative L2 = {ds.attrs['relative_l2']:.2e}"
    fig.suptitle(title)
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
