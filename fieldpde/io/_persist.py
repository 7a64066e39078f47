"""Save a `FittedField` to one file and load it back exactly, without pickle.

The file is a zip archive (the layout of the training checkpoints) holding

- ``field.json``: the format tag, the SIREN architecture, the coordinate encodings, the
  value standardisation, dimension and variable names, attributes and dtypes;
- ``coords.npz``: the training coordinates and the source's mask of missing cells (read
  with ``allow_pickle=False``);
- ``weights.eqx``: the network's arrays (`equinox.tree_serialise_leaves`).

Loading builds a skeleton network from the architecture in the JSON and fills it with the
stored arrays, so nothing in a file is ever executed. The archive's CRCs catch corrupt or
truncated files; everything is read and checked before the field is built, so a bad file
raises instead of returning a half-loaded model. Writes go to a temporary file that is
renamed over the target only when complete (`fieldpde._atomic`: the file gets the
permissions the umask gives, and temporaries left by killed writers are cleaned up).
"""

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import numpy as np

from .._atomic import atomic_write_bytes, check_target
from ..nn import SIREN
from ._coords import AxisEncoding
from ._field import Coordinate, FittedField, Source

FORMAT = "fieldpde-field/1"


def save_field(field: FittedField, path: str | os.PathLike) -> None:
    """Write `field` to `path` (see `FittedField.save`)."""
    if not isinstance(field, FittedField):
        raise TypeError(f"`field` must be a FittedField, got {type(field).__name__}")
    path = check_target(path, "path", example="field.field")
    src = field.source
    arrays, coord_meta = {}, []
    for i, (name, c) in enumerate(src.coords.items()):
        arrays[f"c{i}"] = np.asarray(c.values)
        coord_meta.append({"name": name, "dims": list(c.dims), "attrs": _attrs_out(c.attrs)})
    if src.missing is not None:
        arrays["missing"] = np.asarray(src.missing, dtype=bool)
    meta = {
        "format": FORMAT,
        "kind": src.kind,
        "dims": list(src.dims),
        "shape": list(src.shape),
        "axes": [a.to_json() for a in src.axes],
        "variables": list(src.variables),
        "var_attrs": [_attrs_out(a) for a in src.var_attrs],
        "var_dtypes": list(src.var_dtypes),
        "mean": list(src.mean),
        "std": list(src.std),
        "coords": coord_meta,
        "indexed": list(src.indexed),
        "attrs": _attrs_out(src.attrs),
        "architecture": src.architecture,
        "ensemble_size": src.ensemble_size,
        "training": src.training,
        "spread": None if src.spread is None else list(src.spread),
    }
    npz = io.BytesIO()
    np.savez(npz, **arrays)
    weights = io.BytesIO()
    eqx.tree_serialise_leaves(weights, field.net)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("field.json", json.dumps(meta, allow_nan=True))
        zf.writestr("coords.npz", npz.getvalue())
        zf.writestr("weights.eqx", weights.getvalue())
    atomic_write_bytes(path, buf.getvalue())


