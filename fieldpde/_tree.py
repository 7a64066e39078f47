"""Copying immutable modules with changed static configuration."""

import copy
from typing import Any, TypeVar

T = TypeVar("T")


def with_static(module: T, **changes: Any) -> T:
    """A shallow copy of `module` with static (non-array) fields replaced.

    `equinox.tree_at` only reaches pytree leaves; configuration such as a constraint's
    ``num_points`` is static metadata, so it is changed on a copy instead.
    """
    new = copy.copy(module)
    for name, value in changes.items():
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no field {name!r}")
        object.__setattr__(new, name, value)
    return new
