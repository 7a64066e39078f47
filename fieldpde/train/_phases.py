r"""Phases of training: an optimiser run for a number of steps, one after another.

A run is a sequence of phases (Adam with a cosine decay, then L-BFGS, say). Each phase
says how it starts (`init`, its optimiser state from the parameters), how it takes one step
(`update`, from the objective at a batch of points), how many steps it takes, how many of
them go into one compiled block, and whether each block draws fresh collocation points.
The engine (`fieldpde.train.fit` and the other drivers) runs the blocks, guards every step
against non-finite and diverging losses, and carries the state from phase to phase.
"""

import abc
from collections.abc import Mapping
from typing import Any, final

import equinox as eqx
import jax
import numpy as np
import optax

from .._checks import positive_float, positive_int
from ._objective import AbstractObjective
from ._results import RESULTS

Points = int | tuple[tuple[str, int], ...] | None


def _points(points: Any) -> Points:
    """`points` as an int, a sorted tuple of ``(constraint, count)`` pairs, or None."""
    if points is None:
        return None
    if isinstance(points, Mapping):
        return tuple(sorted((str(k), positive_int(f"points[{k!r}]", v)) for k, v in points.items()))
    return positive_int("points", points)


def _dtype(dtype: Any) -> Any:
    if dtype is None:
        return None
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(
            f"`dtype` must be a floating dtype such as jnp.float64, got {dtype!r}"
        ) from err
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"`dtype` must be a floating dtype, got {dt}")
    return dt.name


class AbstractPhase(eqx.Module):
    """One stage of training, run for `steps` steps in compiled blocks.

    A concrete phase implements `init` (its optimiser state from the parameters), `update`
    (one step: the loss and its parts at the current parameters, the gradient, the new
    parameters and optimiser state, and a `RESULTS` item for a breakdown of the optimiser
    itself), `block_size` (steps per compiled block) and `resamples` (whether each block
    draws fresh points; otherwise one batch serves the whole phase).

    Attributes:
        steps: steps this phase takes.
        points: collocation points per constraint while this phase runs: a number for
            every constraint, a dict name -> number for some, or ``None`` (each
            constraint's own ``num_points``).
        dtype: cast the parameters to this floating dtype when the phase starts (e.g.
            ``"float64"`` for a second-order polish after float32 Adam; needs JAX's x64
            mode), or ``None`` to keep them as they are.

    Example:
        Plain gradient descent as a phase of its own:

        >>> import jax, jax.numpy as jnp
        >>> from fieldpde.train import RESULTS
        >>> class Descent(AbstractPhase):
        ...     steps: int = 100
        ...     points: None = None
        ...     dtype: None = None
        ...     block_size = 50
        ...     resamples = True
        ...     def init(self, params):
        ...         return None
        ...     def update(self, objective, params, opt_state, batch, x):
        ...         (loss, parts), g = jax.value_and_grad(objective, has_aux=True)(
        ...             params, batch, x)
        ...         new = jax.tree.map(lambda p, g: p - 0.1 * g, params, g)
        ...         return loss, parts, g, new, None, RESULTS.running
        >>> from fieldpde.train import Engine, LossObjective, Record
        >>> engine = Engine((LossObjective(lambda w: jnp.sum((w - 1.0) ** 2), None),),
        ...                 (Descent(),))
        >>> state, why = engine.run(engine.start(jnp.zeros(2)), Record(()))
        >>> why, state.params.round(4).tolist()
        ('completed', [1.0, 1.0])
    """

    steps: eqx.AbstractVar[int]
    points: eqx.AbstractVar[Points]
    dtype: eqx.AbstractVar[str | None]

    @property
    @abc.abstractmethod
    def block_size(self) -> int:
        """Steps per compiled block (checkpoints, callbacks and progress come between)."""

    @property
    @abc.abstractmethod
    def resamples(self) -> bool:
        """Whether each block draws fresh collocation points."""

    @abc.abstractmethod
    def init(self, params: Any) -> Any:
        """The optimiser state at the start of the phase."""

    @abc.abstractmethod
    def update(
        self, objective: AbstractObjective, params: Any, opt_state: Any, batch: Any, x: Any
    ) -> tuple[Any, dict[str, Any], Any, Any, Any, RESULTS]:
        """One step: ``(loss, parts, grads, new_params, new_opt_state, breakdown)``.

        `loss` and `parts` are the objective at the current `params`; `breakdown` is
        ``RESULTS.running`` unless the optimiser itself failed.
        """

    def cast(self, params: Any) -> Any:
        """`params` with every inexact array cast to the phase's `dtype` (if it has one)."""
        if self.dtype is None:
            return params
        if np.dtype(self.dtype) == np.float64 and not jax.config.read("jax_enable_x64"):
            raise ValueError(
                f"{type(self).__name__}(dtype='float64') needs 64-bit JAX: call "
                "jax.config.update('jax_enable_x64', True) before training"
            )
        return cast_like(params, self.dtype)

    def layout(self) -> list[Any]:
        """What a checkpoint records of this phase: its kind and step count."""
        return [type(self).__name__, int(self.steps)]


