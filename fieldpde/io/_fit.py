"""Fit a SIREN to a DataArray or Dataset: encode coordinates, standardise, train."""

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import positive_float, positive_int
from ..constraints import AbstractConstraint, MaskedObservations, Observations
from ..nn import SIREN
from ..problem import Problem
from ..train import fit, fit_ensemble
from ._coords import axis_encoding, is_global_longitude
from ._field import Coordinate, FittedField, Source, _apply_ensemble
from ._pde import GridPDE

DEFAULT_PERIOD = 360.0


def fit_xarray(
    obj: Any,
    *,
    variables: Sequence[str] | None = None,
    width: int = 128,
    depth: int = 4,
    omega: float = 30.0,
    hidden_omega: float = 30.0,
    steps: int = 2000,
    points: int = 4096,
    learning_rate: float = 1e-3,
    resample_every: int | None = None,
    lbfgs_steps: int = 0,
    periodic: Any = "auto",
    resolution_init: bool = True,
    constraints: Mapping[str, Any] | Sequence[Any] | None = None,
    ensemble_size: int | None = None,
    calibrate: float | None = None,
    seed: int = 0,
    dtype: Any = jnp.float32,
    progress: bool | None = None,
) -> FittedField:
    r"""Fit a neural field to gridded data held in xarray.

    Every dimension's coordinates are mapped to $[-1, 1]$ (`AxisEncoding`; ``datetime64``
    time as nanoseconds; a periodic dimension as $(\cos\theta, \sin\theta)$), each variable
    is standardised over its finite cells, $z = (y - \mu)/\sigma$, and a `SIREN` is trained
    with `fieldpde.train.fit` on an `Observations` loss over the finite cells only: NaN
    cells (land, clouds, missing data) never enter the loss. A Dataset's variables are the
    outputs of one network; where their NaN masks differ each output is fitted on its own
    finite cells, with the loss $\sum_j \frac{1}{n_j}\sum_{i \in F_j}(z_{ij} - \Phi_j(x_i))^2$.

    Args:
        obj: an `xarray.DataArray` (one output) or `xarray.Dataset` (one output per data
            variable); any dimension order, ascending or descending, uniform or not.
        variables: the Dataset variables to fit (default: all data variables; they must
            share their dimensions).
        width, depth: SIREN hidden width and number of layers (with the readout).
        omega, hidden_omega: $\omega_0$ of the first layer and $\omega$ of the others; a
            larger `omega` resolves finer detail per unit of the $[-1, 1]$ range.
        steps: Adam steps (cosine-decayed learning rate).
        points: cells per step (a random subset, redrawn every `resample_every` steps).
        learning_rate: peak Adam learning rate.
        resample_every: steps per batch of cells (default: 10 when `points` is below the
            number of cells, else all steps on the full set of cells).
        lbfgs_steps: L-BFGS steps on all cells after Adam (sharpens the fit).
        periodic: ``"auto"`` (default): a longitude (by name, CF ``units`` or
            ``standard_name``) covering the globe is periodic with period 360; ``None``:
            nothing is; a list of dimension names (period 360) or a dict name -> period.
        resolution_init: scale each dimension's first-layer weights at init by its number
            of grid points over the largest such number, so that a coarse axis (a few time
            steps) starts with proportionally low frequencies and the field interpolates
            smoothly along it instead of oscillating between samples.
        constraints: extra loss terms added to the data term, a list (named
            ``constraint_0``, ``constraint_1``, ... in the history) or a dict name -> term.
            A `GridPDE` (physics-regularised gap filling) is a residual in the data's
            coordinates and units on the box the grid spans, e.g. a Laplace smoothness
            prior ``GridPDE(lambda c, d: d.laplacian, weight=...)``; any other
            `AbstractConstraint` sees the network itself: standardised values on encoded
            inputs, ``(..., d') -> (..., m)``.
        ensemble_size: fit this many members from different seeds, all in one vmapped
            program (member $e$ is exactly the fit of seed ``fold_in(seed, e)``);
            `FittedField.predict` then returns means and standard deviations.
        calibrate: for an ensemble, the fraction of finite cells (e.g. ``0.1``) held out
            at random to calibrate its spread. Members trained from different seeds agree
            more than their errors warrant (their spread comes from the initialisation
            and batches alone), so the ensemble is fitted on the other cells and, per
            variable, the members' deviations from their mean are scaled by
            $c = \sqrt{\overline{(y_i - \bar u_i)^2 / s_i^2}}$ over the held-out cells
            $i$ (the maximum-likelihood scale of a Gaussian predictive, as in
            "std scaling", Laves et al. 2020). `predict`'s std, quantiles and members are
            then calibrated; $c$ and the cells' count are kept in
            ``field.source.training["calibration"]``. The held-out cells are not fitted.
            Default: no calibration.
        seed: seeds the initialisation and the batches.
        dtype: parameter dtype (float32 by default; float64 needs JAX's x64 mode).
        progress: show a progress bar (default: when stderr is a terminal).

    Returns:
        A `FittedField`.

    A dimension with a single coordinate (one time step, one level) is accepted: the data
    say nothing about variation along it, so the field is constant along it (see
    `AxisEncoding`) and `FittedField.predict` flags other coordinates there as outside
    the training range.

    Raises:
        TypeError: `obj` is not a DataArray or Dataset, or a coordinate is not numeric or
            datetime64.
        ValueError: no finite cells, variables with different dimensions, a coordinate
            with duplicated values, a one-point dimension declared periodic, bad options.

    Warns:
        UserWarning: cells that look like undecoded fill values (equal to a ``_FillValue``
            or ``missing_value`` attribute, or of magnitude >= 1e20): decode the file or
            mask them, or they are fitted as data.

    Example:
        Fill a gap in a 1-D profile:

        >>> import numpy as np, xarray as xr
        >>> x = np.linspace(0.0, 1.0, 21)
        >>> da = xr.DataArray(np.sin(3 * x), coords={"x": x}, dims="x", name="h")
        >>> field = fit_xarray(da.where(abs(x - 0.5) > 0.01), width=16, depth=3, omega=5.0,
        ...     steps=200, progress=False)  # the cell at x = 0.5 is NaN
        >>> filled = field.predict()
        >>> bool(np.isfinite(filled).all()), bool(abs(filled - da).max() < 0.05)
        (True, True)
    """
    import xarray as xr

    width = positive_int("width", width)
    depth = positive_int("depth", depth, minimum=2, hint="first layer plus linear readout")
    omega = positive_float("omega", omega)
    hidden_omega = positive_float("hidden_omega", hidden_omega)
    points = positive_int("points", points)
    steps = positive_int("steps", steps, minimum=0)
    seed = positive_int("seed", seed, minimum=0)
    if ensemble_size is not None:
        ensemble_size = positive_int("ensemble_size", ensemble_size)
    if calibrate is not None:
        calibrate = positive_float("calibrate", calibrate)
        if not calibrate < 0.5:
            raise ValueError(
                f"`calibrate` is the fraction of cells held out to calibrate the ensemble, "
                f"in (0, 0.5); got {calibrate!r}"
            )
        if ensemble_size is None or ensemble_size < 2:
            raise ValueError(
                "`calibrate` scales an ensemble's spread: it needs `ensemble_size` >= 2, got "
                f"{ensemble_size!r}"
            )

    if isinstance(obj, xr.DataArray):
        kind = "DataArray"
        arrays = [obj]
        names: list[Any] = [obj.name]
        attrs: dict[str, Any] = {}
    elif isinstance(obj, xr.Dataset):
        kind = "Dataset"
        names = list(obj.data_vars) if variables is None else list(variables)
        if not names:
            raise ValueError("`obj` has no data variables to fit")
        missing = [n for n in names if n not in obj.data_vars]
        if missing:
            raise ValueError(
                f"`variables` {missing} are not data variables of the Dataset "
                f"(it has {list(obj.data_vars)})"
            )
        arrays = [obj[n] for n in names]
        attrs = dict(obj.attrs)
    else:
        raise TypeError(f"`obj` must be an xarray DataArray or Dataset, got {type(obj).__name__}")
    dims = tuple(arrays[0].dims)
    if not dims:
        raise ValueError("`obj` must have at least one dimension")
    for n, a in zip(names, arrays, strict=True):
        if set(a.dims) != set(dims):
            raise ValueError(
                f"variable {n!r} has dimensions {a.dims} but {names[0]!r} has {dims}; fit "
                "variables of one grid together (select them with `variables`)"
            )
        if not (
            np.issubdtype(a.dtype, np.number) and not np.issubdtype(a.dtype, np.complexfloating)
        ):
            raise TypeError(f"variable {n!r} must hold real numbers, got dtype {a.dtype}")
    arrays = [a.transpose(*dims) for a in arrays]
    shape = tuple(int(arrays[0].sizes[d]) for d in dims)

    # coordinates and their encodings
    periods = _periods(periodic, dims, obj)
    axes, indexed = [], []
    for d, n in zip(dims, shape, strict=True):
        if d in obj.coords:
            c = obj.coords[d]
            values, c_attrs = np.asarray(c.values), dict(c.attrs)
            indexed.append(d)
        else:
            values, c_attrs = np.arange(n), {}
        if n == 1 and d in periods:
            raise ValueError(
                f"`periodic`: dimension `{d}` has a single coordinate, which gives no period "
                "to wrap; leave it out of `periodic` (it is then fitted as constant along it)"
            )
        axes.append(axis_encoding(d, values, c_attrs, periods.get(d)))
        _check_unique(d, values)
    coords = {
        name: Coordinate(tuple(c.dims), np.array(c.values), dict(c.attrs))
        for name, c in obj.coords.items()
        if set(c.dims) <= set(dims) and c.dtype != object
    }

    # values: standardised, NaN cells left out of the loss
    y = np.stack([np.asarray(a.values, dtype=np.float64).reshape(-1) for a in arrays], axis=1)
    source_finite = np.isfinite(y)
    for j, (n, a) in enumerate(zip(names, arrays, strict=True)):
        _warn_fill_values(n, a.attrs, y[source_finite[:, j], j])
    for n, count in zip(names, source_finite.sum(axis=0), strict=True):
        if count == 0:
            raise ValueError(f"variable {n!r} has no finite values to fit")
    held: tuple[np.ndarray, np.ndarray] | None = None  # (flat cell indices, their values)
    if calibrate is not None:
        cells = _calibration_cells(source_finite, names, calibrate, seed)
        held, y = (cells, y[cells]), y.copy()
        y[cells] = np.nan  # not fitted
    finite = np.isfinite(y)
    mean = np.array([y[finite[:, j], j].mean() for j in range(y.shape[1])])
    std = np.array([y[finite[:, j], j].std() for j in range(y.shape[1])])
    std = np.where(std > 0, std, 1.0)
    z = (y - mean) / std

    rows = np.flatnonzero(finite.any(axis=1))
    idx = np.unravel_index(rows, shape)
    enc = [
        a.encode(np.arange(n) if a.name not in indexed else obj.coords[a.name].values)
        for a, n in zip(axes, shape, strict=True)
    ]
    x = np.concatenate([e[i] for e, i in zip(enc, idx, strict=True)], axis=1)
    x_j = jnp.asarray(x, dtype=dtype)
    batch = min(points, len(rows))
    if resample_every is None:
        resample_every = 10 if batch < len(rows) else max(steps, 1)
    if finite[rows].all():
        data = Observations(x_j, jnp.asarray(z[rows], dtype=dtype), batch_size=batch)
    else:
        data = MaskedObservations(x_j, z[rows], finite[rows], batch_size=batch, dtype=dtype)
    terms = {"data": data}
    for name, c in _named_constraints(constraints).items():
        if name == "data":
            raise ValueError("`constraints` must not use the name 'data' (the data term)")
        terms[name] = c.build(tuple(axes), mean, std) if isinstance(c, GridPDE) else c
    problem = Problem(terms, name="fit_xarray")

    d_in = sum(a.width for a in axes)
    count = ensemble_size or 1
    member_keys = [
        jax.random.split(jax.random.fold_in(jax.random.key(seed), e)) for e in range(count)
    ]

    def init(init_key):
        net = SIREN.init(
            d_in,
            width,
            len(names),
            depth=depth,
            key=init_key,
            first_omega=omega,
            hidden_omega=hidden_omega,
            dtype=dtype,
        )
        return _scale_first_layer(net, axes, shape) if resolution_init else net

    settings: dict[str, Any] = dict(
        steps=steps,
        learning_rate=learning_rate,
        resample_every=resample_every,
        lbfgs_steps=lbfgs_steps,
        lbfgs_points=len(rows),
        progress=progress,
    )
    if not steps and not lbfgs_steps:
        # nothing to train: the field encodes the grid, untrained (for tests and timing)
        net = (
            init(member_keys[0][0])
            if ensemble_size is None
            else eqx.filter_vmap(init)(jnp.stack([k[0] for k in member_keys]))
        )
        records = [{"status": "untrained", "final_loss": float("nan"), "steps": 0}] * count
    elif ensemble_size is None:
        init_key, train_key = member_keys[0]
        result = fit(problem, init(init_key), key=train_key, **settings)
        if not result.ok:
            warnings.warn(f"fit_xarray: {result.message}", RuntimeWarning, stacklevel=2)
        net = result.field
        records = [
            {"status": result.status, "final_loss": result.final_loss, "steps": result.steps}
        ]
    else:
        # every member in one vmapped program, each exactly the fit it would be alone
        init_keys = jnp.stack([k[0] for k in member_keys])
        train_keys = jnp.stack([k[1] for k in member_keys])
        out = fit_ensemble(problem, eqx.filter_vmap(init)(init_keys), keys=train_keys, **settings)
        net = out.fields
        losses = out.history["loss"]
        failed = out.history["failed_at"]
        records = [
            {
                "status": out.status[e],
                "final_loss": float(losses[e, failed[e] - 1 if failed[e] > 0 else -1]),
                "steps": int(failed[e]) if failed[e] >= 0 else out.steps,
            }
            for e in range(ensemble_size)
        ]

    spread, training_extra = None, {}
    if held is not None:
        cells, y_held = held
        x_held = np.concatenate(
            [e[i] for e, i in zip(enc, np.unravel_index(cells, shape), strict=True)], axis=1
        )
        members = np.asarray(_apply_ensemble(net, jnp.asarray(x_held, dtype=dtype)), np.float64)
        spread = _spread(members * std + mean, y_held)
        training_extra["calibration"] = {
            "fraction": calibrate,
            "cells": [int(c) for c in np.isfinite(y_held).sum(axis=0)],
            "spread": list(spread),
        }

    source = Source(
        kind=kind,
        dims=dims,
        shape=shape,
        axes=tuple(axes),
        variables=tuple(names),
        var_attrs=tuple(dict(a.attrs) for a in arrays),
        var_dtypes=tuple(_output_dtype(a.dtype) for a in arrays),
        mean=tuple(float(v) for v in mean),
        std=tuple(float(v) for v in std),
        coords=coords,
        indexed=tuple(indexed),
        attrs=attrs,
        architecture={
            "in_features": d_in,
            "width": width,
            "depth": depth,
            "out_features": len(names),
            "omega": omega,
            "hidden_omega": hidden_omega,
            "c": 6.0,
            "dtype": np.dtype(dtype).name,
        },
        ensemble_size=ensemble_size,
        training={
            "steps": steps,
            "lbfgs_steps": lbfgs_steps,
            "points": points,
            "learning_rate": learning_rate,
            "seed": seed,
            "resolution_init": resolution_init,
            "cells": int(len(rows)),
            "members": records,
            **training_extra,
        },
        missing=(~source_finite).T.reshape((len(names),) + shape),
        spread=spread,
    )
    return FittedField(net, source)


