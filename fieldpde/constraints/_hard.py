r"""Hard Dirichlet constraints: $u(x) = g(x) + D(x)\,N(x)$ with $D = 0$ on the boundary.

The network $N$ can then only change the field inside the domain, so the boundary data hold
exactly and no boundary loss term is needed. $g$ must extend the boundary data smoothly
into the domain (for homogeneous data, $g = 0$).
"""

from collections.abc import Callable
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import output_components
from ..domains import AbstractDomain, Ball, Box
from ..ops import Jet
from ._corners import SingularCorners
from ._lifting import PartDistance, distance_scale


def _constant(value: float) -> Callable[[Array], Array]:
    return lambda x: jnp.full((), value, x.dtype)


@final
class BoxDistance(eqx.Module):
    r"""$D(x) = \prod_i (x_i - a_i)(b_i - x_i) / ((b_i - a_i)/2)^2$.

    Zero on the faces of the box, 1 at its centre.

    Attributes:
        lo, hi: the lower and upper corners $a$ and $b$ of the box.

    Example:
        >>> import jax.numpy as jnp
        >>> D = BoxDistance((0.0, 0.0), (2.0, 1.0))
        >>> float(D(jnp.array([1.0, 0.5]))), float(D(jnp.array([2.0, 0.3])))
        (1.0, 0.0)
    """

    lo: tuple[float, ...] = eqx.field(static=True)
    hi: tuple[float, ...] = eqx.field(static=True)

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        lo = jnp.asarray(self.lo, x.dtype)
        hi = jnp.asarray(self.hi, x.dtype)
        return jnp.prod((x - lo) * (hi - x) / ((hi - lo) / 2) ** 2)


@final
class BallDistance(eqx.Module):
    r"""$D(x) = (r^2 - |x - c|^2) / r^2$: zero on the sphere, 1 at the centre.

    Attributes:
        center: the centre $c$.
        radius: the radius $r$.

    Example:
        >>> import jax.numpy as jnp
        >>> D = BallDistance((0.0, 0.0), 2.0)
        >>> float(D(jnp.zeros(2))), float(D(jnp.array([0.0, 2.0]))), float(D(jnp.ones(2)))
        (1.0, 0.0, 0.5)
    """

    center: tuple[float, ...] = eqx.field(static=True)
    radius: float = eqx.field(static=True)

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        c = jnp.asarray(self.center, x.dtype)
        return 1.0 - jnp.sum((x - c) ** 2) / self.radius**2


