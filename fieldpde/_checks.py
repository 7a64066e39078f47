"""Argument checks that raise clear errors naming the argument."""

import math
from numbers import Integral, Real
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

# numpy dtype kinds a numeric array may have: bool, signed/unsigned int, float, complex
_NUMERIC_KINDS = "biufc"


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


def constraint_weight(value: Any, owner: str) -> float:
    """Return a constraint's `weight` as a float, or raise if it is not finite and >= 0.

    Zero is allowed (it switches a term off while keeping it in the loss history); a
    negative weight would reward the residual and NaN or infinity poisons the loss, so
    those are errors.

    Example:
        >>> constraint_weight(10, "Dirichlet"), constraint_weight(0.0, "Residual")
        (10.0, 0.0)
        >>> constraint_weight(-1.0, "Observations")
        Traceback (most recent call last):
        ValueError: `weight` of Observations must be a finite number >= 0, got -1.0; ...
    """
    try:
        ok = not isinstance(value, bool) and math.isfinite(float(value)) and float(value) >= 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"`weight` of {owner} must be a finite number >= 0, got {value!r}; a negative "
            "weight rewards the residual instead of penalising it, NaN or inf poisons the "
            "loss (use weight=0 to switch a term off)"
        )
    return float(value)


def as_key(key: Any, name: str = "key") -> Any:
    """`key` as a JAX PRNG key: an int seed becomes ``jax.random.key(seed)``.

    Accepts a typed key (``jax.random.key(0)``), a raw ``uint32[2]`` key
    (``jax.random.PRNGKey(0)``, returned as the typed key it holds) and a Python or numpy
    integer; anything else raises a `TypeError` naming `name`. Typed keys pass through
    unchanged, tracers included.

    Example:
        >>> import jax
        >>> bool(jax.random.key_data(as_key(0)).tolist() == [0, 0])
        True
        >>> as_key(0.5)
        Traceback (most recent call last):
        TypeError: `key` must be a PRNG key such as jax.random.key(0) ... got float 0.5
    """
    if isinstance(key, Integral) and not isinstance(key, bool):
        if not -(2**63) <= int(key) < 2**64:
            raise TypeError(f"`{name}` as an int seed must fit in 64 bits, got {key}")
        return jax.random.key(int(key))
    if isinstance(key, (jax.Array, np.ndarray)):
        if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) and key.shape == ():
            return key
        if key.dtype == np.uint32 and key.shape == (2,):
            return jax.random.wrap_key_data(jnp.asarray(key))
        got = f"an array of dtype {key.dtype} and shape {key.shape}"
        typed = jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
        if typed or (key.dtype == np.uint32 and key.ndim > 1 and key.shape[-1] == 2):
            got += " (one key is needed here: pass keys[i], or vmap over the keys)"
    else:
        got = f"{type(key).__name__} {key!r}"
    raise TypeError(
        f"`{name}` must be a PRNG key such as jax.random.key(0) (one typed key, or a raw "
        f"uint32[2] key from jax.random.PRNGKey) or an int seed, got {got}"
    )


def as_numeric(name: str, x: Any, owner: str) -> Any:
    """`x` as a JAX array, or a `TypeError` naming `name` if it is not numeric.

    JAX arrays and tracers pass through; anything else goes through `numpy.asarray` first
    so that object, string and datetime arrays get this message instead of one from deep
    inside JAX.

    Example:
        >>> import numpy as np
        >>> as_numeric("x", [[0.0, 1.0]], "SIREN").shape
        (1, 2)
        >>> as_numeric("x", np.array([0.5, None]), "SIREN")
        Traceback (most recent call last):
        TypeError: `x` passed to SIREN must be a numeric array, got dtype object; ...
    """
    if isinstance(x, jax.Array):
        return x
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"`{name}` passed to {owner} must be a numeric array, got {type(x).__name__} "
            f"that numpy cannot turn into one ({err})"
        ) from err
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(
            f"`{name}` passed to {owner} must be a numeric array, got dtype {arr.dtype}; "
            "convert it first (e.g. `np.asarray(x, dtype=float)`; pandas columns of mixed "
            "types and lists holding None come out as dtype object)"
        )
    return jnp.asarray(arr)


def last_axis(name: str, x, expected: int, owner: str):
    """Check that `x` is numeric with `expected` entries on its last axis."""
    x = as_numeric(name, x, owner)
    if x.ndim == 0 or x.shape[-1] != expected:
        raise ValueError(
            f"`{name}` passed to {owner} must have last axis {expected} (shape (..., {expected})), "
            f"got shape {x.shape}"
        )
    return x


def output_components(value: Any, owner: str) -> tuple[int, ...] | None:
    """`components=` of a constraint: ``None`` (every output) or distinct output indices."""
    if value is None:
        return None
    items = (value,) if isinstance(value, Integral) else value
    try:
        out = tuple(int(c) for c in items)
    except TypeError as err:
        raise TypeError(
            f"`components` of {owner} must be an output index or a tuple of them, got {value!r}"
        ) from err
    if not out or any(c < 0 for c in out) or len(set(out)) != len(out):
        raise ValueError(
            f"`components` of {owner} must be distinct output indices >= 0, got {value!r}"
        )
    return out
