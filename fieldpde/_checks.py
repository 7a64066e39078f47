"""Argument checks that raise clear errors naming the argument."""

import math
from numbers import Integral, Real

import jax.numpy as jnp


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
