r"""The settings of a problem file: how `fieldpde solve` trains it unless told otherwise.

A problem file states its settings as one typed `Settings` object (``SETTINGS = Settings(
steps=4000, points=2048, ...)``), checked when the file is loaded, so a misspelt or
out-of-range setting fails before any training. A setting left unset (``None``) is chosen
by the default recipe (`fieldpde.app.choose`) from the problem itself. The command line (or
a Python caller of `fieldpde.app.run`) overrides single settings with `Settings.replace`.
"""

import dataclasses
from collections.abc import Mapping
from typing import Any, final

import equinox as eqx

from .._checks import positive_float, positive_int
from ..train import (
    AbstractBalancing,
    AbstractFirstOrderPhase,
    AbstractPhase,
    Adam,
    AdaptiveSampling,
    Causal,
)

NETWORKS = ("siren", "tanh", "sin", "gelu", "silu", "softplus")


def _options(name: str, value: Any) -> None:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise TypeError(f"`{name}` must be a dict of keyword arguments, got {value!r}")


def _phase_with(phase: AbstractPhase, **changes: Any) -> AbstractPhase:
    # a phase's fields are its constructor's arguments; points go back as a dict
    points = changes.pop("points", phase.points)
    if isinstance(points, tuple):
        points = dict(points)
    return dataclasses.replace(phase, points=points, **changes)


def _retarget(phases: tuple, changes: dict, old_points: int | None) -> tuple:
    """Apply the simple settings the caller changed to explicit phases: ``steps``,
    ``learning_rate`` and ``resample_every`` to the first-order phases, ``lbfgs_steps``
    and ``lbfgs_points`` to the phases after them; ``points`` scales each phase's own."""
    out = []
    for phase in phases:
        first = isinstance(phase, AbstractFirstOrderPhase)
        new: dict[str, Any] = {}
        if "points" in changes and isinstance(phase.points, int) and old_points:
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


def _omega(value: Any) -> None:
    for v in value if isinstance(value, tuple | list) else (value,):
        positive_float("omega", v)


def _optional(check, name: str, value: Any, **kw) -> None:
    if value is not None:
        check(name, value, **kw)


