"""Shape checks shared by conditioners and conditioned fields.

Conditioners take ``h`` of shape ``(C,)`` or ``(N, C)`` and a context ``z`` of shape
``(K,)`` (shared by every row) or ``(N, K)`` (one context per row). Conditioned fields take
points ``x`` of shape ``(..., d)`` and either a shared ``z`` of shape ``(K,)`` or one
context per point, ``(..., K)`` with the same leading shape; they flatten the leading axes,
run the conditioners on ``(N, .)`` and restore the shape.
"""

import jax.numpy as jnp


def check_hz(h, z, num_features: int, cond_dim: int, owner: str):
    """Validate a conditioner's ``(h, z)`` pair; return them as arrays."""
    h = jnp.asarray(h)
    z = jnp.asarray(z)
    if h.ndim not in (1, 2) or h.shape[-1] != num_features:
        raise ValueError(
            f"`h` passed to {owner} must have shape ({num_features},) or (N, {num_features}), "
            f"got shape {h.shape}"
        )
    check_z_last(z, cond_dim, owner)
    if z.ndim not in (1, 2):
        raise ValueError(
            f"`z` passed to {owner} must have rank 1, shape ({cond_dim},) shared by every row, "
            f"or rank 2, shape (N, {cond_dim}) one per row; got rank {z.ndim}, shape {z.shape}"
        )
    if z.ndim == 2 and (h.ndim != 2 or h.shape[0] != z.shape[0]):
        raise ValueError(
            f"a per-row `z` of shape {z.shape} passed to {owner} needs `h` of shape "
            f"({z.shape[0]}, {num_features}), got `h` of shape {h.shape}; pass a shared `z` of "
            f"shape ({cond_dim},) instead"
        )
    return h, z


def check_z_last(z, cond_dim: int, owner: str):
    """Check that the context's last axis equals `cond_dim`."""
    if z.ndim == 0 or z.shape[-1] != cond_dim:
        raise ValueError(
            f"`z` passed to {owner} must have last axis cond_dim={cond_dim}, got shape {z.shape}; "
            "the context size must match the `cond_dim` the module was built with"
        )


def flatten_xz(x, z, in_features: int, cond_dim: int, owner: str, z_name: str = "z"):
    """Flatten points ``(..., d)`` and a shared or per-point context for a conditioned field.

    Returns ``(x2, z2, batch_shape)`` with ``x2`` of shape ``(N, d)`` and ``z2`` of shape
    ``(K,)`` or ``(N, K)``; reshape outputs with ``batch_shape``.
    """
    x = jnp.asarray(x)
    z = jnp.asarray(z)
    if x.ndim == 0 or x.shape[-1] != in_features:
        raise ValueError(
            f"`x` passed to {owner} must have last axis {in_features} (shape (..., "
            f"{in_features})), got shape {x.shape}"
        )
    if z.ndim == 0 or z.shape[-1] != cond_dim:
        raise ValueError(
            f"`{z_name}` passed to {owner} must have last axis {cond_dim}, got shape {z.shape}; "
            "it must match the `cond_dim` the module was built with"
        )
    batch = x.shape[:-1]
    if z.ndim > 1 and z.shape[:-1] != batch:
        raise ValueError(
            f"`{z_name}` passed to {owner} must have shape ({cond_dim},) (shared) or "
            f"{batch + (cond_dim,)} (one per point of `x` of shape {x.shape}), got rank "
            f"{z.ndim}, shape {z.shape}"
        )
    x2 = x.reshape(-1, in_features)
    z2 = z if z.ndim == 1 else z.reshape(-1, cond_dim)
    return x2, z2, batch
