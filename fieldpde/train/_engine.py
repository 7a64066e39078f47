r"""The training engine: phases run block by block from one `TrainState`.

Every training path of fieldpde (`fit`, `fit_best_of`, `minimize`, `fit_snapshots`, the
ensembles of `fieldpde.bayes` and `fieldpde.io.fit_xarray`) is a thin driver that builds an
objective and hands it to an `Engine`. The engine owns the host-side loop:

- for each phase, blocks of `AbstractPhase.block_size` steps; block $b$ of phase $p$ draws
  its points with the key ``fold_in(key, b)`` in the first phase and
  ``fold_in(key, 10**9 + 10**7 (p - 1) + b)`` in later ones (a phase that does not
  resample uses its block-0 batch throughout), so a resumed or paused run draws exactly
  the points an uninterrupted one does;
- each block is one compiled, guarded `run_block`; for an ensemble the state carries a
  leading member axis and the block is vmapped, each member with its own status;
- between blocks: the loss history, progress, callbacks and checkpoints.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, final

import equinox as eqx
import jax
import numpy as np

from ._block import run_block
from ._objective import AbstractObjective
from ._phases import AbstractPhase
from ._progress import AbstractProgressMeter, NoProgress
from ._results import _LABELS, RESULTS
from ._state import TrainState

_LATER_PHASES = 10**9
_PHASE_STRIDE = 10**7


def labels(result: Any) -> np.ndarray:
    """The short status label of every item of a (possibly batched) `RESULTS` value."""
    out = np.full(np.shape(np.asarray(result == RESULTS.running)), "", dtype=object)
    for label, item in _LABELS.items():
        out[np.asarray(result == item)] = label
    return out


def running(result: Any) -> np.ndarray:
    """Whether each item of a (possibly batched) `RESULTS` value is still running."""
    return np.asarray(result == RESULTS.running)


@final
class Record:
    """The loss history of a run as it grows: per step, the loss, its parts and the phase.

    For one run the arrays are 1-D over steps (steps after a failure are dropped); for an
    ensemble they are ``(members, steps)`` and `failed_at` gives each member's first
    failed step (-1 if none).

    Args:
        names: the names of the loss parts (the objective's `names`).
        members: the ensemble size, or ``None`` for one run.

    Example:
        >>> import jax, numpy as np
        >>> from fieldpde.train import RESULTS
        >>> record = Record(("pde",))
        >>> results = jax.vmap(lambda bad: RESULTS.where(
        ...     bad, RESULTS.nonfinite, RESULTS.running))(np.array([False, False, True]))
        >>> record.add(np.array([3.0, 2.0, np.nan]), {"pde": np.array([3.0, 2.0, np.nan])},
        ...            results, index=0, length=3)  # the failed step is not recorded
        2
        >>> record.arrays()["loss"].tolist(), record.steps
        ([3.0, 2.0], 2)
    """

    def __init__(self, names: tuple[str, ...], members: int | None = None):
        self.names = tuple(names)
        self.members = members
        self.loss: list[np.ndarray] = []
        self.phase: list[np.ndarray] = []
        self.parts: dict[str, list[np.ndarray]] = {n: [] for n in self.names}
        self.steps = 0
        self.failed_at = None if members is None else np.full(members, -1, dtype=np.int64)

    def add(self, loss, parts, results, index: int, length: int) -> int:
        """Record one block; returns the steps taken (before a failure, for one run)."""
        loss = np.asarray(loss)
        ok = running(results)
        if self.members is None:
            taken = int(np.argmax(~ok)) if (~ok).any() else length
            self.loss.append(loss[:taken])
            for name in self.names:
                self.parts[name].append(np.asarray(parts[name])[:taken])
            self.phase.append(np.full(taken, index, dtype=np.int8))
        else:
            taken = length
            failed_at = self.failed_at
            assert failed_at is not None  # set for ensembles
            first = np.where((~ok).any(axis=1), np.argmax(~ok, axis=1), -1)
            new = (failed_at < 0) & (first >= 0)
            failed_at[new] = self.steps + first[new]
            self.loss.append(loss)
            for name in self.names:
                self.parts[name].append(np.asarray(parts[name]))
            self.phase.append(np.full(taken, index, dtype=np.int8))
        self.steps += taken
        return taken

    def latest(self) -> tuple[float, dict[str, Any]]:
        """The last recorded loss (the mean over members) and its parts."""
        for i in reversed(range(len(self.loss))):
            if self.loss[i].shape[-1]:
                parts = {n: self.parts[n][i][..., -1] for n in self.names}
                return float(np.mean(self.loss[i][..., -1])), parts
        return float("nan"), {}

    def arrays(self) -> dict[str, np.ndarray]:
        """``"loss"``, ``"phase"`` and one array per part, concatenated over blocks."""
        axis = -1

        def cat(chunks, empty_dtype: Any = float):
            if not chunks:
                shape = (0,) if self.members is None else (self.members, 0)
                return np.zeros(shape, dtype=empty_dtype)
            return np.concatenate(chunks, axis=axis)

        out = {"loss": cat(self.loss), "phase": cat(self.phase, np.int8)}
        for name in self.names:
            out[name] = cat(self.parts[name])
        if self.failed_at is not None:
            out["failed_at"] = self.failed_at.copy()
        return out

    def restore(self, arrays: dict[str, np.ndarray], steps: int) -> None:
        """Continue the record of a checkpointed run."""
        self.loss = [np.asarray(arrays["loss"])]
        self.phase = [np.asarray(arrays["phase"], dtype=np.int8)]
        for name in self.names:
            self.parts[name] = [np.asarray(arrays[name])]
        if self.failed_at is not None and "failed_at" in arrays:
            self.failed_at = np.asarray(arrays["failed_at"], dtype=np.int64).copy()
        self.steps = int(steps)


def _identity(tree: Any) -> Any:
    return tree


# compiled once: an ensemble folds every member's key each block
_fold_each = jax.jit(jax.vmap(jax.random.fold_in, in_axes=(0, None)))


@final
@dataclass(frozen=True, eq=False)
class Engine:
    """Runs phases block by block for one objective (see the module docstring).

    Attributes:
        objectives: the `AbstractObjective` of each phase (one per phase: a scheme such
            as causal weighting may apply to some phases only).
        phases: the phases, in order.
        key: the sampling key (``None`` when nothing is sampled), or for an ensemble
            whose members draw their own points, one key per member stacked.
        sample: ``sample(index, phase, key, params) -> batch`` (host side), or ``None``
            for an objective without batches.
        step_inputs: ``step_inputs(index, phase, start, length) -> xs``, per-step inputs
            of a block stacked on a leading axis (``None``: none).
        members: the ensemble size, or ``None`` for one run.
        batch_axes, xs_axes: `jax.vmap` axes of batches and step inputs for an ensemble
            (``None`` where members share them).
        divergence_factor: stop a run (a member) whose loss rises above this multiple of
            its best loss's magnitude (``None``: never).
        place: applied to every new state (e.g. to replicate it over devices).

    Example:
        Minimise $(w - 3)^2$ with Adam, then polish with L-BFGS, from one state:

        >>> import jax.numpy as jnp
        >>> from fieldpde.train import LBFGS, Adam, LossObjective
        >>> loss = LossObjective(lambda w: jnp.sum((w - 3.0) ** 2), None)
        >>> engine = Engine((loss, loss), (Adam(200, learning_rate=0.1), LBFGS(10)))
        >>> record = Record(())
        >>> state, why = engine.run(engine.start(jnp.zeros(2)), record)
        >>> why, state.phase, record.steps, bool(jnp.allclose(state.params, 3.0))
        ('completed', 1, 210, True)
    """

    objectives: tuple[AbstractObjective, ...]
    phases: tuple[AbstractPhase, ...]
    key: Any = None
    sample: Callable[..., Any] | None = None
    step_inputs: Callable[..., Any] | None = None
    members: int | None = None
    batch_axes: Any = None
    xs_axes: Any = None
    divergence_factor: float | None = 1e6
    place: Callable[[Any], Any] = field(default=_identity)

    @property
    def total_steps(self) -> int:
        return sum(p.steps for p in self.phases)

    def layout(self) -> list[Any]:
        """What a checkpoint records of the phases (their kinds and step counts)."""
        return [p.layout() for p in self.phases]

    def block_key(self, index: int, block: int) -> Any:
        """The sampling key of block `block` of phase `index` (one per member when the
        engine's key is a stack of member keys)."""
        data = block if index == 0 else _LATER_PHASES + _PHASE_STRIDE * (index - 1) + block
        if self.key.shape:
            return _fold_each(self.key, data)
        return jax.random.fold_in(self.key, data)

    def enter(self, index: int, params: Any, best_loss: Any = None, result: Any = None):
        """The state at the start of phase `index` from `params` (stacked for ensembles)."""
        phase = self.phases[index]

        def init(p, best, res):
            return TrainState.init(phase, p, index=index, best_loss=best, result=res)

        if self.members is None:
            return self.place(init(params, best_loss, result))
        if best_loss is None:
            state = eqx.filter_vmap(lambda p: init(p, None, None))(params)
        else:
            state = eqx.filter_vmap(init)(params, best_loss, result)
        return self.place(state)

    def start(self, params: Any) -> TrainState:
        """The state at the start of the first phase."""
        return self.enter(0, params)

    def steps_before(self, index: int) -> int:
        return sum(p.steps for p in self.phases[:index])

    def run(
        self,
        state: TrainState,
        record: Record,
        *,
        until: int | None = None,
        on_block: Callable[[TrainState, Record], bool] | None = None,
        meter: AbstractProgressMeter | None = None,
        save: Callable[[TrainState, Record], None] | None = None,
        save_every: int | None = None,
    ) -> tuple[TrainState, str]:
        """Run blocks until every phase is done, a run fails, a callback stops it or
        `until` steps (of the whole run) are behind it.

        Returns:
            The state and why the loop ended: ``"completed"``, ``"failed"`` (one run,
            or every member of an ensemble), ``"stopped"`` (`on_block` returned True) or
            ``"paused"`` (`until` reached).
        """
        meter = NoProgress() if meter is None else meter
        handle = meter.start(self.total_steps, record.steps)
        cached: tuple[Any, Any] = (None, None)
        blocks = 0
        why = "completed"
        try:
            while True:
                index = state.phase
                phase = self.phases[index]
                step = int(np.max(np.asarray(state.step)))
                if step >= phase.steps:
                    if index + 1 == len(self.phases):
                        break
                    state = self.enter(index + 1, state.params, state.best_loss, state.result)
                    cached = (None, None)
                    continue
                done = self.steps_before(index) + step
                if until is not None and done >= until:
                    why = "paused"
                    break
                size = phase.block_size
                block = step // size
                end = min((block + 1) * size, phase.steps)
                if until is not None:
                    end = min(end, step + until - done)
                length = end - step
                tag = (index, block if phase.resamples else 0)
                if self.sample is not None and cached[0] != tag:
                    key = None if self.key is None else self.block_key(*tag)
                    cached = (tag, self.sample(index, phase, key, state.params))
                batch = cached[1]
                xs = None
                if self.step_inputs is not None:
                    xs = self.step_inputs(index, phase, step, length)
                axes = None if self.members is None else (self.batch_axes, self.xs_axes)
                state, loss, parts, results = run_block(
                    self.objectives[index],
                    phase,
                    state,
                    batch,
                    xs,
                    length,
                    self.divergence_factor,
                    axes,
                )
                taken = record.add(loss, parts, results, index, length)
                meter.update(handle, taken, record.latest()[0])
                blocks += 1
                if not running(state.result).any():
                    why = "failed"
                    break
                if on_block is not None and on_block(state, record):
                    why = "stopped"
                    break
                if save is not None and (save_every is None or blocks % save_every == 0):
                    save(state, record)
        finally:
            meter.close(handle)
        return state, why
