"""What became of each member of an ensemble run: its status, and a warning naming failures."""

import warnings
from typing import Any

import numpy as np

from ._engine import Record, labels


def member_status(state: Any, record: Record) -> tuple[tuple[str, ...], np.ndarray]:
    """Each member's status label (``"completed"``, ``"nan"``, ...) and first failed step.

    Args:
        state: the final ensemble `TrainState` (its ``result`` has a member axis).
        record: its `Record`.

    Returns:
        ``(labels, failed_at)``: one label per member, and each member's first failed
        step (-1: none).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde.train import RESULTS
        >>> class S:  # a stand-in with a stacked status
        ...     result = jax.vmap(lambda bad: RESULTS.where(
        ...         bad, RESULTS.diverged, RESULTS.running))(jnp.array([False, True]))
        >>> record = Record((), members=2)
        >>> member_status(S(), record)[0]
        ('completed', 'diverged')
    """
    failed_at = record.failed_at
    if failed_at is None:
        raise ValueError("`record` is the record of one run, not of an ensemble")
    return tuple(labels(state.result).tolist()), failed_at.copy()


def report_failures(
    who: str, state: Any, record: Record, *, per: str = "step", steps_per: int = 1
) -> tuple[tuple[str, ...], np.ndarray]:
    """Warn (`RuntimeWarning`) naming every member that stopped, and return the statuses.

    Args:
        who: the function name for the message.
        state: the final ensemble `TrainState`.
        record: its `Record`.
        per: the unit the failure is counted in (``"step"``, ``"epoch"``).
        steps_per: steps per such unit.

    Returns:
        What `member_status` returns.

    Example:
        >>> import warnings, jax, jax.numpy as jnp
        >>> from fieldpde.train import RESULTS
        >>> class S:
        ...     result = jax.vmap(lambda bad: RESULTS.where(
        ...         bad, RESULTS.nonfinite, RESULTS.running))(jnp.array([False, True]))
        >>> record = Record((), members=2)
        >>> record.failed_at[1] = 30
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     status, _ = report_failures("demo", S(), record, per="epoch", steps_per=10)
        >>> status, str(caught[0].message).split(";")[0]
        (('completed', 'nan'), 'demo: 1 of 2 members stopped: member 1 (nan at epoch 3)')
    """
    status, failed_at = member_status(state, record)
    bad = [i for i, s in enumerate(status) if s != "completed"]
    if bad:
        where = ", ".join(
            f"member {i} ({status[i]} at {per} {int(failed_at[i]) // steps_per})" for i in bad
        )
        warnings.warn(
            f"{who}: {len(bad)} of {len(status)} members stopped: {where}; they keep "
            "their last good parameters, the others trained on unaffected",
            RuntimeWarning,
            stacklevel=3,
        )
    return status, failed_at