def load_field(path: str | os.PathLike) -> FittedField:
    """Load a field written by `FittedField.save`.

    Predictions of the loaded field are bit-identical to those of the saved one.

    Args:
        path: the field file.

    Returns:
        The `FittedField`.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the file is not a fieldpde field file (another format, a checkpoint, a
            netCDF file), or it is truncated or corrupt.

    Example:
        >>> import numpy as np, xarray as xr, tempfile, os
        >>> from fieldpde.io import fit_xarray
        >>> da = xr.DataArray(np.arange(6.0), dims="x", name="h")
        >>> field = fit_xarray(da, width=8, depth=2, steps=5, progress=False)
        >>> path = os.path.join(tempfile.mkdtemp(), "h.field")
        >>> field.save(path)
        >>> bool((load_field(path).predict() == field.predict()).all())
        True
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no fieldpde field file at `{path}`")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "field.json" not in names:
                raise _Foreign(
                    "it has no field.json"
                    + (" (it is a training checkpoint)" if "meta.json" in names else "")
                )
            meta = json.loads(zf.read("field.json"))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                got = meta.get("format") if isinstance(meta, dict) else None
                raise _Foreign(f"its format is {got!r}, expected {FORMAT!r}")
            coords_bytes = zf.read("coords.npz")
            weights_bytes = zf.read("weights.eqx")
        with np.load(io.BytesIO(coords_bytes), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        source = _source(meta, arrays)
        net = eqx.tree_deserialise_leaves(io.BytesIO(weights_bytes), _skeleton(source))
        # every byte of the weights must have been used: a longer stream is a different model
        if len(weights_bytes) != _serialised_size(net):
            raise ValueError("the weights do not match the architecture")
    except FileNotFoundError:
        raise
    except _Foreign as err:
        raise ValueError(f"`{path}` is not a fieldpde field file: {err}") from None
    except zipfile.BadZipFile as err:
        raise ValueError(
            f"`{path}` is not a fieldpde field file, or it is truncated or corrupt ({err})"
        ) from err
    except Exception as err:  # json, npz, shape and dtype errors all mean "not loadable"
        raise ValueError(f"`{path}` is a corrupt fieldpde field file: {err}") from err
    return FittedField(net, source)


class _Foreign(Exception):
    pass


def _serialised_size(net) -> int:
    buf = io.BytesIO()
    eqx.tree_serialise_leaves(buf, net)
    return len(buf.getvalue())


def _skeleton(source: Source):
    arch = source.architecture
    dtype = np.dtype(arch["dtype"])
    if dtype == np.float64 and not jax.config.read("jax_enable_x64"):
        raise ValueError(
            "the field was saved in float64: call jax.config.update('jax_enable_x64', True) "
            "before loading it"
        )

    def make(key):
        return SIREN.init(
            int(arch["in_features"]),
            int(arch["width"]),
            int(arch["out_features"]),
            depth=int(arch["depth"]),
            key=key,
            first_omega=float(arch["omega"]),
            hidden_omega=float(arch["hidden_omega"]),
            c=float(arch["c"]),
            dtype=dtype,
        )

    if source.ensemble_size is None:
        return make(jax.random.key(0))
    return eqx.filter_vmap(make)(jax.random.split(jax.random.key(0), source.ensemble_size))


def _source(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Source:
    coords = {}
    for i, c in enumerate(meta["coords"]):
        coords[c["name"]] = Coordinate(tuple(c["dims"]), arrays[f"c{i}"], _attrs_in(c["attrs"]))
    dims = tuple(meta["dims"])
    axes = tuple(AxisEncoding.from_json(a) for a in meta["axes"])
    variables = tuple(meta["variables"])
    m = len(variables)
    arch = dict(meta["architecture"])
    if tuple(a.name for a in axes) != dims or len(meta["shape"]) != len(dims):
        raise ValueError("the axis encodings do not match the dimensions")
    if not (len(meta["var_attrs"]) == len(meta["var_dtypes"]) == len(meta["mean"]) == m):
        raise ValueError("per-variable metadata has inconsistent lengths")
    if int(arch["out_features"]) != m or int(arch["in_features"]) != sum(a.width for a in axes):
        raise ValueError("the architecture does not match the variables and dimensions")
    for t in meta["var_dtypes"]:
        np.dtype(t)
    shape = tuple(int(n) for n in meta["shape"])
    missing = arrays.get("missing")  # absent from files saved before it was kept
    if missing is not None and (missing.dtype != bool or missing.shape != (m,) + shape):
        raise ValueError("the source mask does not match the variables and grid")
    return Source(
        kind=meta["kind"],
        dims=dims,
        shape=shape,
        axes=axes,
        variables=variables,
        var_attrs=tuple(_attrs_in(a) for a in meta["var_attrs"]),
        var_dtypes=tuple(meta["var_dtypes"]),
        mean=tuple(float(v) for v in meta["mean"]),
        std=tuple(float(v) for v in meta["std"]),
        coords=coords,
        indexed=tuple(meta["indexed"]),
        attrs=_attrs_in(meta["attrs"]),
        architecture=arch,
        ensemble_size=meta["ensemble_size"],
        training=meta["training"],
        missing=missing,
        spread=None if meta.get("spread") is None else tuple(float(v) for v in meta["spread"]),
    )


def _attrs_out(attrs: dict[str, Any]) -> list[list[Any]]:
    """Attributes as JSON, tagging numpy values with their dtype so they come back exactly."""
    out = []
    for k, v in attrs.items():
        if isinstance(v, np.ndarray):
            out.append([k, "ndarray", v.dtype.str, v.tolist()])
        elif isinstance(v, np.generic):
            out.append([k, "scalar", v.dtype.str, v.item()])
        elif isinstance(v, (str, bool, int, float)) or v is None:
            out.append([k, "py", None, v])
        elif isinstance(v, (list, tuple)) and all(isinstance(e, (str, int, float)) for e in v):
            out.append([k, type(v).__name__, None, list(v)])
        else:
            raise TypeError(
                f"attribute {k!r} has a value of type {type(v).__name__} that cannot be saved"
            )
    return out


def _attrs_in(items: list[list[Any]]) -> dict[str, Any]:
    out = {}
    for k, tag, dtype, v in items:
        if tag == "ndarray":
            out[k] = np.array(v, dtype=np.dtype(dtype))
        elif tag == "scalar":
            out[k] = np.array(v, dtype=np.dtype(dtype))[()]
        elif tag == "py":
            out[k] = v
        elif tag in ("list", "tuple"):
            out[k] = v if tag == "list" else tuple(v)
        else:
            raise ValueError(f"unknown attribute tag {tag!r}")
    return out