def _calibration_cells(finite: np.ndarray, names: list[Any], fraction: float, seed: int):
    """Flat indices of the cells held out to calibrate an ensemble: `fraction` of the cells
    with a finite value, at random (from `seed`), leaving every variable some to fit."""
    rows = np.flatnonzero(finite.any(axis=1))
    count = int(round(fraction * len(rows)))
    held = np.sort(np.random.default_rng([seed, 1]).choice(rows, size=count, replace=False))
    for j, n in enumerate(names):
        got, left = int(finite[held, j].sum()), int(finite[:, j].sum() - finite[held, j].sum())
        if got < 10 or left < 1:
            raise ValueError(
                f"`calibrate` {fraction:g} holds out {got} finite cell(s) of variable {n!r} and "
                f"leaves {left} to fit: it needs at least 10 held out and some left; use a "
                "larger fraction, or no calibration on so few cells"
            )
    return held


def _spread(members: np.ndarray, truth: np.ndarray) -> tuple[float, ...]:
    """Per variable, the scale $c$ of the members' spread that maximises the Gaussian
    likelihood of `truth` ``(n, m)`` under mean and $c$ times the std of `members`
    ``(e, n, m)``: $c^2$ is the mean of the squared standardised errors (finite cells)."""
    mean, sd = members.mean(axis=0), members.std(axis=0, ddof=1)
    tiny = np.finfo(np.float64).tiny
    z2 = ((truth - mean) / np.maximum(sd, tiny)) ** 2
    out = []
    for j in range(truth.shape[1]):
        ok = np.isfinite(truth[:, j])
        out.append(float(np.sqrt(np.mean(z2[ok, j]))))
    return tuple(out)