class AbstractFirstOrderPhase(AbstractPhase):
    """A first-order optax transformation with fresh points every `resample_every` steps.

    A concrete phase declares ``resample_every`` and implements `transformation`;
    blocks, resampling, `init` and `update` come from here.

    Attributes:
        resample_every: steps per block of fixed collocation points (abstract).

    Example:
        >>> import optax
        >>> phase = Optax(20, optax.sgd(0.1), resample_every=5)
        >>> isinstance(phase, AbstractFirstOrderPhase), phase.block_size, phase.resamples
        (True, 5, True)
    """

    resample_every: eqx.AbstractVar[int]

    @abc.abstractmethod
    def transformation(self) -> optax.GradientTransformation:
        """The optax transformation this phase runs."""

    @property
    def block_size(self) -> int:
        return self.resample_every

    @property
    def resamples(self) -> bool:
        return True

    def init(self, params: Any) -> Any:
        return self.transformation().init(params)

    def update(self, objective, params, opt_state, batch, x):
        (loss, parts), grads = jax.value_and_grad(objective, has_aux=True)(params, batch, x)
        updates, new_state = self.transformation().update(grads, opt_state, params)
        return loss, parts, grads, optax.apply_updates(params, updates), new_state, RESULTS.running


@final
class Adam(AbstractFirstOrderPhase):
    r"""Adam with a cosine decay of the learning rate, fresh points every block.

    The learning rate falls from `learning_rate` to ``decay_to * learning_rate`` over the
    phase's steps (``decay_to=None``: constant).

    Attributes:
        steps: Adam steps.
        learning_rate: the peak learning rate.
        decay_to: the final fraction of the cosine decay (default 1e-2), or ``None``.
        resample_every: steps per block of fixed collocation points.
        points, dtype: as for `AbstractPhase`.

    Example:
        >>> import jax.numpy as jnp
        >>> phase = Adam(100, learning_rate=1e-2)
        >>> phase.block_size, phase.resamples
        (100, True)
    """

    steps: int = eqx.field(static=True)
    learning_rate: float = eqx.field(static=True)
    decay_to: float | None = eqx.field(static=True)
    resample_every: int = eqx.field(static=True)
    points: Points = eqx.field(static=True)
    dtype: str | None = eqx.field(static=True)

    def __init__(
        self,
        steps: int,
        *,
        learning_rate: float = 1e-3,
        decay_to: float | None = 1e-2,
        resample_every: int = 100,
        points: Any = None,
        dtype: Any = None,
    ):
        self.steps = positive_int("steps", steps, minimum=0)
        self.learning_rate = positive_float("learning_rate", learning_rate)
        if decay_to is not None:
            decay_to = positive_float("decay_to", decay_to)
        self.decay_to = decay_to
        self.resample_every = positive_int("resample_every", resample_every)
        self.points = _points(points)
        self.dtype = _dtype(dtype)

    def transformation(self) -> optax.GradientTransformation:
        """The optax Adam this phase runs."""
        if self.decay_to is None:
            return optax.adam(self.learning_rate)
        schedule = optax.cosine_decay_schedule(
            self.learning_rate, max(self.steps, 1), alpha=self.decay_to
        )
        return optax.adam(schedule)


@final
class Optax(AbstractFirstOrderPhase):
    """Any first-order `optax.GradientTransformation`, fresh points every block.

    Attributes:
        steps: optimiser steps.
        optimizer: the transformation (its schedule counts this phase's steps).
        resample_every: steps per block of fixed collocation points.
        points, dtype: as for `AbstractPhase`.

    Example:
        >>> import optax
        >>> Optax(50, optax.sgd(1e-2), resample_every=10).block_size
        10
    """

    steps: int = eqx.field(static=True)
    optimizer: optax.GradientTransformation = eqx.field(static=True)
    resample_every: int = eqx.field(static=True)
    points: Points = eqx.field(static=True)
    dtype: str | None = eqx.field(static=True)

    def __init__(
        self,
        steps: int,
        optimizer: optax.GradientTransformation,
        *,
        resample_every: int = 100,
        points: Any = None,
        dtype: Any = None,
    ):
        if not isinstance(optimizer, optax.GradientTransformation):
            raise TypeError(
                f"`optimizer` must be an optax.GradientTransformation, got "
                f"{type(optimizer).__name__}"
            )
        self.steps = positive_int("steps", steps, minimum=0)
        self.optimizer = optimizer
        self.resample_every = positive_int("resample_every", resample_every)
        self.points = _points(points)
        self.dtype = _dtype(dtype)

    def transformation(self) -> optax.GradientTransformation:
        return self.optimizer