@final
class HardDirichlet(eqx.Module):
    r"""A field $u = g + D\,N$ that meets Dirichlet data $g$ exactly where $D = 0$.

    Build it with `HardDirichlet.on(domain, network, boundary, part)` on any domain (the
    distance is chosen for you), or pass any smooth `distance` vanishing on the boundary.
    `fieldpde.problem.enforce_hard` builds one from a problem's Dirichlet and initial
    constraints, blending data that differ between parts with a `Lifting`.
    It acts on the last axis like the network and keeps the one-pass
    `fieldpde.ops.value_grad_laplacian` fast path (product rule on jets).

    With `components`, only those outputs are held: $u_j = g_j + D N_j$ for $j$ in
    `components` and $u_j = N_j$ for the others (the velocity of a ``(u, v, p)`` field
    exact on no-slip walls, its pressure free).

    Attributes:
        network: the free field $N$, ``(..., d) -> (..., m)``.
        boundary: $g$, pointwise ``(d,) -> ()`` or ``(m,)`` (a number means a constant);
            with `components`, one value per listed component.
        distance: $D$, pointwise ``(d,) -> ()``.
        components: the output indices held (``None``: all of them).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from fieldpde import SIREN
        >>> from fieldpde.domains import Box
        >>> net = SIREN.init(2, 16, 1, depth=3, key=jax.random.key(0))
        >>> u = HardDirichlet.on(Box([0.0, 0.0], [1.0, 1.0]), net, boundary=2.0)
        >>> u(jnp.array([[0.0, 0.3], [0.7, 1.0]])).tolist()
        [[2.0], [2.0]]
        >>> uvp = SIREN.init(2, 16, 3, depth=3, key=jax.random.key(0))
        >>> walls = HardDirichlet.on(Box([0.0, 0.0], [1.0, 1.0]), uvp, components=(0, 1))
        >>> walls(jnp.array([0.0, 0.3]))[:2].tolist()  # u = v = 0, the pressure free
        [0.0, 0.0]
    """

    network: Any
    boundary: Callable[[Array], Array]
    distance: Callable[[Array], Array]
    components: tuple[int, ...] | None = eqx.field(static=True)

    def __init__(
        self,
        network: Any,
        boundary: Any,
        distance: Callable[[Array], Array],
        components: Any = None,
    ):
        if not callable(network):
            raise TypeError(f"`network` must be a callable field, got {type(network).__name__}")
        if not callable(distance):
            raise TypeError(f"`distance` must be callable, got {type(distance).__name__}")
        self.network = network
        self.boundary = boundary if callable(boundary) else _constant(float(boundary))
        self.distance = distance
        self.components = output_components(components, "HardDirichlet")

    @classmethod
    def on(
        cls,
        domain: AbstractDomain,
        network: Any,
        boundary: Any = 0.0,
        part: Any = "boundary",
        *,
        components: Any = None,
        singular_corners: bool = True,
    ) -> "HardDirichlet":
        """Hard Dirichlet data $g$ on some boundary parts of any domain.

        The whole boundary of a `Box` or a `Ball` uses the smooth `BoxDistance` and
        `BallDistance`; any other domain or part list uses the domain's approximate
        distance function (`PartDistance`, rescaled to at most 1 inside). Data on the
        whole boundary of a 2-D domain with reentrant corners (the L-shape) get a distance
        that vanishes there like the solution does (`SingularCorners`), so that the
        network need not be singular.

        Args:
            domain: the domain.
            network: the free field $N$.
            boundary: $g$ (a callable of one point or a number), extended smoothly into
                the domain.
            part: the boundary parts the data hold on (names, groups or ``"boundary"``);
                the others are left free (a Neumann or Robin term can hold there).
            components: the output indices held (``None``: all).
            singular_corners: weight the distance at reentrant corners (default True).

        Returns:
            The `HardDirichlet` field.
        """
        if not isinstance(domain, AbstractDomain):
            raise TypeError(f"`domain` must be a fieldpde domain, got {type(domain).__name__}")
        names = domain.resolve_parts(part, label="`part`: ")
        if names == domain.parts and isinstance(domain, Box):
            distance: Any = BoxDistance(domain.lo, domain.hi)
        elif names == domain.parts and isinstance(domain, Ball):
            distance = BallDistance(domain.center, domain.radius)
        else:
            distance = PartDistance(domain, names, distance_scale(domain, names))
            if singular_corners and names == domain.parts:
                distance = SingularCorners.of(domain, distance)
        return cls(network, boundary, distance, components)

    def _pointwise(self, fn, x):
        flat = x.reshape((-1, x.shape[-1]))
        out = jax.vmap(lambda p: jnp.atleast_1d(jnp.asarray(fn(p), dtype=p.dtype)))(flat)
        return out.reshape(x.shape[:-1] + out.shape[-1:])

    def _lift_and_factor(self, m: int) -> tuple[Callable, Callable]:
        """$g$ and $D$ as pointwise maps to all `m` outputs: $g_j = 0$ and $D_j = 1$ off
        `components`."""
        if self.components is None:
            return self.boundary, self.distance
        comps = np.asarray(self.components)
        if int(comps.max()) >= m:
            raise ValueError(
                f"`components` {self.components} of HardDirichlet name outputs the network "
                f"lacks: it has {m} output(s)"
            )
        k = len(self.components)

        def lift(p):
            g = jnp.broadcast_to(jnp.asarray(self.boundary(p), p.dtype).reshape(-1), (k,))
            return jnp.zeros(m, p.dtype).at[comps].set(g)

        def factor(p):
            return jnp.ones(m, p.dtype).at[comps].set(self.distance(p))

        return lift, factor

    def __call__(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch m"]:
        x = jnp.asarray(x)
        inner = self.network(x)
        lift, factor = self._lift_and_factor(inner.shape[-1] if inner.ndim else 1)
        return self._pointwise(lift, x) + self._pointwise(factor, x) * inner

    def forward_laplacian(self, jet: Jet) -> Jet:
        """Value, derivatives and Laplacian of $g + D N$ from the jets of $g$, $D$ and $N$."""
        net = self.network
        inner = (
            net.forward_laplacian(jet)
            if hasattr(net, "forward_laplacian")
            else (jet.pointwise(net))
        )
        lift, factor = self._lift_and_factor(inner.value.shape[-1])
        return jet.pointwise(lift) + jet.pointwise(factor) * inner
