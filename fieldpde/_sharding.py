"""Placing arrays on a one-axis device mesh with `jax.sharding` (shared by `fit` and `bayes`).

Arrays are built with `jax.make_array_from_callback` from a host copy, so the same code
places data on the devices of one process or, after `jax.distributed.initialize()`, on the
devices of several hosts (each process fills the shards it can address, and every process
holds the same host copy because sampling is driven by the same key everywhere).
"""

from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import numpy as np

P = jax.sharding.PartitionSpec


def device_mesh(axis: str, devices: Sequence[Any] | None = None, count: int | None = None):
    """A one-axis `Mesh` named `axis` over the first `count` of `devices`, or None for one.

    `devices` defaults to ``jax.devices()`` (every device of every process); `count`
    defaults to all of them.
    """
    devices = list(jax.devices() if devices is None else devices)
    if not devices:
        raise ValueError("`devices` must name at least one device, got an empty sequence")
    count = len(devices) if count is None else count
    if count <= 1:
        return None
    return jax.sharding.Mesh(np.array(devices[:count]), (axis,))


def place(array: Any, sharding: jax.sharding.Sharding) -> jax.Array:
    """`array` laid out with `sharding`, built shard by shard from a host copy."""
    dtype = getattr(array, "dtype", None)
    if dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        data = place(jax.random.key_data(array), sharding)
        return jax.random.wrap_key_data(data, impl=jax.random.key_impl(array))
    host = np.asarray(array)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def replicate(tree: Any, mesh) -> Any:
    """Every array leaf of `tree` copied whole to each device of `mesh` (None: unchanged)."""
    if mesh is None:
        return tree
    full = jax.sharding.NamedSharding(mesh, P())
    return jax.tree.map(lambda a: place(a, full) if eqx.is_array(a) else a, tree)


def split_leading(tree: Any, mesh, size: int | None = None) -> Any:
    """Array leaves of `tree` split along their leading axis over `mesh` (None: unchanged).

    Only leaves whose leading axis has length `size` (any length if None) divisible by the
    mesh size are split; the others are replicated.
    """
    if mesh is None:
        return tree
    axis = mesh.axis_names[0]
    count = mesh.devices.size
    split = jax.sharding.NamedSharding(mesh, P(axis))
    full = jax.sharding.NamedSharding(mesh, P())

    def put(a):
        if not eqx.is_array(a) and not isinstance(a, np.ndarray):
            return a
        n = a.shape[0] if a.ndim else None
        ok = n is not None and n % count == 0 and (size is None or n == size)
        return place(a, split if ok else full)

    return jax.tree.map(put, tree)
