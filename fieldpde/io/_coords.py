r"""Coordinate encodings: physical coordinates of one dimension to network inputs.

Each dimension of a gridded data set becomes one or two network inputs:

- ``"linear"``: $x' = 2 (x - x_\min)/(x_\max - x_\min) - 1$, so the training coordinates
  span $[-1, 1]$ whatever their order or spacing (descending latitude, non-uniform depth).
- ``"time"``: ``datetime64`` values as integer nanoseconds since the first time (exact in
  int64), then mapped linearly as above.
- ``"periodic"``: $\theta = 2\pi (x - x_0)/P$ encoded as $(\cos\theta, \sin\theta)$, so
  $x$ and $x + P$ (longitude 0° and 360°, or -180° and 180°) are the same input.

A dimension with a single training coordinate (one time step, one depth level) has no
range: it is encoded as 0 whatever the coordinate, so the field is constant along it.

An encoding is a small frozen record that serialises to JSON exactly (floats round-trip
through `repr`), so a loaded field maps coordinates bit-identically.
"""

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal, final

import numpy as np

Kind = Literal["linear", "time", "periodic"]

LONGITUDE_NAMES = ("lon", "longitude", "long", "nav_lon", "x_lon")
LONGITUDE_UNITS = ("degrees_east", "degree_east", "degree_e", "degrees_e", "degreee")


@final
@dataclass(frozen=True)
class AxisEncoding:
    """How one dimension's coordinates become network inputs.

    Attributes:
        name: the dimension name.
        kind: ``"linear"``, ``"time"`` or ``"periodic"``.
        lo, hi: the training range (for ``"time"``: nanoseconds relative to `origin`).
        period: the period $P$ of a periodic dimension (e.g. 360.0), else ``None``.
        origin: for ``"time"``, the first training time in integer nanoseconds since
            1970-01-01; for ``"periodic"``, $x_0$.

    Example:
        >>> import numpy as np
        >>> lat = AxisEncoding("lat", "linear", -30.0, 30.0)
        >>> lat.encode(np.array([30.0, 0.0, -30.0]))[:, 0].tolist()  # onto [-1, 1]
        [1.0, 0.0, -1.0]
        >>> lon = AxisEncoding("lon", "periodic", 0.0, 350.0, 360.0, 0.0)
        >>> np.round(lon.encode(np.array([90.0, 450.0])), 6).tolist()  # (cos, sin)
        [[0.0, 1.0], [0.0, 1.0]]
    """

    name: str
    kind: Kind
    lo: float
    hi: float
    period: float | None = None
    origin: int | float = 0

    @property
    def width(self) -> int:
        """Network inputs used by this dimension."""
        return 2 if self.kind == "periodic" else 1

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "AxisEncoding":
        if set(data) != {"name", "kind", "lo", "hi", "period", "origin"}:
            raise ValueError(f"bad axis encoding {data!r}")
        if data["kind"] not in ("linear", "time", "periodic"):
            raise ValueError(f"unknown axis kind {data['kind']!r}")
        return cls(**data)

    def encode(self, values: Any) -> np.ndarray:
        """Coordinates of this dimension, shape ``(n,)``, as inputs of shape ``(n, width)``."""
        x = self.as_float(values)
        if self.kind == "periodic":
            theta = (2.0 * math.pi / self.period) * (x - self.origin)
            return np.stack([np.cos(theta), np.sin(theta)], axis=-1)
        half = (self.hi - self.lo) / 2.0
        if half <= 0:
            # A single training coordinate says nothing about variation along the
            # dimension: every coordinate maps to 0, so the field is constant along it
            # (the fitted values), instead of moving by raw units (nanoseconds for time).
            return np.zeros((x.shape[0], 1))
        centre = (self.hi + self.lo) / 2.0
        return ((x - centre) / half)[:, None]

    def beyond(self, values: Any, margin: float) -> np.ndarray:
        """Which coordinates lie outside the training range by more than `margin` of it.

        The allowed interval is $[lo - m(hi - lo), hi + m(hi - lo)]$ with $m$ = `margin`;
        a periodic dimension has no outside, and a one-point dimension (``lo == hi``)
        allows only its own coordinate.

        Example:
            >>> lat = AxisEncoding("lat", "linear", -90.0, 90.0)
            >>> lat.beyond([0.0, 95.0, 500.0], 0.05).tolist()
            [False, False, True]
        """
        x = self.as_float(np.atleast_1d(np.asarray(values)))
        if self.kind == "periodic":
            return np.zeros(x.shape, dtype=bool)
        slack = margin * (self.hi - self.lo)
        return (x < self.lo - slack) | (x > self.hi + slack)

    def as_float(self, values: Any) -> np.ndarray:
        """Coordinates as float64 (time: nanoseconds since `origin`)."""
        arr = np.asarray(values)
        if arr.ndim != 1:
            raise ValueError(
                f"coordinates of `{self.name}` must be one-dimensional, got shape {arr.shape}"
            )
        if self.kind == "time":
            if not np.issubdtype(arr.dtype, np.datetime64):
                try:
                    if arr.dtype.kind not in "USO":  # dates as strings are fine, numbers not
                        raise TypeError(f"dtype {arr.dtype}")
                    arr = arr.astype("datetime64[ns]")
                except (TypeError, ValueError) as err:
                    raise TypeError(
                        f"coordinates of `{self.name}` must be datetime64 (the field was "
                        f"fitted on a time axis), got dtype {arr.dtype}"
                    ) from err
            ns = arr.astype("datetime64[ns]").astype(np.int64)
            if np.any(arr != arr):  # NaT
                raise ValueError(f"coordinates of `{self.name}` contain NaT")
            return (ns - np.int64(self.origin)).astype(np.float64)
        if np.issubdtype(arr.dtype, np.datetime64):
            raise TypeError(
                f"coordinates of `{self.name}` are datetime64 but the field was fitted on numbers"
            )
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise TypeError(
                f"coordinates of `{self.name}` must be numbers or datetime64, got dtype {arr.dtype}"
            )
        x = arr.astype(np.float64)
        if not np.all(np.isfinite(x)):
            raise ValueError(f"coordinates of `{self.name}` must be finite")
        return x


