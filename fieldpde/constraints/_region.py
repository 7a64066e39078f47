"""Where a constraint samples its points: a domain and a part of it."""

from collections.abc import Callable
from typing import Any, Literal

import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from .._checks import positive_int
from ..domains import AbstractDomain, SpaceTime
from ._base import Batch

Part = Literal["interior", "boundary", "initial", "lateral"]


def check_region(domain: Any, part: Part, num_points: int, owner: str) -> int:
    if not isinstance(domain, AbstractDomain):
        raise TypeError(f"`domain` of {owner} must be a fieldpde domain, got {type(domain).__name__}")
    if part in ("initial", "lateral") and not isinstance(domain, SpaceTime):
        raise TypeError(
            f"{owner} on the {part} part needs a SpaceTime domain (space * TimeInterval), "
            f"got {type(domain).__name__}"
        )
    return positive_int("num_points", num_points)


def sample_region(domain: AbstractDomain, part: Part, n: int, key: PRNGKeyArray,
                  method: str) -> Batch:
    if part == "interior":
        return Batch(domain.sample_interior(n, key=key, method=method))
    if part == "boundary":
        points, normals = domain.sample_boundary(n, key=key, method=method)
        return Batch(points, normals)
    if part == "initial":
        return Batch(domain.sample_initial(n, key=key, method=method))
    points, normals = domain.sample_lateral(n, key=key, method=method)
    return Batch(points, normals)


def region_measure(domain: AbstractDomain, part: Part) -> float:
    if part == "interior":
        return domain.measure
    if part == "boundary":
        return domain.boundary_measure
    if part == "initial":
        return domain.initial_measure
    return domain.lateral_measure


def as_pointwise(value: Any, name: str) -> Callable[[Array], Array]:
    """A callable of one point, or a constant turned into one."""
    if callable(value):
        return value
    try:
        const = jnp.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"`{name}` must be a callable of a point or a number, got {value!r}") from err
    return lambda x: const.astype(x.dtype)


def field_values(field: Any, points: Array) -> Array:
    """The field at a batch of points as ``(n, m)``."""
    out = field(points)
    return out.reshape(points.shape[0], -1)


def pointwise_values(fn: Callable[[Array], Array], points: Array) -> Array:
    """A pointwise function over a batch as ``(n, r)``."""
    out = jax.vmap(lambda p: jnp.asarray(fn(p), dtype=p.dtype))(points)
    return out.reshape(points.shape[0], -1)