@final
class LBFGS(AbstractPhase):
    r"""L-BFGS with optax's zoom line search, on one fixed batch of points.

    PINN losses are ill-conditioned and a field has few enough parameters that a long
    curvature memory is cheap: `memory` 50 reached 16x lower errors than optax's default
    of 10 on the Poisson benchmark.

    Attributes:
        steps: L-BFGS steps.
        memory: the curvature pairs kept.
        points: collocation points per constraint for the phase's one batch (default:
            each constraint's own ``num_points``).
        block: steps per compiled block (the batch and the curvature memory carry over
            from block to block, so this only sets how often checkpoints, callbacks and
            progress come).
        optimizer: another optax transformation taking ``value``, ``grad`` and
            ``value_fn`` (default ``optax.lbfgs(memory_size=memory)``).
        dtype: as for `AbstractPhase`.

    Example:
        >>> LBFGS(2000, points=4096).layout()
        ['LBFGS', 2000]
    """

    steps: int = eqx.field(static=True)
    memory: int = eqx.field(static=True)
    points: Points = eqx.field(static=True)
    block: int = eqx.field(static=True)
    optimizer: optax.GradientTransformationExtraArgs | None = eqx.field(static=True)
    dtype: str | None = eqx.field(static=True)

    def __init__(
        self,
        steps: int,
        *,
        memory: int = 50,
        points: Any = None,
        block: int = 1000,
        optimizer: optax.GradientTransformationExtraArgs | None = None,
        dtype: Any = None,
    ):
        if optimizer is not None and not isinstance(optimizer, optax.GradientTransformation):
            raise TypeError(
                f"`optimizer` must be an optax transformation taking value, grad and "
                f"value_fn (e.g. optax.lbfgs()), got {type(optimizer).__name__}"
            )
        self.steps = positive_int("steps", steps, minimum=0)
        self.memory = positive_int("memory", memory)
        self.points = _points(points)
        self.block = positive_int("block", block)
        self.optimizer = optimizer
        self.dtype = _dtype(dtype)

    @property
    def block_size(self) -> int:
        return self.block

    @property
    def resamples(self) -> bool:
        return False

    def transformation(self) -> optax.GradientTransformationExtraArgs:
        return optax.lbfgs(memory_size=self.memory) if self.optimizer is None else self.optimizer

    def init(self, params: Any) -> Any:
        return self.transformation().init(params)

    def update(self, objective, params, opt_state, batch, x):
        tx = self.transformation()

        def total(p):
            return objective(p, batch, x)[0]

        loss, grads = optax.value_and_grad_from_state(total)(params, state=opt_state)
        names = objective.names
        if len(names) == 1:
            # the total is the one part: skip a forward pass (a third of an L-BFGS step)
            parts = {names[0]: loss}
        else:
            parts = objective(params, batch, x)[1]
        updates, new_state = tx.update(
            grads, opt_state, params, value=loss, grad=grads, value_fn=total
        )
        return loss, parts, grads, optax.apply_updates(params, updates), new_state, RESULTS.running


def _check_phase(index: int, phase: Any) -> AbstractPhase:
    if not isinstance(phase, AbstractPhase):
        known = "Adam, Optax, LBFGS, NaturalGradient, SSBroyden, SSBFGS"
        raise TypeError(
            f"`phases[{index}]` must be a training phase ({known} from fieldpde.train, or "
            f"a subclass of AbstractPhase), got {phase!r}"
        )
    return phase


def check_phases(phases: Any) -> tuple[AbstractPhase, ...]:
    """`phases` as a tuple of phases, or a clear error naming the bad entry."""
    if isinstance(phases, AbstractPhase):
        phases = (phases,)
    if isinstance(phases, str | bytes) or not isinstance(phases, list | tuple):
        raise TypeError(f"`phases` must be a list of training phases, got {phases!r}")
    out = tuple(_check_phase(i, p) for i, p in enumerate(phases))
    if not out:
        raise ValueError("`phases` must hold at least one phase")
    for i, p in enumerate(out):
        if (
            p.dtype is not None
            and np.dtype(p.dtype) == np.float64
            and not jax.config.read("jax_enable_x64")
        ):
            raise ValueError(
                f"`phases[{i}]` asks for dtype float64, which needs 64-bit JAX: call "
                "jax.config.update('jax_enable_x64', True) first"
            )
    return out


def cast_like(tree: Any, dtype: Any) -> Any:
    """Every inexact array of `tree` cast to `dtype` (None: unchanged)."""
    if dtype is None:
        return tree
    return jax.tree.map(lambda a: a.astype(dtype) if eqx.is_inexact_array(a) else a, tree)
