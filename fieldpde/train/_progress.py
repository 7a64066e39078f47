r"""Progress of a training run: a bar on a terminal, timed text lines in batch logs.

A run that writes to a terminal shows a `tqdm` bar. A run whose stderr goes to a file (a
batch job, a SLURM log, a pipe) would show nothing for minutes, so there it prints one line
every `every` seconds instead: step, loss, steps per second and the time left.
"""

import abc
import math
import sys
import time
from typing import Any, TextIO, final

import equinox as eqx

from .._checks import positive_float


class AbstractProgressMeter(eqx.Module):
    """How a run reports progress: `start` once, `update` after every block, `close` once.

    Pass one as ``progress=`` to `fit` (or to `Engine.run` as ``meter=``).

    Example:
        A meter that keeps the losses it is shown:

        >>> class Collect(AbstractProgressMeter):
        ...     def start(self, total, done=0):
        ...         return []
        ...     def update(self, handle, steps, loss):
        ...         handle.append(loss)
        ...     def close(self, handle):
        ...         pass
        >>> meter = Collect()
        >>> handle = meter.start(10)
        >>> meter.update(handle, 5, 0.5); meter.update(handle, 5, 0.25); handle
        [0.5, 0.25]
    """

    @abc.abstractmethod
    def start(self, total: int, done: int = 0) -> Any:
        """Begin a run of `total` steps of which `done` are behind it; returns a handle."""

    @abc.abstractmethod
    def update(self, handle: Any, steps: int, loss: float) -> None:
        """`steps` more steps ran; `loss` is the latest loss."""

    @abc.abstractmethod
    def close(self, handle: Any) -> None:
        """The run ended."""


@final
class NoProgress(AbstractProgressMeter):
    """Report nothing.

    Example:
        >>> NoProgress().start(100) is None
        True
    """

    def start(self, total: int, done: int = 0) -> None:
        return None

    def update(self, handle: Any, steps: int, loss: float) -> None:
        return None

    def close(self, handle: Any) -> None:
        return None


@final
class TqdmProgress(AbstractProgressMeter):
    """A `tqdm` bar with the latest loss (for terminals).

    Example:
        >>> import io
        >>> meter = TqdmProgress()
        >>> isinstance(meter, AbstractProgressMeter)
        True
    """

    def start(self, total: int, done: int = 0) -> Any:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit="step", dynamic_ncols=True, leave=True)
        if done:
            bar.update(done)
        return bar

    def update(self, handle: Any, steps: int, loss: float) -> None:
        handle.update(steps)
        handle.set_postfix(loss=f"{loss:.3e}")

    def close(self, handle: Any) -> None:
        handle.close()


class _Lines:
    """The mutable bookkeeping of one `TextProgress` run (host side only)."""

    def __init__(self, total: int, done: int, stream: TextIO):
        self.total, self.done, self.stream = total, done, stream
        self.t0 = self.last = time.perf_counter()
        self.first = done


@final
class TextProgress(AbstractProgressMeter):
    """One line every `every` seconds: step, loss, steps per second and time left.

    Attributes:
        every: seconds between lines.
        stream: where to write (default: stderr).

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> meter = TextProgress(every=0.0, stream=out)
        >>> handle = meter.start(100)
        >>> meter.update(handle, 50, 0.25)
        >>> meter.close(handle)
        >>> out.getvalue().splitlines()[0].startswith("step 50/100 (50%)  loss 2.500e-01")
        True
    """

    every: float = eqx.field(static=True, default=30.0)
    stream: Any = eqx.field(static=True, default=None)

    def __check_init__(self):
        if self.every != 0.0:
            positive_float("every", self.every)

    def start(self, total: int, done: int = 0) -> _Lines:
        return _Lines(total, done, sys.stderr if self.stream is None else self.stream)

    def update(self, handle: _Lines, steps: int, loss: float) -> None:
        handle.done += steps
        now = time.perf_counter()
        if now - handle.last < self.every and handle.done < handle.total:
            return
        handle.last = now
        self._line(handle, now, loss)

    def close(self, handle: _Lines) -> None:
        return None

    def _line(self, handle: _Lines, now: float, loss: float) -> None:
        elapsed = max(now - handle.t0, 1e-9)
        rate = (handle.done - handle.first) / elapsed
        left = (handle.total - handle.done) / rate if rate > 0 else math.inf
        share = 100.0 * handle.done / max(handle.total, 1)
        print(
            f"step {handle.done}/{handle.total} ({share:.0f}%)  loss {loss:.3e}  "
            f"{rate:.3g} steps/s  ETA {_duration(left)}",
            file=handle.stream,
            flush=True,
        )


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def progress_meter(progress: Any) -> AbstractProgressMeter:
    """The meter for a ``progress`` argument: a meter, ``True``/``False``, or ``None``.

    ``None`` (the default) shows a bar on a terminal and timed text lines otherwise;
    ``True`` always a bar; ``False`` nothing.
    """
    if isinstance(progress, AbstractProgressMeter):
        return progress
    if progress is None:
        return TqdmProgress() if sys.stderr.isatty() else TextProgress()
    if progress is True:
        return TqdmProgress()
    if progress is False:
        return NoProgress()
    raise TypeError(
        f"`progress` must be True, False, None or a progress meter (TextProgress(...)), "
        f"got {progress!r}"
    )
