"""Unit-cube point sets (uniform, Sobol, Halton), rejection loops and regular grids.

``"uniform"`` runs in `jax.numpy` inside a `jax.lax.while_loop`, so it works under `jax.jit`
and `jax.vmap`. The quasi-random sequences come from `scipy.stats.qmc` on the host: the
scrambling is seeded with bits drawn from the JAX key, so a key fixes the points.
"""

import math
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray
from scipy.stats import qmc

METHODS = ("uniform", "sobol", "halton", "grid")

# A rejection sampler gives up after this many rounds (each round draws at least `n`
# candidates), i.e. when fewer than about 1 candidate in 1000 is accepted.
_MAX_UNIFORM_ROUNDS = 1000
_MAX_HOST_ROUNDS = 8


def check_method(method: Any) -> str:
    """Return `method`, or raise naming it if it is not a known sampling method."""
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(
            f"`method` must be one of {', '.join(repr(m) for m in METHODS)}, got {method!r}"
        )
    return method


def host_seed(key: PRNGKeyArray, method: str) -> list[int]:
    """Two 32-bit words drawn from `key`, to seed a host-side generator."""
    try:
        return [int(b) for b in np.asarray(jax.random.bits(key, (2,), jnp.uint32))]
    except jax.errors.JAXTypeError as err:
        raise ValueError(
            f"`method`={method!r} draws its points on the host and needs a concrete `key`; "
            "call it outside jax.jit / jax.vmap, or use method='uniform'"
        ) from err


def _engine(cls: Any, k: int, seed: list[int]) -> Any:
    rng = np.random.default_rng(seed)
    try:
        return cls(k, scramble=True, rng=rng)
    except TypeError:  # scipy < 1.15 names the generator `seed`
        return cls(k, scramble=True, seed=rng)


def qmc_unit(method: str, m: int, k: int, key: PRNGKeyArray) -> np.ndarray:
    """The first `m` points of a scrambled Sobol or Halton sequence in $[0, 1)^k$."""
    seed = host_seed(key, method)
    if method == "sobol":
        # Drawing a power of two keeps scipy's balance warning quiet; the first `m` points
        # of the longer draw are the first `m` points of the same sequence.
        return _engine(qmc.Sobol, k, seed).random(1 << max(0, (m - 1).bit_length()))[:m]
    if method == "halton":
        return _engine(qmc.Halton, k, seed).random(m)
    raise ValueError(f"`method` must be 'sobol' or 'halton' here, got {method!r}")


def rejection_batch(n: int) -> int:
    """Candidates drawn per round when some may be rejected."""
    return max(2 * n, 64)


def uniform_draw(proposal: Any, n: int, key: PRNGKeyArray, dtype: Any) -> Any:
    """`n` accepted candidates of a `Proposal` fed with `jax.random.uniform` points.

    Traceable: rejection runs in a `jax.lax.while_loop` that draws `rejection_batch(n)`
    candidates per round from successive splits of `key`.
    """
    k = proposal.unit_dim
    if not proposal.rejects:
        return proposal.propose(jax.random.uniform(key, (n, k), dtype))[0]
    batch = rejection_batch(n)
    shapes = jax.eval_shape(
        lambda u: proposal.propose(u)[0], jax.ShapeDtypeStruct((batch, k), dtype)
    )
    empty = jax.tree.map(lambda s: jnp.zeros((n,) + s.shape[1:], s.dtype), shapes)

    def unfinished(state):
        _, count, rounds, _ = state
        return (count < n) & (rounds < _MAX_UNIFORM_ROUNDS)

    def one_round(state):
        buf, count, rounds, key = state
        key, sub = jax.random.split(key)
        values, ok = proposal.propose(jax.random.uniform(sub, (batch, k), dtype))
        # Accepted candidates go to the next free slots; slot `n` and beyond are dropped.
        slot = jnp.where(ok, count + jnp.cumsum(ok, dtype=jnp.int32) - 1, n)
        buf = jax.tree.map(lambda b, v: b.at[slot].set(v, mode="drop"), buf, values)
        return buf, count + jnp.sum(ok, dtype=jnp.int32), rounds + 1, key

    state = (empty, jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32), key)
    buf, count, _, _ = jax.lax.while_loop(unfinished, one_round, state)
    return eqx.error_if(
        buf, count < n, "rejection sampling accepted too few points; is the domain empty?"
    )