@final
class Settings(eqx.Module):
    """How a problem is trained and reported by default.

    Attributes:
        steps: Adam steps (cosine-decayed learning rate).
        learning_rate: the peak Adam learning rate.
        resample_every: Adam steps per block of fixed collocation points.
        lbfgs_steps: L-BFGS steps after Adam, on one fixed batch.
        lbfgs_points: points per constraint of that batch (``None``: chosen); scaled
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
        network: the default field's network: ``"siren"`` or an MLP activation
            (``"tanh"``, ``"gelu"``, ...); ignored by a file's own ``field()``.
        width, depth: the default field's hidden width and layer count (with the
            readout); passed to a file's own ``field()`` if it takes them.
        omega: the default field's first-layer frequency: one number, or one per axis
            (time included); passed to a file's own ``field()`` if it takes it.
        hard: hold Dirichlet and initial data exactly by the field (``None``: wherever
            the domain allows, `fieldpde.problem.enforce_hard`); ``False``: train them.
        adaptive: `fieldpde.train.AdaptiveSampling` to draw PDE points where residuals
            are large, or ``None``.
        balancing: how the soft loss terms are weighted: a `fieldpde.train` balancing
            scheme (`LRAnnealing`, `InitialNormalization`, ...; ``None``: chosen).
        field: keyword arguments for the file's ``field(key, dtype=..., **field)``.
        problem: more keyword arguments for its ``problem(points, **problem)``.

    Every setting left at ``None`` is chosen by the default recipe (`fieldpde.app.choose`).

    Example:
        >>> s = Settings(steps=4000, points=2048, lbfgs_steps=2000, lbfgs_points=4096)
        >>> s.replace(points=1024).lbfgs_points  # scaled with the points
        2048
        >>> Settings().steps is None  # chosen by the recipe
        True
        >>> Settings(stpes=10)
        Traceback (most recent call last):
        TypeError: ...
    """

    steps: int | None = None
    learning_rate: float | None = None
    resample_every: int | None = None
    lbfgs_steps: int | None = None
    lbfgs_points: int | None = None
    phases: tuple[AbstractPhase, ...] | None = None
    points: int | None = None
    x64: bool | None = None
    grid: int | tuple[int, ...] | None = None
    starts: int = 1
    probe_steps: int = 300
    causal: Causal | None = None
    network: str | None = None
    width: int | None = None
    depth: int | None = None
    omega: float | tuple[float, ...] | None = None
    hard: bool | None = None
    adaptive: AdaptiveSampling | None = None
    balancing: AbstractBalancing | None = None
    field: Mapping[str, Any] = eqx.field(default_factory=dict)
    problem: Mapping[str, Any] = eqx.field(default_factory=dict)

    def __check_init__(self):
        _optional(positive_int, "steps", self.steps, minimum=0)
        _optional(positive_float, "learning_rate", self.learning_rate)
        _optional(positive_int, "resample_every", self.resample_every)
        _optional(positive_int, "lbfgs_steps", self.lbfgs_steps, minimum=0)
        _optional(positive_int, "lbfgs_points", self.lbfgs_points)
        if self.phases is not None:
            if not isinstance(self.phases, tuple | list) or not self.phases:
                raise TypeError(f"`phases` must be a list of training phases, got {self.phases!r}")
            for i, phase in enumerate(self.phases):
                if not isinstance(phase, AbstractPhase):
                    raise TypeError(
                        f"`phases[{i}]` must be a training phase (fieldpde.train.Adam, LBFGS, "
                        f"NaturalGradient, SSBroyden, ...), got {phase!r}"
                    )
        _optional(positive_int, "points", self.points)
        for name in ("x64", "hard"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise TypeError(f"`{name}` must be True, False or None, got {value!r}")
        if self.grid is not None:
            _grid(self.grid)
        positive_int("starts", self.starts)
        positive_int("probe_steps", self.probe_steps)
        if self.causal is not None and not isinstance(self.causal, Causal):
            raise TypeError(
                f"`causal` must be a fieldpde.train.Causal or None, got {self.causal!r}"
            )
        if self.network is not None and self.network not in NETWORKS:
            raise ValueError(f"`network` must be one of {NETWORKS} or None, got {self.network!r}")
        _optional(positive_int, "width", self.width)
        _optional(positive_int, "depth", self.depth, minimum=2)
        if self.omega is not None:
            _omega(self.omega)
        if self.adaptive is not None and not isinstance(self.adaptive, AdaptiveSampling):
            raise TypeError(
                f"`adaptive` must be a fieldpde.train.AdaptiveSampling or None, "
                f"got {self.adaptive!r}"
            )
        if self.balancing is not None and not isinstance(self.balancing, AbstractBalancing):
            raise TypeError(
                f"`balancing` must be a fieldpde.train balancing scheme (LRAnnealing, "
                f"InitialNormalization, ...) or None, got {self.balancing!r}"
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
        if (
            "points" in changes
            and self.lbfgs_points is not None
            and self.points is not None
            and "lbfgs_points" not in changes
        ):
            values["lbfgs_points"] = max(self.lbfgs_points * changes["points"] // self.points, 1)
        for name in ("field", "problem"):
            if name in changes:
                changes[name] = {**values[name], **changes[name]}
        values.update(changes)
        return Settings(**values)

    def unset(self) -> tuple[str, ...]:
        """The names of the settings left to the default recipe (``None``)."""
        return tuple(n for n in _FIELDS if getattr(self, n) is None and n not in _OPTIONAL)

    def training(self) -> dict[str, Any]:
        """The keywords of `fieldpde.train.fit` these settings stand for."""
        if self.phases is not None:
            return {"phases": self.phases}
        missing = [
            n
            for n in ("steps", "learning_rate", "resample_every", "lbfgs_steps")
            if getattr(self, n) is None
        ]
        if missing:
            raise ValueError(
                f"settings {missing} are unset; resolve them with fieldpde.app.choose first"
            )
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
    "network",
    "width",
    "depth",
    "omega",
    "hard",
    "adaptive",
    "balancing",
    "field",
    "problem",
)
# settings for which None is a value of its own (off), not "let the recipe choose"
_OPTIONAL = ("lbfgs_points", "phases", "causal", "adaptive")
