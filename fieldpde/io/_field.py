"""A neural field fitted to gridded data, queried back as xarray objects."""

import math
from dataclasses import dataclass
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._coords import AxisEncoding
from ._query import check_options, nearest_missing, outside_cells


@final
@dataclass(frozen=True, eq=False)
class Coordinate:
    """A coordinate variable of the source: its dimensions, values and attributes."""

    dims: tuple[str, ...]
    values: np.ndarray
    attrs: dict[str, Any]


@final
@dataclass(frozen=True, eq=False)
class Source:
    """Everything about the fitted data except the weights (hashed by identity, so that a
    `FittedField` can be passed through `jax.jit` with this as static metadata).

    Attributes:
        kind: ``"DataArray"`` or ``"Dataset"``.
        dims: the dimensions, in the source's order.
        shape: the training grid's size along each dimension.
        axes: one `AxisEncoding` per dimension.
        variables: variable names (a DataArray's name may be ``None``).
        var_attrs, var_dtypes: attributes and dtype names of each variable.
        mean, std: the standardisation of each variable (over its finite cells).
        coords: the source's coordinates whose dimensions are among `dims`.
        indexed: dimensions that had a coordinate (the others get positions 0, 1, ...).
        attrs: the source's own attributes (a Dataset's global attributes).
        architecture: SIREN hyper-parameters (``in_features``, ``width``, ``depth``,
            ``out_features``, ``omega``, ``hidden_omega``, ``c``, ``dtype``).
        ensemble_size: number of stacked members, or ``None`` for a single fit.
        training: a record of the fit (steps, points, seed, final loss, status).
        missing: bool ``(len(variables), *shape)``, true where the source cell was not
            finite (NaN: land, clouds, gaps); ``None`` for a field saved before it was kept.
        spread: an ensemble's calibration, one factor per variable by which the members'
            deviations from their mean are scaled (``fit_xarray(calibrate=...)``); ``None``
            for none.
    """

    kind: str
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    axes: tuple[AxisEncoding, ...]
    variables: tuple[Any, ...]
    var_attrs: tuple[dict[str, Any], ...]
    var_dtypes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    coords: dict[str, Coordinate]
    indexed: tuple[str, ...]
    attrs: dict[str, Any]
    architecture: dict[str, Any]
    ensemble_size: int | None
    training: dict[str, Any]
    missing: np.ndarray | None = None
    spread: tuple[float, ...] | None = None


def inflate(members: Any, spread: tuple[float, ...] | None) -> Any:
    """Members ``(e, ..., m)`` with their deviations from the mean scaled by `spread`, one
    factor per variable (numpy or JAX arrays; unchanged when `spread` is None)."""
    if spread is None:
        return members
    mean = members.mean(axis=0)
    return mean + (members - mean) * np.asarray(spread, dtype=members.dtype)