def uniform_draw_host(
    propose: Callable[[Array], tuple[Any, Array]],
    unit_dim: int,
    n: int,
    key: PRNGKeyArray,
    dtype: Any,
) -> Any:
    """The rounds of `uniform_draw` run from Python, for a concrete key: the same points.

    It reuses the compiled `propose` of the quasi-random samplers instead of compiling a loop.
    """
    batch = rejection_batch(n)
    parts, count = [], 0
    for _ in range(_MAX_UNIFORM_ROUNDS):
        key, sub = jax.random.split(key)
        values, ok = propose(jax.random.uniform(sub, (batch, unit_dim), dtype))
        kept = np.flatnonzero(np.asarray(ok))[: n - count]
        # Indexing on the host: cheaper than compiling a gather for every shape.
        parts.append(jax.tree.map(lambda v, kept=kept: np.asarray(v)[kept], values))
        count += kept.size
        if count >= n:
            return jax.tree.map(lambda *v: jnp.asarray(np.concatenate(v)), *parts)
    raise ValueError(
        f"rejection sampling accepted too few candidates to return n={n} points; "
        "is the domain empty?"
    )


def host_draw(
    propose: Callable[[Array], tuple[Any, Array]],
    unit_dim: int,
    n: int,
    key: PRNGKeyArray,
    method: str,
    dtype: Any,
    *,
    first: int,
) -> Any:
    """`n` accepted candidates of `propose` fed with a Sobol or Halton sequence.

    The first `first` points of the sequence are tried, then longer prefixes if too few
    were accepted.
    """
    m = first
    for _ in range(_MAX_HOST_ROUNDS):
        u = jnp.asarray(qmc_unit(method, m, unit_dim, key), dtype)
        values, ok = propose(u)
        kept = np.flatnonzero(np.asarray(ok))
        if kept.size >= n:
            first = kept[:n]
            return jax.tree.map(lambda v, first=first: jnp.asarray(np.asarray(v)[first]), values)
        # Redraw a longer prefix of the same sequence, sized from the observed rate.
        rate = max(kept.size, 1) / m
        m = min(max(2 * m, math.ceil(1.25 * n / rate) + 16), 64 * m)
    raise ValueError(
        f"rejection sampling with method={method!r} accepted too few candidates to return "
        f"n={n} points; is the domain empty?"
    )


def grid_counts(lengths: Sequence[float], n: int) -> list[int]:
    """Points per axis of a grid of about `n` points with about equal spacing on every axis.

    The spacing is $h = (\\prod_i L_i / n)^{1/d}$ and axis $i$ gets
    $\\max(1, \\operatorname{round}(L_i / h))$ points.
    """
    lengths = [float(a) for a in lengths]
    h = (math.prod(lengths) / n) ** (1.0 / len(lengths))
    return [max(1, round(a / h)) for a in lengths]


def cell_grid(lo: Sequence[float], hi: Sequence[float], counts: Sequence[int]) -> np.ndarray:
    """Centres of a ``counts[0] × counts[1] × ...`` grid of cells over a box, shape ``(N, d)``."""
    axes = [
        a + (np.arange(k) + 0.5) * ((b - a) / k) for a, b, k in zip(lo, hi, counts, strict=True)
    ]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([g.ravel() for g in mesh], axis=-1)


def cell_centres(k: int) -> np.ndarray:
    """``k`` evenly spaced points of $(0, 1)$, the centres of ``k`` equal cells."""
    return (np.arange(k) + 0.5) / k


def pick(u0: Array, weights: Sequence[float]) -> Array:
    """Index of the piece each ``u0`` in $[0, 1)$ selects, with probability ∝ `weights`."""
    cum = np.cumsum(np.asarray(weights, np.float64))
    edges = jnp.asarray(cum[:-1] / cum[-1], u0.dtype)
    # A comparison with every edge: the lists are short, and this compiles faster than
    # jnp.searchsorted.
    return jnp.sum(u0[:, None] >= edges, axis=1)


def select(index: Array, options: Sequence[Any]) -> Any:
    """Per point, the entry of `options` (pytrees of ``(m, ...)`` arrays) chosen by `index`."""

    def choose(*leaves):
        out = leaves[0]
        for i, leaf in enumerate(leaves[1:], start=1):
            mask = (index == i).reshape(index.shape + (1,) * (leaf.ndim - 1))
            out = jnp.where(mask, leaf, out)
        return out

    return jax.tree.map(choose, *options)
