r"""Train a field on a `Problem`: phases of optax steps on the engine, with every safety.

`fit` builds the phases (Adam with a cosine decay, then an optional L-BFGS polish; or the
``phases`` it is given), the problem's objective (its Eq. 3 terms, causally weighted if
asked) and a sampler (fresh points per block, residual-adaptive if asked, split over
devices if there are several), and runs them on the `Engine`. Inside each compiled block a
step whose loss is not finite, or exceeds `divergence_factor` times the best loss so far,
freezes the parameters; the run then stops with that status and returns the last
parameters whose loss was good.
"""

import functools
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import PRNGKeyArray

from .._atomic import check_target
from .._checks import as_key, positive_int
from .._sharding import device_mesh, replicate, split_leading
from ..constraints import AbstractDataConstraint
from ..problem import Problem
from ._adaptive import AdaptiveSampling
from ._balancing import AbstractBalancing, BalancedObjective
from ._causal import Causal
from ._checkpoint import load_run, save_run
from ._engine import Engine, Record, labels
from ._objective import ProblemObjective, count_trainable, trainable_split
from ._phases import LBFGS, AbstractPhase, Adam, Optax, cast_like, check_phases
from ._progress import progress_meter
from ._results import RESULTS
from ._state import TrainState


@final
@dataclass(frozen=True)
class FitResult:
    """What `fit` returns.

    Attributes:
        field: the trained field (the last good parameters if training failed).
        params: the trained PDE coefficients (``None`` if the problem has none).
        history: per-step losses: ``"loss"`` (the total) and one entry per constraint, as
            numpy arrays; ``"phase"`` gives each step's phase (0: the first, e.g. Adam;
            1: the next, e.g. L-BFGS).
        status: ``"completed"``, ``"nan"``, ``"diverged"``, ``"stopped"`` (a callback),
            or a phase's breakdown (``"no_descent"``, ``"line_search_failed"``,
            ``"nonfinite_step"``).
        message: a sentence explaining the status.
        steps: optimiser steps taken (all phases).
        wall_time: seconds spent in `fit`.
        state: the final `TrainState` (continue it with `fieldpde.train.Engine`).

    Example:
        `fit` builds it (see its example); ``ok`` and ``final_loss`` summarise it:

        >>> import numpy as np
        >>> result = FitResult(field=None, params=None, history={"loss": np.array([1.0, 0.1])},
        ...     status="completed", message="2 Adam steps", steps=2, wall_time=0.5)
        >>> result.ok, result.final_loss
        (True, 0.1)
    """

    field: Any
    params: Any
    history: dict[str, np.ndarray]
    status: str
    message: str
    steps: int
    wall_time: float
    state: Any = None

    @property
    def ok(self) -> bool:
        return self.status in ("completed", "stopped")

    @property
    def final_loss(self) -> float:
        return float(self.history["loss"][-1]) if len(self.history["loss"]) else math.nan


def sugar_phases(
    *,
    steps: int | None = None,
    optimizer: optax.GradientTransformation | None = None,
    learning_rate: float | None = None,
    resample_every: int | None = None,
    lbfgs_steps: int | None = None,
    lbfgs_points: int | None = None,
    lbfgs_optimizer: Any = None,
) -> tuple[AbstractPhase, ...]:
    """The phases `fit`'s simple keywords stand for: Adam (or `optimizer`), then L-BFGS.

    Example:
        >>> [p.layout() for p in sugar_phases(steps=100, lbfgs_steps=50)]
        [['Adam', 100], ['LBFGS', 50]]
    """
    steps = 5000 if steps is None else positive_int("steps", steps, minimum=0)
    resample_every = 100 if resample_every is None else resample_every
    if optimizer is None:
        first: AbstractPhase = Adam(
            steps,
            learning_rate=1e-3 if learning_rate is None else learning_rate,
            resample_every=resample_every,
        )
    else:
        first = Optax(steps, optimizer, resample_every=resample_every)
    lbfgs_steps = 0 if lbfgs_steps is None else positive_int("lbfgs_steps", lbfgs_steps, minimum=0)
    if not lbfgs_steps:
        return (first,)
    return first, LBFGS(lbfgs_steps, points=lbfgs_points, optimizer=lbfgs_optimizer)


