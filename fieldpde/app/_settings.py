r"""The settings of a problem file: how `fieldpde solve` trains it unless told otherwise.

A problem file states its settings as one typed `Settings` object (``SETTINGS = Settings(
steps=4000, points=2048, ...)``), checked when the file is loaded, so a misspelt or
out-of-range setting fails before any training. The command line (or a Python caller of
`fieldpde.app.run`) overrides single settings with `Settings.replace`.
"""

import dataclasses
from collections.abc import Mapping
from typing import Any, final

import equinox as eqx

from .._checks import positive_float, positive_int
from ..train import AbstractFirstOrderPhase, AbstractPhase, Adam, Causal


def _options(name: str, value: Any) -> None:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise TypeError(f"`{name}` must be a dict of keyword arguments, got {value!r}")


def _phase_with(phase: AbstractPhase, **changes: Any) -> AbstractPhase:
    # a phase's fields are its constructor's arguments; points go back as a dict
    points = changes.pop("points", phase.points)
    if isinstance(points, tuple):
        points = dict(points)
    return dataclasses.replace(phase, points=points, **changes)


def _retarget(phases: tuple, changes: dict, old_points: int) -> tuple:
    """Apply the simple settings the caller changed to explicit phases: ``steps``,
    ``learning_rate`` and ``resample_every`` to the first-order phases, ``lbfgs_steps``
    and ``lbfgs_points`` to the phases after them; ``points`` scales each phase's own."""
    out = []
    for phase in phases:
        first = isinstance(phase, AbstractFirstOrderPhase)
        new: dict[str, Any] = {}
        if "points" in changes and isinstance(phase.points, int):
            new["points"] = max(phase.points * changes["points"] // old_points, 1)
        if first:
            if "steps" in changes:
                new["steps"] = changes["steps"]
            if "resample_every" in changes:
                new["resample_every"] = changes["resample_every"]
            if "learning_rate" in changes and isinstance(phase, Adam):
                new["learning_rate"] = changes["learning_rate"]
        else:
            if "lbfgs_steps" in changes:
                new["steps"] = changes["lbfgs_steps"]
            if "lbfgs_points" in changes:
                new["points"] = changes["lbfgs_points"]
        out.append(_phase_with(phase, **new) if new else phase)
    return tuple(out)


def _grid(value: Any) -> None:
    for v in value if isinstance(value, tuple | list) else (value,):
        positive_int("grid", v, minimum=2)


@final
class Settings(eqx.Module):
    """How a problem is trained and reported by default.

    Attributes:
        steps: Adam steps (cosine-decayed learning rate).
        learning_rate: the peak Adam learning rate.
        resample_every: Adam steps per block of fixed collocation points.
        lbfgs_steps: L-BFGS steps after Adam, on one fixed batch.
        lbfgs_points: points per constraint of that batch (``None``: ``points``); scaled
            with ``points`` when the command line changes it.
        phases: explicit training phases (`fieldpde.train.Adam`, `LBFGS`,
            `NaturalGradient`, `SSBroyden`, ...) instead of the five settings above
            (which, changed by `replace`, then change these phases).
        points: collocation points per step, passed to the file's ``problem(points=...)``.
        x64: train in float64.
        grid: nodes per axis of the output grid (a number or one per axis).
        starts: initialisations probed before the best trains on (`fit_best_of`).
        probe_steps: steps of each probe when ``starts > 1``.
        causal: `fieldpde.train.Causal` weighting for space-time problems, or ``None``.
        field: keyword arguments for the file's ``field(key, dtype=..., **field)``.
        problem: more keyword arguments for its ``problem(points, **problem)``.

    Example:
        >>> s = Settings(steps=4000, points=2048, lbfgs_steps=2000, lbfgs_points=4096)
        >>> s.replace(points=1024).lbfgs_points  # scaled with the points
        2048
        >>> Settings(stpes=10)
        Traceback (most recent call last):
        TypeError: ...
    """

    steps: int = 5000
    learning_rate: float = 1e-3
    resample_every: int = 100
    lbfgs_steps: int = 0
    lbfgs_points: int | None = None
    phases: tuple[AbstractPhase, ...] | None = None
    points: int = 1024
    x64: bool = False
    grid: int | tuple[int, ...] = 101
    starts: int = 1
    probe_steps: int = 300
    causal: Causal | None = None
    field: Mapping[str, Any] = eqx.field(default_factory=dict)
    problem: Mapping[str, Any] = eqx.field(default_factory=dict)

    def __check_init__(self):
        positive_int("steps", self.steps, minimum=0)
        positive_float("learning_rate", self.learning_rate)
        positive_int("resample_every", self.resample_every)
        positive_int("lbfgs_steps", self.lbfgs_steps, minimum=0)
        if self.lbfgs_points is not None:
            positive_int("lbfgs_points", self.lbfgs_points)
        if self.phases is not None:
            if not isinstance(self.phases, tuple | list) or not self.phases:
                raise TypeError(f"`phases` must be a list of training phases, got {self.phases!r}")
            for i, phase in enumerate(self.phases):
                if not isinstance(phase, AbstractPhase):
                    raise TypeError(
                        f"`phases[{i}]` must be a training phase (fieldpde.train.Adam, LBFGS, "
                        f"NaturalGradient, SSBroyden, ...), got {phase!r}"
                    )
        positive_int("points", self.points)
        if not isinstance(self.x64, bool):
            raise TypeError(f"`x64` must be True or False, got {self.x64!r}")
        _grid(self.grid)
        positive_int("starts", self.starts)
        positive_int("probe_steps", self.probe_steps)
        if self.causal is not None and not isinstance(self.causal, Causal):
            raise TypeError(
                f"`causal` must be a fieldpde.train.Causal or None, got {self.causal!r}"
            )
        _options("field", self.field)
        _options("problem", self.problem)

    def replace(self, **changes: Any) -> "Settings":
        """A copy with some settings changed (``None`` values are ignored).

        Changing ``points`` scales ``lbfgs_points`` by the same factor, so the L-BFGS
        batch keeps its size relative to the Adam batches. With explicit `phases`, the
        simple settings change the phases instead: ``steps``, ``learning_rate`` and
        ``resample_every`` the first-order phases (`Adam`, ...), ``lbfgs_steps`` and
        ``lbfgs_points`` the phases after them (`SSBroyden`, `NaturalGradient`, ...), and
        ``points`` scales each phase's own number of points.

        Example:
            >>> from fieldpde.train import Adam, SSBroyden
            >>> s = Settings(phases=(Adam(2000), SSBroyden(2000, points=2048)), points=1024)
            >>> [(type(p).__name__, p.steps, p.points)
            ...  for p in s.replace(steps=40, lbfgs_steps=5, points=64).phases]
            [('Adam', 40, None), ('SSBroyden', 5, 128)]
        """
        changes = {k: v for k, v in changes.items() if v is not None}
        unknown = sorted(set(changes) - set(_FIELDS))
        if unknown:
            raise TypeError(f"unknown settings {unknown}; the settings are {list(_FIELDS)}")
        values = {name: getattr(self, name) for name in _FIELDS}
        if self.phases is not None and "phases" not in changes:
            values["phases"] = _retarget(self.phases, changes, self.points)
        if "points" in changes and self.lbfgs_points is not None and "lbfgs_points" not in changes:
            values["lbfgs_points"] = max(self.lbfgs_points * changes["points"] // self.points, 1)
        for name in ("field", "problem"):
            if name in changes:
                changes[name] = {**values[name], **changes[name]}
        values.update(changes)
        return Settings(**values)

    def training(self) -> dict[str, Any]:
        """The keywords of `fieldpde.train.fit` these settings stand for."""
        if self.phases is not None:
            return {"phases": self.phases}
        return dict(
            steps=self.steps,
            learning_rate=self.learning_rate,
            resample_every=self.resample_every,
            lbfgs_steps=self.lbfgs_steps,
            lbfgs_points=self.lbfgs_points,
        )

    def as_attrs(self) -> dict[str, Any]:
        """The settings as netCDF-friendly attributes (numbers and strings)."""
        out: dict[str, Any] = {}
        for name in _FIELDS:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool):
                value = int(value)
            elif isinstance(value, Mapping):
                if not value:
                    continue
                value = ", ".join(f"{k}={v!r}" for k, v in value.items())
            elif not isinstance(value, int | float | str):
                value = repr(value)
            out[f"setting_{name}"] = value
        return out


_FIELDS = (
    "steps",
    "learning_rate",
    "resample_every",
    "lbfgs_steps",
    "lbfgs_points",
    "phases",
    "points",
    "x64",
    "grid",
    "starts",
    "probe_steps",
    "causal",
    "field",
    "problem",
)
