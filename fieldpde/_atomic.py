"""Atomic file writes: a temporary file beside the target, renamed over it when complete.

Used for every file fieldpde writes (field files, checkpoints, netCDF), so that a write that
fails or is killed never leaves a half-written target behind. Two more things a plain
`tempfile.mkstemp` gets wrong are handled here:

- **Permissions.** `mkstemp` creates files with mode 0600. The final file gets the mode
  a plain ``open(path, "w")`` would give it: that of the file it replaces, or for a new
  file ``0o666`` less the process umask (0644 under the usual umask 022, as xarray and
  numpy write).
- **Stale temporaries.** A writer killed with SIGKILL cannot remove its temporary
  ``.NAME.<tag>.tmp``. Before each write of ``NAME`` the temporaries of that same target
  left by dead writers are removed (`clean_stale_temporaries`, which states the rule);
  a concurrent writer's file is never touched.
"""

import os
import re
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# A temporary whose writer cannot be checked (no pid in its name, or written on another
# host) is removed only after it has not been modified for this long: long enough for a
# writer that computes between two writes (a lazily evaluated netCDF variable) to finish.
STALE_AFTER_S = 600.0

_HOST = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:24] or "host"
# the tag of a temporary: HOST-PID-RANDOM, or (older fieldpde versions) RANDOM alone, where
# RANDOM is the 8 characters `tempfile.mkstemp` draws
_TAG = re.compile(r"(?:(?P<host>[A-Za-z0-9]+)-(?P<pid>\d+)-)?[a-z0-9_]{8}")


def check_target(path: Any, name: str = "path", *, example: str = "out.dat") -> Path:
    """`path` as a `Path` that a file can be written to, or a `ValueError` naming `name`.

    The check runs before any work whose result would be written there, so that a
    directory or an unwritable location is reported before, not after, a long run. A
    missing parent folder is fine (it is created when writing).

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> check_target(folder + "/new/run.ckpt").name
        'run.ckpt'
        >>> check_target(folder, "checkpoint", example="run.ckpt")
        Traceback (most recent call last):
        ValueError: `checkpoint` ... is a directory; give a file name inside it, e.g. .../run.ckpt
    """
    if not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise TypeError(f"`{name}` must be a file path (str or os.PathLike), got {path!r}")
    path = Path(path)
    if path.is_dir():
        raise ValueError(
            f"`{name}` {str(path)!r} is a directory; give a file name inside it, e.g. "
            f"{str(path / example)}"
        )
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"`{name}` {str(path)!r} is inside {str(parent)!r}, which is a file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(
            f"`{name}` {str(path)!r} cannot be written: no write permission in {str(parent)!r}"
        )
    return path


def _umask() -> int:
    try:  # Linux reports it without changing it
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _final_mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _pid_alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # no cheap, safe check: keep the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def clean_stale_temporaries(path: str | os.PathLike, *, now: float | None = None) -> list[Path]:
    """Remove temporaries of `path` left by writers that died; return what was removed.

    A temporary of ``DIR/NAME`` is a file ``DIR/.NAME.<tag>.tmp`` (temporaries of other
    targets are never looked at). It is removed when

    - its tag names this host and a process id that no longer exists (a killed writer), or
    - its writer cannot be checked (another host, or a temporary of an older fieldpde
      version without a pid) and it has not been modified for `STALE_AFTER_S` seconds.

    A temporary whose writer is alive is kept however old it is. Errors (a file that
    another cleaner removed first, no permission) are ignored: cleaning is best effort.

    Example:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> dead = os.path.join(folder, f".run.nc.{_HOST}-999999999-x1y2z3w4.tmp")
        >>> mine = os.path.join(folder, f".run.nc.{_HOST}-{os.getpid()}-x1y2z3w4.tmp")
        >>> for p in (dead, mine):
        ...     open(p, "w").close()
        >>> [p.name == os.path.basename(dead) for p in clean_stale_temporaries(
        ...     os.path.join(folder, "run.nc"))]
        [True]
        >>> sorted(os.listdir(folder)) == [os.path.basename(mine)]
        True
    """
    path = Path(path)
    prefix, suffix = f".{path.name}.", ".tmp"
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(suffix)):
            continue
        match = _TAG.fullmatch(entry.name[len(prefix) : -len(suffix)])
        if match is None:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if match["pid"] is not None and match["host"] == _HOST:
                stale = not _pid_alive(int(match["pid"]))
            else:
                stale = now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER_S
            if stale:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def atomic_write(path: str | os.PathLike, write: Callable[[Path], Any]) -> None:
    """Call ``write(tmp)`` to fill a temporary file beside `path`, then rename it over `path`.

    `write` gets the temporary's path (it exists and is empty; a writer may replace it).
    If `write` raises, the temporary is removed and `path` is left as it was. The parent
    folder is created if needed, stale temporaries of `path` are cleaned first, and the
    result has the permissions described in the module docstring.

    Example:
        >>> import os, tempfile, xarray as xr
        >>> path = os.path.join(tempfile.mkdtemp(), "out.nc")
        >>> atomic_write(path, lambda tmp: xr.Dataset({"u": ("x", [1.0, 2.0])}).to_netcdf(tmp))
        >>> xr.open_dataset(path)["u"].values.tolist()
        [1.0, 2.0]
    """
    path = check_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(path)
    mode = _final_mode(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{_HOST}-{os.getpid()}-", suffix=".tmp", dir=path.parent
    )
    os.close(fd)
    try:
        write(Path(tmp))
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`.

    Example:
        >>> import os, stat, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "sub", "blob.bin")
        >>> atomic_write_bytes(path, b"abc")
        >>> open(path, "rb").read(), oct(os.stat(path).st_mode & 0o777) == oct(0o666 & ~_umask())
        (b'abc', True)
    """

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)

    atomic_write(path, write)