def describe(phases: Sequence[AbstractPhase]) -> str:
    """``"4000 Adam steps and 2000 L-BFGS steps"`` for a phase list."""
    names = {"LBFGS": "L-BFGS", "Optax": "optimiser", "NaturalGradient": "natural-gradient"}
    parts = [
        f"{p.steps} {names.get(type(p).__name__, type(p).__name__)} steps"
        for p in phases
        if p.steps
    ]
    if len(parts) <= 1:
        return parts[0] if parts else "no steps"
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def check_points(phases: Sequence[AbstractPhase], names: Sequence[str]) -> None:
    """Every constraint a phase's ``points`` names must be one of the problem's."""
    for i, phase in enumerate(phases):
        if isinstance(phase.points, tuple):
            unknown = sorted({n for n, _ in phase.points} - set(names))
            if unknown:
                raise ValueError(
                    f"`phases[{i}].points` names constraints the problem lacks: {unknown}; "
                    f"it has {list(names)}"
                )


def check_dtypes(phases: Sequence[AbstractPhase], start: Any) -> None:
    """A phase must not cast to a lower precision than the one before it trained in."""
    current = None if start is None else np.dtype(start)
    for i, phase in enumerate(phases):
        if phase.dtype is None:
            continue
        new = np.dtype(phase.dtype)
        if current is not None and new.itemsize < current.itemsize:
            raise ValueError(
                f"`phases[{i}]` casts to {new} after training in {current}: a lower "
                "precision throws away what the earlier phases reached; drop its `dtype`"
            )
        current = new


def failure_message(state: TrainState, phases: Sequence[AbstractPhase], step: int) -> str:
    """A sentence for a failed run: what happened, where, and what to try."""
    label = labels(state.result).item()
    phase = phases[state.phase]
    where = f"at step {step} ({type(phase).__name__} phase)"
    if label == "nan":
        hint = " (try a smaller learning rate)" if phase.resamples else ""
        return (
            f"the loss or its gradient became non-finite {where}; returned the last "
            f"parameters with a finite loss{hint}"
        )
    if label == "diverged":
        best = float(state.best_loss)
        return (
            f"the loss diverged {where} (above divergence_factor x best {best:.3e}); "
            "returned the last parameters before the blow-up (try a smaller learning rate)"
        )
    return f"{RESULTS[state.result]} {where}; returned the last good parameters"


def problem_sampler(
    problem: Problem,
    phases: Sequence[AbstractPhase],
    objective_for: Callable[[int], ProblemObjective],
    *,
    adaptive: AdaptiveSampling | None = None,
    shard: Callable[[Any], Any] | None = None,
    balance: Callable[..., Any] | None = None,
) -> Callable[..., Any]:
    """``sample(index, phase, key, params)`` for a problem: each phase's point counts,
    residual-adaptive points in phases that resample, split over devices if asked, and
    with `balance` the block's loss weights beside the batches."""
    resized = {i: problem.with_num_points(p.points) for i, p in enumerate(phases)}

    def sample(index, phase, key, params):
        prob = resized[index]
        if key.shape:  # an ensemble with a key per member: each draws its own points
            return sample_members(prob, key)
        if adaptive is None or not phase.resamples:
            batches = prob.sample(key)
        else:
            field, phi = objective_for(index).model(params)
            keys = jax.random.split(key, len(prob.constraints))
            batches = {
                n: adaptive.resample(c, field, phi, k)
                for (n, c), k in zip(prob.constraints.items(), keys, strict=True)
            }
        batches = batches if shard is None else shard(batches)
        return batches if balance is None else balance(index, phase, params, batches)

    return sample


@functools.partial(jax.jit, static_argnums=1)
def _split_each(keys: Any, count: int) -> Any:
    return jax.vmap(lambda k: jax.random.split(k, count))(keys)


