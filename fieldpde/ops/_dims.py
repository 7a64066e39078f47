"""Selection of the input coordinates an operator differentiates along."""

from collections.abc import Sequence

import numpy as np

from .._types import Dims


def resolve_dims(dims: Dims, d: int) -> tuple[int, ...]:
    """Turn a user `dims` selection into a tuple of distinct coordinate indices.

    `dims` may be ``None`` (all ``d`` coordinates), an ``int``, a sequence of ints or a
    ``slice``. Negative indices count from the end, so ``dims=-1`` picks the time
    coordinate of a space-time point ``(x, y, t)`` and ``dims=slice(0, -1)`` its space part.

    Args:
        dims: the selection.
        d: the number of coordinates of a point.

    Returns:
        The selected indices, each in ``[0, d)``, in the order given.

    Raises:
        TypeError: `dims` is of another type.
        ValueError: an index is out of range or repeated, or nothing is selected.

    Example:
        >>> resolve_dims(None, 3), resolve_dims(-1, 3), resolve_dims(slice(0, -1), 3)
        ((0, 1, 2), (2,), (0, 1))
        >>> resolve_dims([2, 0], 3)
        (2, 0)
    """
    if dims is None:
        return tuple(range(d))
    if isinstance(dims, slice):
        picked = tuple(range(d))[dims]
    elif isinstance(dims, int | np.integer):
        picked = (int(dims),)
    elif isinstance(dims, Sequence) and all(isinstance(i, int | np.integer) for i in dims):
        picked = tuple(int(i) for i in dims)
    else:
        raise TypeError(f"`dims` must be None, an int, a sequence of ints or a slice, got {dims!r}")
    if not picked:
        raise ValueError(f"`dims`={dims!r} selects no coordinate of a {d}-dimensional input")
    for i in picked:
        if not -d <= i < d:
            raise ValueError(f"`dims` entry {i} is out of range for a {d}-dimensional input")
    picked = tuple(i % d for i in picked)
    if len(set(picked)) != len(picked):
        raise ValueError(f"`dims`={dims!r} repeats a coordinate")
    return picked