def nearest_index(train: np.ndarray, query: np.ndarray, period: float | None) -> np.ndarray:
    """For each `query` coordinate, the index of the nearest `train` coordinate.

    Distances wrap around `period` when it is given (longitude 359 is next to 0).

    Example:
        >>> nearest_index(np.array([0.0, 10.0, 20.0]), np.array([4.0, 6.0, 30.0]), None).tolist()
        [0, 1, 2]
        >>> nearest_index(np.array([0.0, 90.0, 180.0, 270.0]), np.array([350.0]), 360.0).tolist()
        [0]
    """
    if train.size == 1:
        return np.zeros(query.shape, dtype=np.intp)
    order = np.argsort(train, kind="stable")
    s = train[order]
    if period is not None:
        query = s[0] + np.mod(query - s[0], period)
        s = np.append(s, s[0] + period)
        order = np.append(order, order[0])
    i = np.clip(np.searchsorted(s, query), 1, s.size - 1)
    pick = np.where(query - s[i - 1] <= s[i] - query, i - 1, i)
    return order[pick]


def is_longitude(name: str, attrs: dict[str, Any]) -> bool:
    """A CF longitude: by ``standard_name``, ``units`` or a conventional name."""
    if str(attrs.get("standard_name", "")).lower() == "longitude":
        return True
    if str(attrs.get("units", "")).lower() in LONGITUDE_UNITS:
        return True
    return name.lower() in LONGITUDE_NAMES


def axis_encoding(
    name: str, values: np.ndarray, attrs: dict[str, Any], periodic: float | None
) -> AxisEncoding:
    """The encoding fitted to a dimension's training coordinates."""
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"dimension `{name}` must have a non-empty 1-D coordinate")
    if np.issubdtype(values.dtype, np.datetime64):
        if periodic is not None:
            raise ValueError(f"`periodic`: time dimension `{name}` cannot be periodic")
        if np.any(values != values):
            raise ValueError(f"time coordinate `{name}` contains NaT")
        ns = values.astype("datetime64[ns]").astype(np.int64)
        origin = int(ns.min())
        return AxisEncoding(name, "time", 0.0, float(ns.max() - origin), None, origin)
    if values.dtype == object:
        raise TypeError(
            f"coordinate `{name}` has dtype object (e.g. cftime dates); convert it to "
            "numbers or datetime64 first (xarray: `.convert_calendar('standard')`)"
        )
    probe = AxisEncoding(name, "linear", 0.0, 1.0)
    x = probe.as_float(values)
    if periodic is not None:
        return AxisEncoding(name, "periodic", float(x.min()), float(x.max()), float(periodic), 0.0)
    return AxisEncoding(name, "linear", float(x.min()), float(x.max()))


def is_global_longitude(name: str, values: np.ndarray, attrs: dict[str, Any]) -> bool:
    """A longitude coordinate that wraps the globe (its span plus one step reaches 360°)."""
    if not is_longitude(name, attrs) or not np.issubdtype(values.dtype, np.number):
        return False
    if values.size < 3:
        return False
    x = np.sort(values.astype(np.float64))
    step = float(np.max(np.diff(x)))
    return x[-1] - x[0] + step >= 360.0 - 1e-6 * 360.0


def refine(values: Any, factor: int) -> np.ndarray:
    """A coordinate with `factor` times the resolution.

    ``factor * (n - 1) + 1`` values are interpolated linearly between the given ones
    (numbers or datetime64), so the original values are kept and every interval is split
    into `factor` equal parts.

    Args:
        values: the coordinate values, a 1-D sequence of numbers or datetime64.
        factor: the refinement, a positive integer.

    Returns:
        The refined coordinate, a numpy array of the same kind.

    Example:
        >>> refine([0.0, 1.0, 3.0], 2).tolist()
        [0.0, 0.5, 1.0, 2.0, 3.0]
    """
    from .._checks import positive_int

    factor = positive_int("factor", factor)
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(f"`values` must be a 1-D coordinate of >= 2 values, got shape {arr.shape}")
    pos = np.arange(factor * (arr.size - 1) + 1) / factor
    if np.issubdtype(arr.dtype, np.datetime64):
        ns = arr.astype("datetime64[ns]").astype(np.int64)
        fine = ns[0] + np.rint(np.interp(pos, np.arange(arr.size), (ns - ns[0]).astype(float)))
        return fine.astype(np.int64).astype("datetime64[ns]")
    return np.interp(pos, np.arange(arr.size), arr.astype(np.float64))