def sample_members(problem: Problem, keys: Any) -> dict[str, Any]:
    """What ``problem.sample(keys[e])`` draws for each member `e`, stacked per constraint.

    Data terms draw all the members' subsets in one compiled call
    (`AbstractDataConstraint.sample_members`); other constraints sample member by member.

    Args:
        problem: the `Problem`.
        keys: one sampling key per member, shape ``(E,)``.

    Returns:
        One stacked `Batch` per constraint, with a leading member axis.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde.constraints import Observations
        >>> p = Problem([Observations(jnp.arange(8.0)[:, None], jnp.zeros(8), batch_size=2)])
        >>> keys = jax.random.split(jax.random.key(0), 3)
        >>> stacked = sample_members(p, keys)["observations"]
        >>> bool((stacked.points[1] == p.sample(keys[1])["observations"].points).all())
        True
    """
    split = _split_each(keys, len(problem.constraints))
    out = {}
    for j, (name, c) in enumerate(problem.constraints.items()):
        if isinstance(c, AbstractDataConstraint):
            out[name] = c.sample_members(split[:, j])
        else:
            batches = [c.sample(k) for k in split[:, j]]
            out[name] = jax.tree.map(lambda *b: jnp.stack(b), *batches)
    return out


def fit(
    problem: Problem,
    field: Any,
    *,
    key: PRNGKeyArray,
    phases: Sequence[AbstractPhase] | None = None,
    steps: int | None = None,
    optimizer: optax.GradientTransformation | None = None,
    learning_rate: float | None = None,
    resample_every: int | None = None,
    adaptive: AdaptiveSampling | None = None,
    lbfgs_steps: int | None = None,
    lbfgs_points: int | None = None,
    lbfgs_optimizer: optax.GradientTransformationExtraArgs | None = None,
    params: Any = None,
    dtype: Any = None,
    divergence_factor: float | None = 1e6,
    progress: Any = None,
    callbacks: Sequence[Callable[..., Any]] = (),
    checkpoint: str | None = None,
    checkpoint_every: int | None = None,
    resume: str | None = None,
    causal: Causal | None = None,
    devices: Sequence[Any] | None = None,
    balancing: AbstractBalancing | None = None,
) -> FitResult:
    r"""Minimise the problem's Eq. 3 loss over the field (and any PDE coefficients).

    Training runs in phases (`Adam`, `LBFGS`, `Optax`, ...), each in compiled blocks of
    steps. Give the phases as `phases`, or use the simple keywords, which stand for
    ``[Adam(steps, learning_rate=..., resample_every=...), LBFGS(lbfgs_steps,
    points=lbfgs_points)]`` (the second only with `lbfgs_steps`).

    Args:
        problem: the `Problem`.
        field: the initial field, an equinox module (e.g. `SIREN`, `HardDirichlet`).
        key: PRNG key (or an int) for collocation sampling (see `Engine` for the key of
            each block, so a resumed run draws the same points as an uninterrupted one).
        phases: the training phases, in order (instead of the keywords below).
        steps: first-order optimiser steps (default 5000).
        optimizer: any `optax.GradientTransformation` for those steps; default Adam with a
            cosine decay from `learning_rate` to 1% of it over `steps`.
        learning_rate: used by the default optimiser (default 1e-3).
        resample_every: steps per block of fixed collocation points (default 100).
        adaptive: `AdaptiveSampling` to draw PDE points where residuals are large, in the
            phases that draw fresh points every block (first-order ones).
        lbfgs_steps: L-BFGS steps after the first phase, on one fixed batch (default 0).
        lbfgs_points: points per constraint for that batch (default: each constraint's own
            ``num_points``).
        lbfgs_optimizer: the second-phase optimiser (default ``optax.lbfgs(memory_size=50)``;
            see `LBFGS`). Any optax transformation that takes ``value``, ``grad`` and
            ``value_fn`` works.
        params: initial PDE coefficients (default: ``problem.params``); Python floats
            among them are trained like arrays.
        dtype: cast the field and params, e.g. ``jnp.float64`` (needs
            ``jax.config.update("jax_enable_x64", True)``).
        divergence_factor: stop when the loss exceeds this multiple of the best loss so far
            (``None``: never).
        progress: a bar on a terminal and a line every 30 s otherwise (``None``, the
            default), always a bar (``True``), nothing (``False``), or a progress meter
            such as ``TextProgress(every=10)``.
        callbacks: functions ``cb(step, field, params, losses) -> bool | None`` called after
            each block with the latest per-constraint losses; returning True stops training.
        checkpoint: path to save the training state to after each
            `checkpoint_every` blocks (default: every block) and at the end.
        resume: path of a checkpoint written by a run of the same configuration; training
            continues from its phase and step and reproduces the uninterrupted run.
        causal: `Causal` settings to weight space-time residuals by time chunk so that
            earlier times are fitted first (Wang et al. 2022), in the phases that draw
            fresh points every block; the recorded losses are then the causally weighted
            ones, and L-BFGS minimises the plain loss (default ``None``: no weighting).
        devices: the devices to train on (default: ``jax.devices()``, every device of
            every process). With more than one, each block's collocation points and
            observation batches are split over them along the point axis
            (`jax.sharding`), the parameters and optimiser state are replicated, and XLA
            turns the loss's means into cross-device reductions: the same computation as
            on one device, up to the order of floating-point sums. A batch whose size the
            device count does not divide is replicated instead (with a warning). For
            several hosts, call ``jax.distributed.initialize()`` first in every process
            and run the same script everywhere (only process 0 writes `checkpoint`).
        balancing: a loss-balancing scheme (`LRAnnealing`, `InitialNormalization`) that
            sets the weight of each constraint's term before every block of the phases
            that draw fresh points (``None``: the constraints' own weights). The weights
            are not saved in checkpoints, so `resume` does not take it.

    Returns:
        A `FitResult`.

    Raises:
        TypeError, ValueError: bad arguments, before any training (an unknown phase, a
            phase list together with the simple keywords, a phase's ``points`` naming a
            constraint the problem lacks, a field with nothing to train, no steps at all, a
            checkpoint of another phase layout, ...).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde import SIREN
        >>> from fieldpde.constraints import Observations
        >>> x = jnp.linspace(-1, 1, 32)[:, None]
        >>> problem = Problem([Observations(x, jnp.sin(3 * x[:, 0]))])
        >>> net = SIREN.init(1, 16, 1, depth=3, key=jax.random.key(0), first_omega=3.0)
        >>> result = fit(problem, net, key=jax.random.key(1), steps=300, progress=False)
        >>> result.status, result.final_loss < 1e-3
        ('completed', True)

        The same run written with phases, then polished by L-BFGS:

        >>> from fieldpde.train import Adam, LBFGS
        >>> result = fit(problem, net, key=1, progress=False,
        ...              phases=[Adam(300, learning_rate=1e-3), LBFGS(50)])
        >>> result.steps, sorted(set(result.history["phase"].tolist()))
        (350, [0, 1])
    """
    run = prepare_fit(**locals())  # every argument, by name: one list of them to keep
    return run.result(run.advance())


