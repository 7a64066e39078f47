r"""Scattered reference solutions: node/value tables such as COMSOL's text exports.

A COMSOL export (``Export > Data``, spreadsheet format) is a text file whose first lines
start with ``%`` (the model, the dimension, the number of nodes, and last the column
names), then one row per node: the coordinates ``x, y[, z]``, then the values. A
time-dependent export has one value column per time, named like ``u (1) @ t=0.1``; such
a table is read as one row per node and time, with the time as the last coordinate (the
convention of `fieldpde.domains.SpaceTime`). Rows holding NaN are dropped.

`read_comsol` returns a `NodeTable`, which serves as a problem's reference: called on
points it interpolates the node values (piecewise linear on the Delaunay triangulation of
the nodes, nearest node outside their hull), and `NodeTable.relative_l2` scores a field at
the nodes themselves, which is how benchmarks such as PINNacle report their error.
"""

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, final

import equinox as eqx
import numpy as np
from jaxtyping import ArrayLike, Float

from ..domains import AbstractDomain, SpaceTime

_TIME = re.compile(r"^(?P<name>.*?)\s*@\s*t\s*=\s*(?P<t>[-+0-9.eE]+)\s*$")
_COORDS = ("x", "y", "z")


@final
class NodeTable(eqx.Module):
    r"""Values of a reference solution at scattered nodes, with interpolation between them.

    Attributes:
        points: the nodes, shape ``(n, d)`` (time last for a time-dependent table).
        values: the values, shape ``(n, m)``.
        coordinates: the names of the `points` columns (``("x", "y")``, ``("x", "t")``).
        variables: the names of the `values` columns.
        source: the file it was read from (``""`` if built in memory).

    Example:
        >>> import numpy as np
        >>> nodes = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        >>> table = NodeTable(nodes, nodes.sum(axis=1), coordinates=("x", "y"))
        >>> float(table(np.array([[0.25, 0.5]]))[0])  # u = x + y is linear
        0.75
        >>> table.relative_l2(lambda p: 1.1 * p.sum(axis=1))
        0.1
    """

    points: np.ndarray
    values: np.ndarray
    coordinates: tuple[str, ...] = eqx.field(static=True)
    variables: tuple[str, ...] = eqx.field(static=True)
    source: str = eqx.field(static=True)

    def __init__(
        self,
        points: Float[ArrayLike, "n d"],
        values: Float[ArrayLike, "n ..."],
        *,
        coordinates: Sequence[str] | None = None,
        variables: Sequence[str] | None = None,
        source: str = "",
    ):
        """Build a table.

        Args:
            points: the nodes, shape ``(n, d)``.
            values: the values at the nodes, shape ``(n,)`` or ``(n, m)``.
            coordinates: names of the coordinates (default ``x, y, z``).
            variables: names of the values (default ``u``, ``u1``, ...).
            source: where the table came from.

        Raises:
            ValueError: shapes that do not match, or fewer than 2 nodes.
        """
        pts = np.asarray(points, np.float64)
        vals = np.asarray(values, np.float64)
        if pts.ndim != 2 or pts.shape[0] < 2:
            raise ValueError(f"`points` must have shape (n, d) with n >= 2, got {pts.shape}")
        if vals.ndim == 1:
            vals = vals[:, None]
        if vals.ndim != 2 or vals.shape[0] != pts.shape[0]:
            raise ValueError(
                f"`values` must have one row per node ({pts.shape[0]}), got shape {vals.shape}"
            )
        self.points, self.values = pts, vals
        d, m = pts.shape[1], vals.shape[1]
        self.coordinates = tuple(coordinates) if coordinates is not None else _COORDS[:d]
        if len(self.coordinates) != d:
            raise ValueError(f"`coordinates` must name {d} columns, got {self.coordinates}")
        self.variables = (
            tuple(variables)
            if variables is not None
            else ("u",) + tuple(f"u{i}" for i in range(1, m))
        )
        if len(self.variables) != m:
            raise ValueError(f"`variables` must name {m} columns, got {self.variables}")
        self.source = str(source)

    @property
    def dim(self) -> int:
        """Number of coordinates $d$ of a node."""
        return self.points.shape[1]

    def __call__(self, points: Float[ArrayLike, "k d"]) -> Float[np.ndarray, "k ..."]:
        """Interpolate the values at `points` (shape ``(k, d)``).

        Returns:
            Shape ``(k,)`` for one variable, ``(k, m)`` for several.
        """
        x = np.asarray(points, np.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(
                f"`points` must have shape (k, {self.dim}) for this table "
                f"({', '.join(self.coordinates)}), got {x.shape}"
            )
        out = self._interpolate(x)
        return out[:, 0] if out.shape[1] == 1 else out

    def _interpolate(self, x: np.ndarray) -> np.ndarray:
        from scipy.interpolate import LinearNDInterpolator, NearestNDInterpolator

        if self.dim == 1:
            order = np.argsort(self.points[:, 0])
            xs = self.points[order, 0]
            return np.stack(
                [
                    np.interp(x[:, 0], xs, self.values[order, j])
                    for j in range(self.values.shape[1])
                ],
                axis=1,
            )
        # scale each axis to [0, 1] so the triangulation does not favour a long axis (time)
        lo, hi = self.points.min(axis=0), self.points.max(axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        nodes, query = (self.points - lo) / span, (x - lo) / span
        linear = LinearNDInterpolator(nodes, self.values)(query)
        missing = np.isnan(linear).any(axis=1)
        if missing.any():
            linear[missing] = NearestNDInterpolator(nodes, self.values)(query[missing])
        return linear

    def relative_l2(self, field: Any, components: Sequence[int] | None = None) -> float:
        r"""$\lVert u_\theta - u\rVert_2 / \lVert u \rVert_2$ over the nodes.

        Args:
            field: a batched field ``(n, d) -> (n,)`` or ``(n, m)``.
            components: score only these value columns (e.g. ``(0, 1)``, the velocity of
                a ``(u, v, p)`` table); ``None``: all of them.

        Returns:
            The relative L2 error at the nodes (PINNacle's L2RE).
        """
        pred = np.asarray(field(self.points), np.float64).reshape(self.values.shape)
        ref = self.values
        if components is not None:
            cols = np.asarray(tuple(components), dtype=int)
            pred, ref = pred[:, cols], ref[:, cols]
        return float(np.linalg.norm(pred - ref) / np.linalg.norm(ref))

    def check_domain(self, domain: AbstractDomain, *, name: str = "reference") -> None:
        """Raise unless the table's coordinates fit `domain`.

        Args:
            domain: the problem's domain.
            name: the argument to name in the error.

        Raises:
            ValueError: a time-dependent table for a domain without time (or the other
                way round), another number of coordinates, or nodes outside the domain's
                bounding box (columns in another order?).
        """
        timed = self.coordinates[-1] == "t"
        if isinstance(domain, SpaceTime) != timed or domain.dim != self.dim:
            has = f"{self.dim} coordinate columns ({', '.join(self.coordinates)})"
            want = (
                f"{domain.dim - 1} space coordinates and a time"
                if isinstance(domain, SpaceTime)
                else f"{domain.dim} coordinates and no time"
            )
            raise ValueError(
                f"`{name}` has {has} but the domain ({type(domain).__name__}) has {want}; "
                "export the table over the problem's own coordinates"
            )
        lo, hi = (np.asarray(a, np.float64) for a in domain.bounding_box())
        slack = 1e-6 * max(1.0, float(np.max(np.abs(np.concatenate([lo, hi])))))
        below = self.points < lo - slack
        above = self.points > hi + slack
        if below.any() or above.any():
            axis = int(np.flatnonzero((below | above).any(axis=0))[0])
            got = (float(self.points[:, axis].min()), float(self.points[:, axis].max()))
            raise ValueError(
                f"`{name}`: column {self.coordinates[axis]!r} runs over [{got[0]:.6g}, "
                f"{got[1]:.6g}], outside the domain's [{lo[axis]:.6g}, {hi[axis]:.6g}]; are "
                "the columns in the order of the domain's coordinates?"
            )


def _columns(header: str) -> list[str]:
    text = header.lstrip("%").strip()
    return [c.strip() for c in re.split(r"\s{2,}|\t", text) if c.strip()]


def read_comsol(
    path: str | os.PathLike, *, domain: AbstractDomain | None = None, dim: int | None = None
) -> NodeTable:
    """Read a COMSOL text export (or any node/value table with ``%`` comments).

    Args:
        path: the file.
        domain: the problem's domain: the table must fit it (`NodeTable.check_domain`).
        dim: the number of space coordinates, if the file has no ``% Dimension:`` line
            (default: that line, else the leading columns named x, y, z).

    Returns:
        A `NodeTable`; with time columns (``... @ t=...``) it has one row per node and
        time, the time as its last coordinate.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a malformed table, or one that does not fit `domain`.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "u.dat")
        >>> _ = open(path, "w").write(
        ...     "% Dimension: 1\\n% X   u (1) @ t=0   u (1) @ t=0.5\\n0 1 2\\n1 3 4\\n")
        >>> table = read_comsol(path)
        >>> table.coordinates, table.points.tolist(), table.values[:, 0].tolist()
        (('x', 't'), [[0.0, 0.0], [1.0, 0.0], [0.0, 0.5], [1.0, 0.5]], [1.0, 3.0, 2.0, 4.0])
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no table at `{path}`")
    comments, rows = [], []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("%"):
            comments.append(line)
        elif line.strip():
            rows.append(line)
    if not rows:
        raise ValueError(f"`path` {str(path)!r} holds no data rows")
    try:
        data = np.array([[float(v) for v in r.split()] for r in rows], np.float64)
    except ValueError as err:
        raise ValueError(f"`path` {str(path)!r}: a data row is not all numbers ({err})") from err
    width = data.shape[1]
    names = _columns(comments[-1]) if comments else []
    if len(names) != width:
        names = []  # unnamed (or unreadable) columns: fall back to positions
    if dim is None:
        for c in comments:
            match = re.match(r"%\s*Dimension:\s*(\d+)", c)
            if match:
                dim = int(match.group(1))
        if dim is None:
            dim = 0
            while dim < min(3, len(names)) and names[dim].lower() == _COORDS[dim]:
                dim += 1
    if not 1 <= dim < width:
        raise ValueError(
            f"`path` {str(path)!r}: cannot tell the coordinate columns (dimension {dim} of "
            f"{width} columns); pass `dim`"
        )
    coords, values = data[:, :dim], data[:, dim:]
    value_names = names[dim:] if names else [f"u{i}" for i in range(width - dim)]
    if not names and width - dim == 1:
        value_names = ["u"]
    timed = [_TIME.match(n) for n in value_names]
    if any(timed):
        if not all(timed):
            raise ValueError(
                f"`path` {str(path)!r}: some value columns are per time ('@ t=') and some are not"
            )
        matches = [m for m in timed if m is not None]
        variables = list(dict.fromkeys(m.group("name") for m in matches))
        times = sorted({float(m.group("t")) for m in matches})
        table = np.full((len(times), coords.shape[0], len(variables)), np.nan)
        for j, m in enumerate(matches):
            table[times.index(float(m.group("t"))), :, variables.index(m.group("name"))] = values[
                :, j
            ]
        points = np.concatenate([np.column_stack([coords, np.full(len(coords), t)]) for t in times])
        values = table.reshape(-1, len(variables))
        coordinates = _COORDS[:dim] + ("t",)
    else:
        points, variables, coordinates = coords, value_names, _COORDS[:dim]
    keep = ~(np.isnan(points).any(axis=1) | np.isnan(values).any(axis=1))
    out = NodeTable(
        points[keep],
        values[keep],
        coordinates=coordinates,
        variables=[_clean(v) for v in variables],
        source=str(path),
    )
    if domain is not None:
        out.check_domain(domain, name="path")
    return out


def _clean(name: str) -> str:
    """``"u (1)"`` -> ``"u"``: a variable's name without COMSOL's unit or component."""
    return re.sub(r"\s*\(.*?\)\s*$", "", name).strip() or name