# netCDF's default fill values are ~9.97e36 (float) and 1e20 or 1e30 are common choices;
# no standardised physical field gets near these magnitudes
FILL_MAGNITUDE = 1e20


def _check_unique(name: Any, values: np.ndarray) -> None:
    """A dimension's coordinate values must be distinct: duplicates are fitted twice."""
    uniq, counts = np.unique(values, return_counts=True)
    if uniq.size < values.size:
        dup = uniq[counts > 1]
        shown = ", ".join(str(v) for v in dup[:5]) + (", ..." if dup.size > 5 else "")
        raise ValueError(
            f"coordinate `{name}` has {values.size - uniq.size} duplicated value(s) ({shown}): "
            f"each cell of `obj` must have its own coordinates; drop or merge the duplicates "
            f"first, e.g. `obj.drop_duplicates({name!r})` or `obj.groupby({name!r}).mean()`"
        )


def _warn_fill_values(name: Any, attrs: Mapping[str, Any], finite: np.ndarray) -> None:
    """Warn about cells that look like undecoded fill values (they would be fitted as data)."""
    declared = []
    for key in ("_FillValue", "missing_value"):
        if key in attrs:
            try:
                declared += [(key, float(v)) for v in np.atleast_1d(attrs[key]).ravel()]
            except (TypeError, ValueError):
                continue
    for key, value in declared:
        count = int(np.count_nonzero(finite == value))
        if count:
            warnings.warn(
                f"fit_xarray: variable {name!r} has {count} cell(s) equal to its `{key}` "
                f"attribute {value:g}: the file was read without decoding, so they are fitted "
                "as data. Open it with decoding (`xr.open_dataset(path)`, the default "
                "`mask_and_scale=True`) or mask them first: `da.where(da != da.attrs"
                f"[{key!r}])`",
                UserWarning,
                stacklevel=3,
            )
    huge = np.abs(finite) >= FILL_MAGNITUDE
    if huge.any():
        largest = float(np.max(np.abs(finite[huge])))
        warnings.warn(
            f"fit_xarray: variable {name!r} has {int(huge.sum())} cell(s) of magnitude >= "
            f"{FILL_MAGNITUDE:g} (up to {largest:g}): these look like undecoded fill values "
            "and would dominate the fit. Decode the file (`xr.open_dataset(path)` with the "
            "default `mask_and_scale=True`) or mask them first: "
            f"`da.where(abs(da) < {FILL_MAGNITUDE:g})`",
            UserWarning,
            stacklevel=3,
        )