@dataclass(eq=False)
class FitRun:
    """A prepared `fit`: its engine, state and record, advanced by `advance`.

    `fit` is ``prepare_fit(...)`` followed by ``result(advance())``; `fit_best_of`
    advances several to the probe step and continues the best.
    """

    problem: Problem
    engine: Engine
    state: TrainState
    record: Record
    meter: Any
    callbacks: tuple[Callable[..., Any], ...]
    checkpoint: str | None
    checkpoint_every: int | None
    t_start: float

    def save(self, state: TrainState, record: Record) -> None:
        # with several hosts every process holds the same replicated state; one writes it
        if self.checkpoint is not None and jax.process_index() == 0:
            save_run(self.checkpoint, self.engine, state, record, {"problem": self.problem.name})

    def on_block(self, state: TrainState, record: Record) -> bool:
        if not self.callbacks:
            return False
        field_now, params_now = self.engine.objectives[state.phase].model(state.params)
        _, latest = record.latest()
        latest = {k: float(v) for k, v in latest.items()}
        return any(bool(cb(record.steps, field_now, params_now, latest)) for cb in self.callbacks)

    def advance(self, until: int | None = None) -> str:
        """Run until the end (or `until` steps of the whole run); returns why it ended."""
        self.state, why = self.engine.run(
            self.state,
            self.record,
            until=until,
            on_block=self.on_block,
            meter=self.meter,
            save=self.save if self.checkpoint is not None else None,
            save_every=self.checkpoint_every,
        )
        if why != "paused":
            self.save(self.state, self.record)
        return why

    def result(self, why: str) -> "FitResult":
        """The `FitResult` after a run that ended for reason `why`."""
        state, record, engine = self.state, self.record, self.engine
        if why == "failed":
            status = labels(state.result).item()
            message = failure_message(state, engine.phases, record.steps)
        elif why == "stopped":
            status, message = "stopped", f"a callback stopped training at step {record.steps}"
        else:
            status, message = "completed", describe(engine.phases)
        field, params = engine.objectives[state.phase].model(state.params)
        return FitResult(
            field=field,
            params=params,
            history=record.arrays(),
            status=status,
            message=message,
            steps=record.steps,
            wall_time=time.perf_counter() - self.t_start,
            state=state,
        )


