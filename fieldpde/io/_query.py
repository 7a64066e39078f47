"""Where a prediction grid leaves the data: coordinates beyond the training range, and the
source's missing cells carried over to the grid (used by `FittedField.predict`)."""

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._coords import AxisEncoding, nearest_index

OUTSIDE = ("warn", "raise", "mask", "ignore")


def check_options(outside: Any, margin: Any, keep_mask: Any, has_mask: bool) -> float:
    """Validate `predict`'s `outside`, `margin` and `keep_mask`; return `margin` as a float."""
    if not isinstance(outside, str) or outside not in OUTSIDE:
        raise ValueError(f"`outside` must be one of {OUTSIDE}, got {outside!r}")
    try:
        m = float(margin)
    except (TypeError, ValueError):
        m = math.nan
    if isinstance(margin, bool) or not (math.isfinite(m) and m >= 0):
        raise ValueError(
            f"`margin` must be a finite number >= 0 (a fraction of each dimension's training "
            f"range), got {margin!r}"
        )
    if not isinstance(keep_mask, bool):
        raise TypeError(f"`keep_mask` must be True or False, got {keep_mask!r}")
    if keep_mask and not has_mask:
        raise ValueError(
            "`keep_mask=True` needs the source's mask of missing cells, which this field "
            "does not have (it was saved by an older fieldpde); refit it to keep the mask"
        )
    return m


def _range_text(axis: AxisEncoding) -> str:
    if axis.kind == "time":
        lo, hi = (np.datetime64(int(axis.origin + v), "ns") for v in (axis.lo, axis.hi))
        return f"[{lo}, {hi}]"
    return f"[{axis.lo:g}, {axis.hi:g}]"


def _value_text(axis: AxisEncoding, values: np.ndarray) -> str:
    v = values[0]
    return str(v) if axis.kind == "time" else f"{float(v):g}"


def outside_cells(
    axes: Sequence[AxisEncoding],
    query: Sequence[np.ndarray],
    outside: str,
    margin: float,
) -> np.ndarray | None:
    """Apply the `outside` rule to a grid; return the cells to mask (``"mask"``) or None.

    `query` holds each dimension's grid coordinates (positions for a dimension without
    one). ``"warn"`` warns and ``"raise"`` raises before anything is evaluated.
    """
    if outside == "ignore":
        return None
    flags = [axis.beyond(q, margin) for axis, q in zip(axes, query, strict=True)]
    if not any(f.any() for f in flags):
        return None
    if outside == "mask":
        return _outer_or(flags)
    parts = []
    for axis, q, f in zip(axes, query, flags, strict=True):
        if not f.any():
            continue
        example = _value_text(axis, np.asarray(q)[f])
        if axis.lo == axis.hi:
            parts.append(
                f"`{axis.name}`: {int(f.sum())} of {f.size} coordinates (e.g. {example}) differ "
                f"from the single training coordinate {_range_text(axis)[1:-1].split(',')[0]} "
                "(the field is constant along it)"
            )
        else:
            parts.append(
                f"`{axis.name}`: {int(f.sum())} of {f.size} coordinates (e.g. {example}) lie "
                f"outside the training range {_range_text(axis)} by more than margin={margin:g}"
                " of it"
            )
    text = (
        f"predict: {'; '.join(parts)}. The field extrapolates there: its values are not "
        "informed by the data"
    )
    if outside == "raise":
        raise ValueError(
            f"`outside`='raise' and the grid leaves the data: {text}. Pass outside='mask' to "
            "get NaN there, or outside='ignore'"
        )
    widen = any(f.any() and a.lo != a.hi for a, f in zip(axes, flags, strict=True))
    warnings.warn(
        f"{text}; pass outside='mask' to get NaN there, 'raise' to make it an error, "
        f"{'or ' if not widen else ''}'ignore' to silence this"
        f"{', or a larger `margin`' if widen else ''}",
        UserWarning,
        stacklevel=4,  # the caller of predict (behind equinox's method wrapper)
    )
    return None


def nearest_missing(
    axes: Sequence[AxisEncoding],
    train: Sequence[np.ndarray],
    query: Sequence[np.ndarray],
    missing: np.ndarray,
) -> np.ndarray:
    """The source's missing-cell mask ``(m, *train_shape)`` carried to the grid by nearest cell.

    Each grid cell takes the state of the training cell nearest to it along every dimension
    (periodic dimensions wrap), so on the training grid this is the source mask itself.
    """
    index = [
        nearest_index(
            axis.as_float(t), axis.as_float(q), axis.period if axis.kind == "periodic" else None
        )
        for axis, t, q in zip(axes, train, query, strict=True)
    ]
    return missing[(slice(None),) + np.ix_(*index)]


def _outer_or(flags: Sequence[np.ndarray]) -> np.ndarray:
    """Cells of the grid ``flags[0] x flags[1] x ...`` where any dimension's flag is set."""
    d = len(flags)
    out = np.zeros(tuple(f.size for f in flags), dtype=bool)
    for k, f in enumerate(flags):
        out |= f.reshape([-1 if i == k else 1 for i in range(d)])
    return out