def _named_constraints(constraints: Any) -> dict[str, Any]:
    """`constraints` as a dict name -> term, each a `GridPDE` or an `AbstractConstraint`."""
    if constraints is None:
        return {}
    if isinstance(constraints, Mapping):
        named = dict(constraints)
    elif isinstance(constraints, Sequence) and not isinstance(constraints, str):
        named = {f"constraint_{i}": c for i, c in enumerate(constraints)}
    else:
        raise TypeError(
            "`constraints` must be a list of terms or a dict name -> term, got "
            f"{type(constraints).__name__}"
        )
    for name, c in named.items():
        if not isinstance(c, GridPDE | AbstractConstraint):
            raise TypeError(
                f"`constraints`: {name!r} must be a GridPDE or a fieldpde constraint, got "
                f"{type(c).__name__}"
            )
    return named


def _scale_first_layer(net: SIREN, axes, shape) -> SIREN:
    """Multiply the first-layer weight rows of each dimension by ``n_d / max(n)``."""
    rows = np.concatenate(
        [np.full(a.width, n / max(shape)) for a, n in zip(axes, shape, strict=True)]
    )
    W = net.layers[0].W
    return eqx.tree_at(lambda s: s.layers[0].W, net, W * jnp.asarray(rows, W.dtype)[:, None])


def _output_dtype(dtype) -> str:
    return np.dtype(dtype).name


def _periods(periodic: Any, dims: tuple[str, ...], obj: Any) -> dict[str, float]:
    if periodic is None or periodic is False:
        return {}
    if isinstance(periodic, str) and periodic == "auto":
        out = {}
        for d in dims:
            if d in obj.coords:
                c = obj.coords[d]
                if is_global_longitude(d, np.asarray(c.values), dict(c.attrs)):
                    out[d] = DEFAULT_PERIOD
        return out
    if isinstance(periodic, str):
        periodic = [periodic]
    items = (
        periodic.items()
        if isinstance(periodic, Mapping)
        else ((p, DEFAULT_PERIOD) for p in periodic)
    )
    out = {}
    for name, period in items:
        if name not in dims:
            raise ValueError(f"`periodic`: {name!r} is not a dimension of `obj` {dims}")
        out[name] = positive_float("periodic", period)
    return out
