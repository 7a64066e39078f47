r"""`Scaled`: a network seen through affine maps of its inputs and outputs.

A network trains best on inputs of order one and outputs of order one, whatever the units
of the problem: $u(x) = b + a \odot N(s \odot (x - c))$, with $c$ the centre and $1/s$
the half-widths of the domain's bounding box per axis (time included), so $N$ sees the
box $[-1, 1]^d$, and $a$, $b$ the scale and offset of the expected solution. The maps are
affine, so the one-pass forward-Laplacian jets go straight through them.
"""

from collections.abc import Sequence
from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..ops import Jet, supports_forward_laplacian


def _vector(name: str, value: Any, size: int | None) -> tuple[float, ...]:
    arr = np.atleast_1d(np.asarray(value, np.float64))
    if arr.ndim != 1 or (size is not None and arr.size not in (1, size)):
        raise ValueError(f"`{name}` must be a number or {size} numbers, got {value!r}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be finite, got {value!r}")
    if size is not None and arr.size == 1:
        arr = np.full(size, arr[0])
    return tuple(float(v) for v in arr)


@final
class Scaled(eqx.Module):
    r"""$u(x) = b + a \odot N(s \odot (x - c))$: inputs to a unit box, outputs rescaled.

    Attributes:
        network: $N$, ``(..., d) -> (..., m)``.
        center: $c$, one number per input axis.
        inv_half_width: $s$, one number per input axis.
        out_scale: $a$, one number per output (or one for all).
        out_shift: $b$, one number per output (or one for all).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde.nn import SIREN
        >>> net = SIREN.init(2, 8, 1, depth=2, key=jax.random.key(0))
        >>> u = Scaled.box(net, lo=(0.0, 0.0), hi=(10.0, 2.0), out_scale=5.0)
        >>> bool(jnp.allclose(u(jnp.array([10.0, 2.0])), 5.0 * net(jnp.ones(2))))
        True
    """

    network: Any
    center: tuple[float, ...] = eqx.field(static=True)
    inv_half_width: tuple[float, ...] = eqx.field(static=True)
    out_scale: tuple[float, ...] = eqx.field(static=True)
    out_shift: tuple[float, ...] = eqx.field(static=True)

    def __init__(
        self,
        network: Any,
        center: Sequence[float],
        inv_half_width: Sequence[float],
        out_scale: Any = 1.0,
        out_shift: Any = 0.0,
    ):
        """Wrap `network`.

        Args:
            network: the network $N$.
            center: $c$, per input axis.
            inv_half_width: $s$, per input axis (positive).
            out_scale: $a$ (nonzero).
            out_shift: $b$.
        """
        if not callable(network):
            raise TypeError(f"`network` must be a callable field, got {type(network).__name__}")
        self.network = network
        self.center = _vector("center", center, None)
        self.inv_half_width = _vector("inv_half_width", inv_half_width, len(self.center))
        if min(self.inv_half_width) <= 0:
            raise ValueError(f"`inv_half_width` must be > 0, got {inv_half_width!r}")
        self.out_scale = _vector("out_scale", out_scale, None)
        self.out_shift = _vector("out_shift", out_shift, None)
        if 0.0 in self.out_scale:
            raise ValueError(f"`out_scale` must be nonzero, got {out_scale!r}")

    @classmethod
    def box(
        cls,
        network: Any,
        lo: Any,
        hi: Any,
        out_scale: Any = 1.0,
        out_shift: Any = 0.0,
    ) -> "Scaled":
        """Map the box ``[lo, hi]`` onto $[-1, 1]^d$.

        Args:
            network: the network $N$.
            lo: the lower corner (a sequence or array of floats).
            hi: the upper corner (``hi > lo`` on every axis).
            out_scale: $a$.
            out_shift: $b$.

        Returns:
            The `Scaled` field.
        """
        lo_, hi_ = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
        if lo_.shape != hi_.shape or np.any(hi_ <= lo_):
            raise ValueError(f"`hi` must exceed `lo` on every axis, got {lo!r} and {hi!r}")
        center, inv_half = (0.5 * (lo_ + hi_)).tolist(), (2.0 / (hi_ - lo_)).tolist()
        return cls(network, center, inv_half, out_scale, out_shift)

    def _consts(self, dtype):
        c = jnp.asarray(self.center, dtype)
        s = jnp.asarray(self.inv_half_width, dtype)
        return c, s, jnp.asarray(self.out_scale, dtype), jnp.asarray(self.out_shift, dtype)

    def __call__(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch m"]:
        x = jnp.asarray(x)
        c, s, a, b = self._consts(x.dtype)
        return b + a * self.network(s * (x - c))

    def forward_laplacian(self, jet: Jet) -> Jet:
        """Push a `Jet` through the maps and the network (one pass)."""
        c, s, a, b = self._consts(jet.value.dtype)
        inner = jet.linear(jnp.diag(s), -s * c)
        if supports_forward_laplacian(self.network):
            out = self.network.forward_laplacian(inner)
        else:
            out = inner.pointwise(self.network)
        m = out.value.shape[-1]
        a, b = jnp.broadcast_to(a, (m,)), jnp.broadcast_to(b, (m,))
        return out.linear(jnp.diag(a), b)
