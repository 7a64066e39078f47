r"""Uniform tensor grids on boxes, and data given on them.

A box $[a_1, b_1] \times \dots \times [a_d, b_d]$ with ``shape`` $(N_1, \dots, N_d)$ carries
the nodes $x^{(i)}_j = a_i + j h_i$, $j = 0, \dots, N_i - 1$, $h_i = (b_i - a_i)/(N_i - 1)$:
both ends of every axis are nodes, and the spacing may differ per axis.

The box may be given as ``(lo, hi)`` pairs or as a fieldpde domain (its bounding box; a
`SpaceTime` cylinder gives its space part, and a domain that is not a box also gives the
mask of the nodes inside it).

Data on the grid (a source term, Dirichlet values, initial data) may be a constant, an
array of values at the nodes, or a callable of one of two kinds:

- a pointwise function of one point ``f(x)`` with ``x`` of shape ``(d,)``, written with
  `jax.numpy`, as the constraints take them (``lambda x: jnp.sin(x[0]) * x[1]``); it is
  evaluated at every node with `jax.vmap` in float64;
- a vectorised function of one coordinate array per axis, ``f(x)``, ``f(x, y)`` or
  ``f(x, y, z)``, called once with the arrays of ``np.meshgrid(*coords, indexing="ij")``
  (numpy or jax.numpy). In 1-D, where both take one argument, a function that cannot be
  traced pointwise (numpy) is called this way.

A domain mask callable instead takes points of shape ``(..., d)`` like a domain's
``contains`` method.
"""

import inspect
import itertools
import math
from collections.abc import Callable, Sequence
from numbers import Integral, Real
from typing import Any, TypeAlias

import numpy as np

from .._checks import positive_int

GridData: TypeAlias = float | np.ndarray | Callable[..., Any]
Mask: TypeAlias = np.ndarray | Callable[[np.ndarray], Any]


def check_shape(shape: int | Sequence[int], ndim: int | None = None) -> tuple[int, ...]:
    """Return ``shape`` as a tuple of ints >= 3, one per axis (an int means every axis)."""
    if isinstance(shape, Integral) and not isinstance(shape, bool):
        if ndim is None:
            raise ValueError(f"`shape` must be a sequence of ints, one per axis, got {shape!r}")
        shape = (shape,) * ndim
    if isinstance(shape, str) or not isinstance(shape, Sequence) or len(shape) == 0:
        raise ValueError(
            f"`shape` must be an int or a non-empty sequence of ints (grid points per axis, "
            f"including both ends), got {shape!r}"
        )
    hint = "a grid needs both end points and at least one interior point per axis"
    return tuple(positive_int(f"shape[{i}]", n, minimum=3, hint=hint) for i, n in enumerate(shape))


def check_bounds(bounds: Sequence[Sequence[float]]) -> tuple[tuple[float, float], ...]:
    """Return ``bounds`` as a tuple of finite ``(lo, hi)`` pairs with ``lo < hi``."""
    example = "e.g. bounds=((0.0, 1.0), (-1.0, 1.0)) for [0, 1] x [-1, 1]"
    if isinstance(bounds, str) or not isinstance(bounds, Sequence) or len(bounds) == 0:
        raise ValueError(
            f"`bounds` must be a sequence of (lo, hi) pairs, one per axis ({example}), "
            f"got {bounds!r}"
        )
    pairs = []
    for i, pair in enumerate(bounds):
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(
                f"`bounds[{i}]` must be a (lo, hi) pair ({example}), got {pair!r}; "
                "bounds are given per axis, not as a flat (x0, x1, y0, y1) tuple"
            )
        lo, hi = pair
        for name, value in (("lo", lo), ("hi", hi)):
            if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
                raise ValueError(f"`bounds[{i}]` {name} must be a finite number, got {value!r}")
        if not lo < hi:
            raise ValueError(f"`bounds[{i}]` must satisfy lo < hi, got {pair!r}")
        pairs.append((float(lo), float(hi)))
    return tuple(pairs)


def domain_bounds(bounds: Any) -> tuple[Any, Any, Any]:
    """``(pairs, mask, domain)`` from `bounds` given as pairs or as a fieldpde domain.

    For a domain the pairs are its bounding box (a `SpaceTime`'s space part), the mask is
    its ``contains`` unless it is a box (``None`` then), and `domain` is the domain itself
    (``None`` for pairs).
    """
    from ..domains import AbstractDomain, Box, SpaceTime

    if not isinstance(bounds, AbstractDomain):
        return bounds, None, None
    space = bounds.space if isinstance(bounds, SpaceTime) else bounds
    lo, hi = (np.asarray(a, dtype=np.float64) for a in space.bounding_box())
    pairs = tuple((float(a), float(b)) for a, b in zip(lo, hi, strict=True))
    mask = None if isinstance(space, Box) else space.contains
    return pairs, mask, bounds


