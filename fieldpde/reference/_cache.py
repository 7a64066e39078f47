"""Reference solutions computed once and then read back from a cache folder."""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._atomic import atomic_write


def cache_dir() -> Path:
    """The folder where slow references are kept between runs.

    Returns:
        ``$FIELDPDE_CACHE`` as a `pathlib.Path`, by default ``~/.cache/fieldpde`` (it need
        not exist yet).

    Example:
        >>> import os
        >>> default = Path.home() / ".cache" / "fieldpde"
        >>> cache_dir() == Path(os.environ.get("FIELDPDE_CACHE", default))
        True
    """
    return Path(os.environ.get("FIELDPDE_CACHE", Path.home() / ".cache" / "fieldpde"))


def cached_dataset(name: str, compute: Callable[[], Any], *, folder: Any = None, **key: Any) -> Any:
    """The xarray Dataset ``compute()``, computed once per `name` and `key`, then read back.

    The Dataset is kept as netCDF in `folder` under a file name made of `name` and the
    `key` items (floats to 12 significant digits), so a reference that takes minutes to
    solve is solved once per machine and set of settings. The file is written through a
    temporary renamed over it: a killed solve leaves no half-written cache behind.

    Args:
        name: what is solved, e.g. ``"burgers"``.
        compute: returns the Dataset (called only when the cache has no file for `key`).
        folder: the cache folder (default: `cache_dir`).
        **key: every setting that changes the result (numbers or short strings).

    Returns:
        The Dataset, loaded into memory (the file is closed).

    Example:
        >>> import os, tempfile, xarray as xr
        >>> folder, calls = tempfile.mkdtemp(), []
        >>> def solve():
        ...     calls.append(1)
        ...     return xr.Dataset({"u": ("x", [1.0, 2.0])}, attrs={"method": "exact"})
        >>> first = cached_dataset("demo", solve, folder=folder, modes=2, nu=0.01)
        >>> again = cached_dataset("demo", solve, folder=folder, modes=2, nu=0.01)
        >>> again.identical(first), len(calls), os.listdir(folder)
        (True, 1, ['demo_modes2_nu0.01.nc'])
    """
    import xarray as xr

    parts = [name] + [
        f"{k}{format(v, '.12g') if isinstance(v, float) else v}" for k, v in key.items()
    ]
    path = Path(cache_dir() if folder is None else folder) / ("_".join(parts) + ".nc")
    if path.exists():
        with xr.open_dataset(path) as ds:
            return ds.load()
    ds = compute()
    atomic_write(path, ds.to_netcdf)
    return ds
