"""Parameter values outside the range a surrogate was trained on: warn, raise or mask."""

import warnings
from typing import Any, Literal

import jax
import numpy as np

Outside = Literal["warn", "raise", "mask", "ignore"]
OUTSIDE = ("warn", "raise", "mask", "ignore")


def beyond_range(mu: Any, lo: Any, hi: Any, *, outside: Outside, owner: str) -> np.ndarray | None:
    """Rows of `mu` outside the box ``[lo, hi]`` (beyond a rounding margin), handled as asked.

    A surrogate is trained for parameters in a box; far outside it its answer is an
    extrapolation with no accuracy to speak of. Concrete values are checked (under `jax.jit`
    the check is skipped).

    Args:
        mu: one parameter vector ``(P,)`` or a batch ``(B, P)``.
        lo, hi: the trained box's corners.
        outside: ``"warn"`` (a `UserWarning`, the answer as computed), ``"raise"`` (a
            `ValueError`), ``"mask"`` (the rows are returned, for the caller to set NaN) or
            ``"ignore"``.
        owner: who asks, for the message.

    Returns:
        A boolean mask of the rows outside (``"mask"``, when any is), else ``None``.

    Example:
        >>> import numpy as np, warnings
        >>> beyond_range(np.array([[1.0], [3.0]]), [0.5], [2.0], outside="mask", owner="demo")
        array([False,  True])
        >>> beyond_range(np.array([1.0]), [0.5], [2.0], outside="raise", owner="demo") is None
        True
    """
    if outside not in OUTSIDE:
        raise ValueError(f"`outside` must be one of {OUTSIDE}, got {outside!r}")
    if outside == "ignore" or isinstance(mu, jax.core.Tracer):
        return None
    m = np.atleast_2d(np.asarray(mu, dtype=float))
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    if m.shape[-1] != lo.shape[-1]:
        return None  # a shape error, which the caller reports naming its argument
    margin = 1e-6 * (hi - lo)
    rows = ((m < lo - margin) | (m > hi + margin)).any(axis=-1)
    if not rows.any():
        return None
    worst = m[rows][0].tolist()
    box = ", ".join(f"[{a:g}, {b:g}]" for a, b in zip(lo, hi, strict=True))
    message = (
        f"{owner}: mu = {worst} lies outside the parameter range it was trained on ({box}); "
        "the answer there is an extrapolation (outside='raise' refuses it, 'mask' gives NaN)"
    )
    if outside == "raise":
        raise ValueError(message)
    if outside == "warn":
        warnings.warn(message, UserWarning, stacklevel=3)
        return None
    return rows if np.ndim(mu) > 1 else rows[:1]