def prepare_fit(
    problem: Problem,
    field: Any,
    *,
    key: Any,
    phases: Sequence[AbstractPhase] | None = None,
    steps: int | None = None,
    optimizer: optax.GradientTransformation | None = None,
    learning_rate: float | None = None,
    resample_every: int | None = None,
    adaptive: AdaptiveSampling | None = None,
    lbfgs_steps: int | None = None,
    lbfgs_points: int | None = None,
    lbfgs_optimizer: Any = None,
    params: Any = None,
    dtype: Any = None,
    divergence_factor: float | None = 1e6,
    progress: Any = None,
    callbacks: Sequence[Callable[..., Any]] = (),
    checkpoint: str | None = None,
    checkpoint_every: int | None = None,
    resume: str | None = None,
    causal: Causal | None = None,
    devices: Sequence[Any] | None = None,
    members: int | None = None,
    balancing: AbstractBalancing | None = None,
) -> FitRun:
    """Check `fit`'s arguments and build its run (see `fit`); nothing is trained yet.

    With `members`, `field` holds that many fields stacked on a leading axis and `key` one
    sampling key per member: the run is an ensemble, one vmapped program (see
    `fit_ensemble`).
    """
    t_start = time.perf_counter()
    if not isinstance(problem, Problem):
        raise TypeError(f"`problem` must be a fieldpde Problem, got {type(problem).__name__}")
    if not callable(field):
        raise TypeError(f"`field` must be a callable field, got {type(field).__name__}")
    if members is None:
        key = as_key(key, "key")
    else:
        key = _member_keys(key, members)
        for name, value in (
            ("adaptive", adaptive),
            ("devices", devices),
            ("resume", resume),
            ("checkpoint", checkpoint),
            ("balancing", balancing),
        ):
            if value is not None:
                raise ValueError(f"`{name}` is not supported for an ensemble fit")
    sugar = dict(
        steps=steps,
        optimizer=optimizer,
        learning_rate=learning_rate,
        resample_every=resample_every,
        lbfgs_steps=lbfgs_steps,
        lbfgs_points=lbfgs_points,
        lbfgs_optimizer=lbfgs_optimizer,
    )
    if phases is None:
        phases = sugar_phases(
            steps=steps,
            optimizer=optimizer,
            learning_rate=learning_rate,
            resample_every=resample_every,
            lbfgs_steps=lbfgs_steps,
            lbfgs_points=lbfgs_points,
            lbfgs_optimizer=lbfgs_optimizer,
        )
    else:
        given = [k for k, v in sugar.items() if v is not None]
        if given:
            raise ValueError(
                f"`phases` and {', '.join(f'`{k}`' for k in given)} both set the training: "
                "give the phases alone (e.g. Adam(steps, learning_rate=...), LBFGS(...))"
            )
        phases = check_phases(phases)
    if not sum(p.steps for p in phases):
        raise ValueError(
            "nothing to train: every phase has 0 steps (set `steps` or `lbfgs_steps` > 0)"
        )
    check_points(phases, list(problem.constraints))
    if checkpoint is not None:
        checkpoint = str(check_target(checkpoint, "checkpoint", example="run.ckpt"))
    if checkpoint_every is not None:
        checkpoint_every = positive_int("checkpoint_every", checkpoint_every)
    if divergence_factor is not None and not divergence_factor > 1:
        raise ValueError(f"`divergence_factor` must be > 1 or None, got {divergence_factor!r}")
    if (
        dtype is not None
        and jnp.dtype(dtype) == jnp.float64
        and not jax.config.read("jax_enable_x64")
    ):
        raise ValueError(
            "`dtype`=float64 needs 64-bit JAX: call jax.config.update('jax_enable_x64', True) "
            "before creating the field"
        )
    if causal is not None and not isinstance(causal, Causal):
        raise TypeError(f"`causal` must be a Causal instance or None, got {type(causal).__name__}")
    if balancing is not None and not isinstance(balancing, AbstractBalancing):
        raise TypeError(
            f"`balancing` must be a balancing scheme (LRAnnealing, InitialNormalization) or "
            f"None, got {balancing!r}"
        )
    if balancing is not None and resume is not None:
        raise ValueError("`resume` does not restore the weights of `balancing`; drop one")
    if adaptive is not None and not isinstance(adaptive, AdaptiveSampling):
        raise TypeError(
            f"`adaptive` must be an AdaptiveSampling instance or None, got {adaptive!r}"
        )
    if devices is not None and not isinstance(devices, Sequence):
        raise TypeError(
            f"`devices` must be a sequence of jax devices or None, got {type(devices).__name__}"
        )
    callbacks = tuple(callbacks)
    for i, cb in enumerate(callbacks):
        if not callable(cb):
            raise TypeError(f"`callbacks[{i}]` must be callable, got {cb!r}")
    meter = progress_meter(progress)
    mesh = device_mesh("points", devices)
    params = problem.params if params is None else params
    # a coefficient written as a Python float is trainable like an array (jnp.asarray
    # makes it an inexact array leaf); ints and bools stay static
    params = jax.tree.map(lambda a: jnp.asarray(a) if isinstance(a, float) else a, params)
    trainable, static = trainable_split(cast_like((field, params), dtype))
    if not count_trainable(trainable):
        raise ValueError(
            "`field` has no trainable arrays (no floating-point weights): pass a network "
            "such as SIREN.init(...), not a fixed function"
        )
    leaves = [a for a in jax.tree.leaves(trainable) if eqx.is_inexact_array(a)]
    check_dtypes(phases, leaves[0].dtype if leaves else None)

    objective_type = ProblemObjective if balancing is None else BalancedObjective
    objectives: tuple[Any, ...] = tuple(
        objective_type(problem, static, causal if p.resamples else None) for p in phases
    )
    engine = Engine(
        objectives=objectives,
        phases=tuple(phases),
        key=key,
        sample=problem_sampler(
            problem,
            phases,
            lambda i: objectives[i],
            adaptive=adaptive,
            shard=None if mesh is None else _sharder(mesh),
            balance=None if balancing is None else _balancer(balancing, problem, static),
        ),
        members=members,
        batch_axes=0,
        divergence_factor=divergence_factor,
        place=lambda tree: replicate(tree, mesh),
    )
    record = Record(objectives[0].names, members=members)
    if resume is not None:
        state = load_run(resume, engine, trainable, record)
    else:
        state = engine.start(trainable)

    return FitRun(
        problem=problem,
        engine=engine,
        state=state,
        record=record,
        meter=meter,
        callbacks=callbacks,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        t_start=t_start,
    )