@final
class FittedField(eqx.Module):
    r"""A SIREN fitted to a DataArray or Dataset, with everything needed to query it.

    Calling the field maps encoded inputs (see `encode`) to values in the data's units,
    $u(x') = \sigma\,\Phi(x') + \mu$, and is an ordinary JAX function (jit, vmap, grad).
    `predict` goes from and to xarray: it takes coordinates in the data's own units and
    returns an object shaped like the source.

    Attributes:
        net: the `SIREN` (for an ensemble, members stacked on a leading axis).
        source: the metadata (`Source`): dimensions, coordinate encodings, variable names,
            attributes, dtypes and standardisation.

    Example:
        >>> import numpy as np, xarray as xr
        >>> from fieldpde.io import fit_xarray
        >>> da = xr.DataArray(np.sin(np.linspace(0, 3, 20)), dims="x", name="u",
        ...                   coords={"x": np.linspace(0, 1, 20)}, attrs={"units": "m"})
        >>> field = fit_xarray(da, width=16, depth=3, omega=5.0, steps=200, progress=False)
        >>> out = field.predict(x=np.linspace(0, 1, 5))
        >>> out.dims, out.name, out.attrs["units"], bool(abs(out - np.sin(3 * out.x)).max() < 0.05)
        (('x',), 'u', 'm', True)
    """

    net: Any
    source: Source = eqx.field(static=True)

    @property
    def dims(self) -> tuple[str, ...]:
        return self.source.dims

    @property
    def ensemble_size(self) -> int | None:
        return self.source.ensemble_size

    def __call__(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch m"]:
        """Values (data units) at encoded inputs; an ensemble gives ``(e, *batch, m)``
        (calibrated members, when the fit was: see `Source.spread`)."""
        mean = jnp.asarray(self.source.mean, dtype=x.dtype)
        std = jnp.asarray(self.source.std, dtype=x.dtype)
        return inflate(self._raw(x) * std + mean, self.source.spread)

    def _raw(self, x):
        if self.source.ensemble_size is None:
            return self.net(x)
        return eqx.filter_vmap(lambda net: net(x))(self.net)

    def save(self, path: Any) -> None:
        """Write the field to one file (zip of JSON metadata, coordinates and weights; no
        pickle), atomically: a failed write never replaces an existing file. Read it back
        with `fieldpde.io.load_field`.

        The file gets the permissions a plain ``open`` would give it (the umask; those of
        the file it replaces), and temporaries left beside it by a killed earlier save are
        removed. `path` is checked first: a directory, or a folder that cannot be written,
        is a `ValueError` naming `path`.
        """
        from ._persist import save_field

        save_field(self, path)

    def encode(self, **coords: Any) -> np.ndarray:
        """Network inputs for points given as one coordinate array per dimension.

        Every dimension must be given, with arrays of the same length ``n`` (points, not a
        grid); returns a float64 array ``(n, d')``.
        """
        missing = [d for d in self.dims if d not in coords]
        extra = [k for k in coords if k not in self.dims]
        if missing or extra:
            raise ValueError(
                f"`encode` needs one array per dimension {self.dims}; missing {missing}, "
                f"unknown {extra}"
            )
        cols = [a.encode(np.atleast_1d(coords[a.name])) for a in self.source.axes]
        lengths = {c.shape[0] for c in cols}
        if len(lengths) != 1:
            raise ValueError(f"`encode`: coordinate arrays differ in length: {lengths}")
        return np.concatenate(cols, axis=1)

    def predict(
        self,
        like: Any = None,
        *,
        chunk: int = 65536,
        outside: str = "warn",
        margin: float = 0.1,
        keep_mask: bool = False,
        quantiles: Any = None,
        members: bool = False,
        **coords: Any,
    ):
        """The field on a grid, as an object shaped like the data it was fitted to.

        Args:
            like: an xarray object (or a mapping of coordinates) whose coordinates give
                the grid; dimensions it lacks keep the training coordinates.
            chunk: points evaluated per compiled call; memory stays bounded by the output
                arrays plus one chunk, so a 4000 x 4000 grid fits in a few hundred MB.
            outside: what to do where the grid lies beyond a dimension's training range by
                more than `margin` of that range (the field extrapolates there, and its
                values are not informed by the data): ``"warn"`` (default) warns, naming
                the dimensions; ``"raise"`` raises a `ValueError` before anything is
                evaluated; ``"mask"`` makes those cells NaN; ``"ignore"`` does nothing.
                Periodic dimensions have no outside; a dimension fitted on a single
                coordinate allows only that coordinate.
            margin: how far beyond its training range a coordinate may lie, as a fraction
                of the range, before it counts as outside (0.1: 18° for latitudes
                fitted on [-90, 90]).
            keep_mask: give the source's missing cells back as NaN: each grid cell takes
                the missing/valid state of the nearest training cell, so on the training
                grid exactly the cells that were NaN in the data are NaN again (land,
                clouds), and on a finer grid the mask is refined by nearest neighbour.
                By default every cell is filled.
            quantiles: for an ensemble fit, probabilities in (0, 1) (e.g. ``(0.05, 0.95)``)
                at which to give the members' empirical quantiles, as ``<name>_quantile``
                with a leading ``quantile`` dimension.
            members: for an ensemble fit, also give every member's prediction as
                ``<name>_member`` with a leading ``member`` dimension (for ensemble scores
                such as the fair CRPS, `fieldpde.bayes.score_xarray`).
            **coords: new coordinates per dimension (any order, spacing or resolution;
                datetime64 for a time axis); they override `like`.

        Returns:
            A DataArray for a DataArray fit, a Dataset for a Dataset fit, with the same
            dimension names and order, coordinates, attributes, names and dtypes. Without
            arguments the grid is the training grid. An ensemble fit returns a Dataset with
            each variable's mean under its own name and its standard deviation as
            ``<name>_std``, with CF metadata: the mean's ``ancillary_variables`` names its
            uncertainty variables, and ``<name>_std`` has the mean's units and the
            standard name ``"<standard_name> standard_error"`` (the CF modifier).
            Integer variables are returned as float64 where cells may be
            NaN (``keep_mask=True`` or ``outside="mask"``), and their standard deviations
            are float64.

        Raises:
            ValueError: an unknown dimension, bad coordinates or options, or with
                ``outside="raise"`` a grid beyond the training range.
        """
        import xarray as xr

        from .._checks import positive_int

        chunk = positive_int("chunk", chunk)
        margin = check_options(outside, margin, keep_mask, self.source.missing is not None)
        probs = self._check_uncertainty_options(quantiles, members)
        unknown = [k for k in coords if k not in self.dims]
        if unknown:
            raise ValueError(
                f"unknown dimension(s) {unknown} passed to `predict`; the field's dimensions "
                f"are {self.dims}"
            )
        grid, kept = self._grid(like, coords)
        sizes = tuple(
            n if grid[d][0] is None else len(grid[d][0])
            for d, n in zip(self.dims, self.source.shape, strict=True)
        )
        # dimensions without a coordinate are indexed by position 0..n-1
        query = [
            np.arange(n) if grid[d][0] is None else grid[d][0]
            for d, n in zip(self.dims, sizes, strict=True)
        ]
        drop = outside_cells(self.source.axes, query, outside, margin)
        if keep_mask and self.source.missing is not None:  # check_options: it is not None
            train = [
                self.source.coords[d].values if d in self.source.indexed else np.arange(n)
                for d, n in zip(self.dims, self.source.shape, strict=True)
            ]
            missing = nearest_missing(self.source.axes, train, query, self.source.missing)
            drop = missing if drop is None else missing | drop[None]
        elif drop is not None:
            drop = np.broadcast_to(drop, (len(self.source.variables),) + drop.shape)
        mean, std, extra = self._evaluate(
            query, sizes, chunk, drop, keep_mask or outside == "mask", probs, members
        )
        src = self.source
        out_coords = {}
        for d in self.dims:
            values, attrs = grid[d]
            if values is None:
                continue
            out_coords[d] = xr.Variable((d,), values, attrs)
        # auxiliary coordinates come along when their dimensions kept the training grid
        for name, c in src.coords.items():
            if name not in self.dims and set(c.dims) <= kept:
                out_coords[name] = xr.Variable(c.dims, c.values, dict(c.attrs))
        if probs is not None:
            out_coords["quantile"] = xr.Variable(
                ("quantile",), np.asarray(probs), {"long_name": "probability of the quantile"}
            )
        if members:
            out_coords["member"] = xr.Variable(
                ("member",), np.arange(src.ensemble_size or 0), {"long_name": "ensemble member"}
            )
        data_vars = {}
        for j, name in enumerate(src.variables):
            attrs = dict(src.var_attrs[j])
            data_vars[name] = xr.Variable(self.dims, mean[j], attrs)
            if std is not None:
                uncertainty = _uncertainty_variables(
                    name,
                    attrs,
                    self.dims,
                    std[j],
                    extra.get("quantile"),
                    extra.get("member"),
                    j,
                    None if src.spread is None else src.spread[j],
                )
                data_vars[name].attrs["ancillary_variables"] = " ".join(uncertainty)
                data_vars.update(uncertainty)
        if src.kind == "DataArray" and std is None:
            name = src.variables[0]
            return xr.DataArray(
                data_vars[name], coords=out_coords, name=name, attrs=dict(src.var_attrs[0])
            )
        return xr.Dataset(data_vars, coords=out_coords, attrs=dict(src.attrs))

    def _grid(self, like, coords) -> tuple[dict[str, tuple[Any, dict[str, Any]]], set[str]]:
        """Per dimension (coordinate values or None for positions, attributes), and the
        dimensions that keep their training coordinates."""
        src = self.source
        like_coords = {}
        if like is not None:
            if hasattr(like, "coords") and hasattr(like, "sizes"):
                for d in self.dims:
                    if d in like.coords:
                        c = like.coords[d]
                        like_coords[d] = (c.values, dict(c.attrs) or self._attrs(d))
                    elif d in like.sizes:
                        if d in src.indexed:
                            raise ValueError(
                                f"`like` has dimension `{d}` without a coordinate; the field "
                                f"was fitted on coordinates of `{d}`"
                            )
                        like_coords[d] = (np.arange(like.sizes[d]), {})
            elif isinstance(like, dict):
                like_coords = {d: (np.asarray(v), self._attrs(d)) for d, v in like.items()}
            else:
                raise TypeError(
                    f"`like` must be an xarray DataArray/Dataset or a dict of coordinates, "
                    f"got {type(like).__name__}"
                )
            if not like_coords:
                raise ValueError(
                    f"`like` shares no dimension with the field's dimensions {self.dims}"
                )
        grid, kept = {}, set()
        for d in self.dims:
            if d in coords:
                values = np.asarray(coords[d])
                if values.ndim == 0:
                    values = values[None]
                grid[d] = (values, self._attrs(d))
            elif d in like_coords:
                grid[d] = like_coords[d]
            elif d in src.indexed:
                grid[d] = (src.coords[d].values, dict(src.coords[d].attrs))
                kept.add(d)
            else:
                grid[d] = (None, {})
                kept.add(d)
            values = grid[d][0]
            if values is not None and (values.ndim != 1 or values.size == 0):
                raise ValueError(
                    f"coordinates of `{d}` must be a non-empty 1-D array, got shape {values.shape}"
                )
        return grid, kept

    def _attrs(self, d: str) -> dict[str, Any]:
        c = self.source.coords.get(d)
        return dict(c.attrs) if c is not None else {}

    def _check_uncertainty_options(self, quantiles, members) -> tuple[float, ...] | None:
        """`quantiles` as a tuple of probabilities (or None); both need an ensemble."""
        if not isinstance(members, bool):
            raise TypeError(f"`members` must be True or False, got {members!r}")
        if quantiles is None and not members:
            return None
        if self.source.ensemble_size is None:
            which = "`quantiles`" if quantiles is not None else "`members`"
            raise ValueError(
                f"{which} needs an ensemble fit (`fit_xarray(..., ensemble_size=N)`); this "
                "field is a single fit"
            )
        if quantiles is None:
            return None
        probs = np.atleast_1d(np.asarray(quantiles, dtype=float))
        if probs.ndim != 1 or probs.size == 0 or not np.all((probs > 0) & (probs < 1)):
            raise ValueError(
                f"`quantiles` must be probabilities in (0, 1) such as (0.05, 0.95), got "
                f"{quantiles!r}"
            )
        return tuple(float(p) for p in probs)

    def _evaluate(
        self, query, sizes, chunk, drop=None, nan_ok=False, quantiles=None, members=False
    ):
        """Mean, ensemble std and extras per variable as arrays of the grid's shape.

        `drop`, if given, is a bool ``(m, *sizes)`` of cells to set to NaN; with `nan_ok`
        integer variables come out as float64 (whether or not a cell is dropped). The
        extras (ensembles only): ``"quantile"``, ``(m, q, *sizes)`` at the probabilities
        `quantiles`, and with `members` ``"member"``, ``(m, e, *sizes)``.
        """
        src = self.source
        inputs = [axis.encode(q) for axis, q in zip(src.axes, query, strict=True)]
        dtype = np.dtype(src.architecture["dtype"])
        total = math.prod(sizes)
        m = len(src.variables)
        kinds = [np.dtype(t) for t in src.var_dtypes]
        # NaN and standard deviations need a float dtype, whatever the data's was
        floats = [t if np.issubdtype(t, np.floating) else np.dtype(np.float64) for t in kinds]
        means = [
            np.empty(total, dtype=f if nan_ok else t) for t, f in zip(kinds, floats, strict=True)
        ]
        stds = None if src.ensemble_size is None else [np.empty(total, dtype=f) for f in floats]
        extra = {}
        if quantiles is not None:
            extra["quantile"] = np.empty((m, len(quantiles), total))
        if members:
            extra["member"] = np.empty((m, src.ensemble_size or 0, total))
        flat_drop = None if drop is None else drop.reshape(m, total)
        step = min(chunk, total)
        fn = _evaluator(self.net, src.ensemble_size)
        scale = np.asarray(src.std, dtype=np.float64)
        shift = np.asarray(src.mean, dtype=np.float64)
        for start in range(0, total, step):
            stop = min(start + step, total)
            idx = np.unravel_index(np.arange(start, stop), sizes)
            x = np.empty((step, sum(a.width for a in src.axes)), dtype=dtype)
            x[stop - start :] = 0.0  # the last chunk is padded to keep one compiled shape
            col = 0
            for axis, enc, i in zip(src.axes, inputs, idx, strict=True):
                x[: stop - start, col : col + axis.width] = enc[i]
                col += axis.width
            raw = np.asarray(fn(self.net, x), dtype=np.float64)
            if src.ensemble_size is None:
                mu, sd = raw[: stop - start] * scale + shift, None
            else:
                y = inflate(raw[:, : stop - start] * scale + shift, src.spread)
                mu, sd = y.mean(axis=0), y.std(axis=0, ddof=1 if y.shape[0] > 1 else 0)
                if quantiles is not None:
                    q = np.quantile(y, quantiles, axis=0)  # (q, n, m)
                    extra["quantile"][:, :, start:stop] = np.moveaxis(q, -1, 0)
                if members:
                    extra["member"][:, :, start:stop] = np.moveaxis(y, -1, 0)
            for j in range(m):
                values, spread = mu[:, j], None if sd is None else sd[:, j]
                if flat_drop is not None:
                    cut = flat_drop[j, start:stop]
                    values = np.where(cut, np.nan, values)
                    spread = None if spread is None else np.where(cut, np.nan, spread)
                    for a in extra.values():
                        a[j, :, start:stop] = np.where(cut, np.nan, a[j, :, start:stop])
                means[j][start:stop] = _cast(values, means[j].dtype)
                if spread is not None:
                    stds[j][start:stop] = spread.astype(stds[j].dtype)
        shape = tuple(sizes)
        means = [a.reshape(shape) for a in means]
        stds = None if stds is None else [a.reshape(shape) for a in stds]
        extra = {k: a.reshape(a.shape[:2] + shape) for k, a in extra.items()}
        return means, stds, extra


# attributes that describe the variable's physical meaning, copied to its uncertainty
_DESCRIBING = ("units", "long_name", "standard_name")


def _uncertainty_variables(
    name, attrs, dims, std, quantile, member, j, spread=None
) -> dict[str, Any]:
    """The ensemble's ``<name>_std`` (and ``_quantile``, ``_member``) xarray Variables,
    with CF attributes: the ``standard_error`` standard-name modifier on the std, and the
    units, long name and standard name of the mean; with `spread` (the variable's
    calibration factor) the long names say "calibrated" and a ``comment`` gives it."""
    import xarray as xr

    base = {k: attrs[k] for k in _DESCRIBING if k in attrs}
    long_name = attrs.get("long_name", str(name))
    if spread is not None:
        long_name = f"{long_name} (calibrated)"
        base["comment"] = (
            f"members' deviations from their mean scaled by {float(spread):.6g}, the rms "
            "standardised error on cells held out of the fit (fit_xarray's calibrate)"
        )
    std_attrs = {k: v for k, v in base.items() if k != "standard_name"}
    std_attrs["long_name"] = f"ensemble standard deviation of {long_name}"
    if "standard_name" in attrs:
        std_attrs["standard_name"] = f"{attrs['standard_name']} standard_error"
    out = {f"{name}_std": xr.Variable(dims, std, std_attrs)}
    if quantile is not None:
        q_attrs = dict(base, long_name=f"ensemble quantiles of {long_name}")
        out[f"{name}_quantile"] = xr.Variable(("quantile",) + dims, quantile[j], q_attrs)
    if member is not None:
        m_attrs = dict(base, long_name=f"ensemble members' {long_name}")
        out[f"{name}_member"] = xr.Variable(("member",) + dims, member[j], m_attrs)
    return out


def _cast(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype)


@eqx.filter_jit
def _apply(net, x):
    return net(x)


@eqx.filter_jit
def _apply_ensemble(net, x):
    return eqx.filter_vmap(lambda n: n(x))(net)


def _evaluator(net, ensemble_size):
    return _apply if ensemble_size is None else _apply_ensemble


def stack(members: list[Any]) -> Any:
    """Stack equinox modules of one structure along a new leading axis of their arrays."""
    arrays = [eqx.filter(m, eqx.is_array) for m in members]
    static = eqx.filter(members[0], eqx.is_array, inverse=True)
    stacked = jax.tree.map(lambda *a: jnp.stack(a), *arrays)
    return eqx.combine(stacked, static)