def make_grid(
    bounds: Sequence[Sequence[float]], shape: int | Sequence[int]
) -> tuple[np.ndarray, ...]:
    """Check ``bounds`` and ``shape`` against each other and return the 1-D node coordinates."""
    box = check_bounds(bounds)
    sizes = check_shape(shape, ndim=len(box))
    if len(sizes) != len(box):
        raise ValueError(
            f"`bounds` has {len(box)} (lo, hi) pairs but `shape` has {len(sizes)} entries; "
            "give one pair and one size per axis"
        )
    return tuple(np.linspace(lo, hi, n) for (lo, hi), n in zip(box, sizes, strict=True))


def _positional(fn: Callable[..., Any]) -> int | None:
    """How many positional arguments `fn` takes (``None``: any number, or unknown)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def call_on_grid(name: str, fn: Callable[..., Any], coords: tuple[np.ndarray, ...]) -> np.ndarray:
    """`fn` at every node: pointwise (one point) or vectorised (one array per axis)."""
    import jax

    d = len(coords)
    mesh = np.meshgrid(*coords, indexing="ij")
    if _positional(fn) == 1:
        points = np.stack(mesh, axis=-1).reshape(-1, d)
        try:
            with jax.enable_x64(True):
                values = np.asarray(jax.vmap(lambda p: jax.numpy.asarray(fn(p)))(points))
        except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
            if d > 1:
                raise TypeError(
                    f"`{name}` takes one argument, so it must be a pointwise function of one "
                    f"point (shape ({d},)) written with jax.numpy; or give it {d} arguments, "
                    "one coordinate array per axis"
                ) from None
        else:
            if values.shape[0] == points.shape[0] and values.size == points.shape[0]:
                return values.reshape(mesh[0].shape)
            raise ValueError(
                f"`{name}` must return one number per point, got shape {values.shape[1:]}"
            )
    return np.asarray(fn(*mesh))


def eval_data(name: str, data: GridData, coords: tuple[np.ndarray, ...]) -> np.ndarray:
    """Values of ``data`` at every node, as a float64 array of the grid's shape."""
    shape = tuple(c.size for c in coords)
    if callable(data):
        values = call_on_grid(name, data, coords)
        what = f"`{name}` returned"
    else:
        values = np.asarray(data)
        what = f"`{name}` has"
        if values.ndim != 0 and values.shape != shape:
            raise ValueError(
                f"`{name}` must be a number, an array of shape {shape} (one value per grid "
                f"node) or a callable, got an array of shape {values.shape}"
            )
    if not (np.issubdtype(values.dtype, np.floating) or np.issubdtype(values.dtype, np.integer)):
        raise ValueError(f"{what} values of dtype {values.dtype}; real numbers are expected")
    try:
        values = np.broadcast_to(values, shape)
    except ValueError:
        raise ValueError(
            f"{what} shape {values.shape}, which does not broadcast to the grid shape {shape}; "
            f"a callable must accept {len(shape)} coordinate arrays (f(x, y) in 2-D) and "
            "return one value per point"
        ) from None
    return np.array(values, dtype=np.float64)


def eval_mask(inside: Mask, coords: tuple[np.ndarray, ...]) -> np.ndarray:
    """The boolean mask of nodes in the domain, from an array or an ``inside(points)`` callable."""
    shape = tuple(c.size for c in coords)
    if callable(inside):
        n = math.prod(shape)
        points = np.stack(np.meshgrid(*coords, indexing="ij"), axis=-1).reshape(n, len(shape))
        mask = np.asarray(inside(points))
        if mask.shape != (n,):
            raise ValueError(
                f"`inside` must map points of shape (n, {len(shape)}) to n booleans, but it "
                f"returned shape {mask.shape} for n = {n}"
            )
        mask = mask.reshape(shape)
    else:
        mask = np.asarray(inside)
        if mask.shape != shape:
            raise ValueError(
                f"`inside` must be a boolean array of the grid shape {shape} or a callable, "
                f"got an array of shape {mask.shape}"
            )
    if mask.dtype != np.bool_:
        raise ValueError(f"`inside` must give booleans, got dtype {mask.dtype}")
    return mask


def interior_nodes(mask: np.ndarray) -> np.ndarray:
    """Nodes of ``mask`` whose surrounding $3^d$ block of nodes lies in ``mask`` too.

    Diagonal neighbours count: the stencil does not reach them, but a re-entrant corner of a
    grid-aligned domain is recognised as a boundary node only by its diagonal neighbour
    outside. Nodes on the outer edge of the grid are never interior.
    """
    padded = np.pad(mask, 1, constant_values=False)
    interior = mask.copy()
    for offset in itertools.product((0, 1, 2), repeat=mask.ndim):
        interior &= padded[tuple(slice(o, o + n) for o, n in zip(offset, mask.shape, strict=True))]
    return interior