def _balancer(balancing: AbstractBalancing, problem: Problem, static: Any):
    """``balance(index, phase, params, batches)``: the batches with the block's weights.

    New weights before each block of a phase that resamples; a phase on one batch keeps
    the weights it starts with."""
    current: dict[str, Any] = {"weights": None}

    def balance(index, phase, params, batches):
        if phase.resamples or current["weights"] is None:
            resized = problem.with_num_points(phase.points)
            current["weights"] = balancing.weights(
                current["weights"], resized, params, static, batches
            )
        leaves = [a for a in jax.tree.leaves(params) if eqx.is_inexact_array(a)]
        dtype = leaves[0].dtype if leaves else jnp.float32
        return batches, {n: jnp.asarray(w, dtype) for n, w in current["weights"].items()}

    return balance


def _member_keys(keys: Any, members: int) -> Any:
    """`keys` as a stack of `members` typed PRNG keys, or a clear error."""
    members = positive_int("members", members)
    if isinstance(keys, jax.Array) and jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
        if keys.shape == (members,):
            return keys
    raise ValueError(
        f"`keys` must hold one PRNG key per member, shape ({members},) "
        f"(jax.random.split(key, {members})), got {keys!r}"
    )


def _sharder(mesh):
    unsplit: set[str] = set()

    def shard(batches):
        for name, b in batches.items():
            n = b.points.shape[0]
            if n % mesh.devices.size and name not in unsplit:
                unsplit.add(name)
                warnings.warn(
                    f"constraint {name!r} draws {n} points, which {mesh.devices.size} devices "
                    "do not divide: its batch is replicated on every device",
                    stacklevel=4,
                )
        return {n: split_leading(b, mesh, b.points.shape[0]) for n, b in batches.items()}

    return shard
