"""Argument checks that raise clear errors naming the argument."""

import math
from numbers import Integral, Real
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def positive_int(name: str, value, *, minimum: int = 1, hint: str = "") -> int:
    """Return `value` as an int, or raise naming `name` if it is not an int >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        extra = f" ({hint})" if hint else ""
        raise ValueError(f"`{name}` must be an integer >= {minimum}{extra}, got {value!r}")
    return int(value)


def positive_float(name: str, value) -> float:
    """Return `value` as a float, or raise naming `name` if it is not finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite positive number, got {value!r}")
    if value <= 0:
        raise ValueError(f"`{name}` must be > 0, got {value!r}")
    return float(value)


def last_axis(name: str, x, expected: int, owner: str):
    """Check that `x` has `expected` entries on its last axis."""
    x = jnp.asarray(x)
    if x.ndim == 0 or x.shape[-1] != expected:
        raise ValueError(
            f"`{name}` passed to {owner} must have last axis {expected} (shape (..., {expected})), "
            f"got shape {x.shape}"
        )
    return x


def as_key(seed: Any, name: str = "seed") -> jax.Array:
    """A typed PRNG key from an int or a (typed or raw uint32) key; else a clear error.

    Example:
        >>> as_key(0).dtype
        key<fry>
        >>> as_key("0")
        Traceback (most recent call last):
        TypeError: `seed` must be an int or a PRNG key (jax.random.key(0)), got str
    """
    if isinstance(seed, bool):
        raise TypeError(f"`{name}` must be an int or a PRNG key, got {seed!r}")
    if isinstance(seed, int | np.integer):
        return jax.random.key(int(seed))
    if isinstance(seed, jax.Array) and jnp.issubdtype(seed.dtype, jax.dtypes.prng_key):
        return seed
    arr = np.asarray(seed) if not isinstance(seed, jax.Array) else seed
    if arr.dtype == np.uint32 and arr.shape == (2,):
        return jax.random.wrap_key_data(jnp.asarray(arr))
    raise TypeError(
        f"`{name}` must be an int or a PRNG key (jax.random.key(0)), got {type(seed).__name__}"
    )


def writable_file(name: str, path: Any) -> Any:
    """Check before any work that `path` can be written as a file; returns it as a Path.

    A directory, or a parent that exists as a file, is refused naming the argument.

    Example:
        >>> import tempfile
        >>> writable_file("checkpoint", tempfile.mkdtemp())
        Traceback (most recent call last):
        ValueError: `checkpoint` must be a file path, but ... is a directory ...
    """
    from pathlib import Path

    if not isinstance(path, str | Path) or not str(path):
        raise TypeError(f"`{name}` must be a file path (str or Path), got {path!r}")
    path = Path(path)
    if path.is_dir():
        raise ValueError(
            f"`{name}` must be a file path, but {str(path)!r} is a directory "
            f"(give a file name inside it, e.g. {str(path / 'run.ckpt')!r})"
        )
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"`{name}`: {str(parent)!r} is a file, not a directory")
            break
    return path
