r"""Named parts of a domain's boundary: sampling, measures and distance functions.

Every domain names the parts of its boundary (`AbstractDomain.parts`): a box its faces
(``"xmin"``, ``"xmax"``, ``"ymin"``, ...), a ball its ``"sphere"``, a polygon its edges
(``"edge0"``, ... in the order the vertices were given), a difference its outer parts and
each hole (``"hole0"``, ... with the groups ``"outer"`` and ``"holes"``), a space-time
cylinder its ``"initial"`` and ``"final"`` slices and its space domain's parts (the group
``"lateral"``). Each part has an approximate distance function that vanishes on it and is
positive in the domain away from it, so a boundary point belongs to the part whose function
is smallest there. A `BoundaryPart` draws points from some parts (rejecting the rest of the
boundary) or from the boundary points a predicate accepts.
"""

from collections.abc import Callable
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from .._checks import positive_int
from ._base import (
    AbstractDomain,
    BoundarySample,
    Proposal,
    SampleMethod,
    candidates,
    default_float,
    sample_proposal,
    to_jax,
)
from ._sampling import check_method, qmc_unit

# Part measures no formula gives are estimated from this many scrambled Sobol boundary
# points with a fixed seed (relative error about 1e-3), once, when the part is built.
PART_MONTE_CARLO_POINTS = 2**16


@final
class BoundaryPart(eqx.Module):
    """Some parts of a domain's boundary, or the boundary points a predicate accepts.

    Build it with `AbstractDomain.part`. Points are drawn from the domain's boundary and
    kept on the chosen parts, so they are uniform on them, with the domain's outward
    normals.

    Attributes:
        domain: the domain.
        names: the part names (``None`` for a predicate).
        predicate: ``(d,) -> bool`` of a boundary point (``None`` for named parts).
        measure: the $(d-1)$-measure of the chosen parts (exact for the faces of a box,
            the edges of a polygon, a sphere and the slices of a cylinder; otherwise a
            Monte-Carlo estimate from `PART_MONTE_CARLO_POINTS` Sobol points).

    Example:
        >>> import jax.random as jr
        >>> from fieldpde.domains import Box, Disk
        >>> plate = Box([0.0, 0.0], [2.0, 1.0]) - Disk((1.0, 0.5), 0.25)
        >>> plate.parts
        ('xmin', 'xmax', 'ymin', 'ymax', 'hole0')
        >>> left = plate.part("xmin")
        >>> left.measure, bool((left.sample(8, key=jr.key(0)).points[:, 0] == 0.0).all())
        (1.0, True)
        >>> round(plate.part("holes").measure, 4)  # 2 pi r
        1.5708
    """

    domain: AbstractDomain
    names: tuple[str, ...] | None = eqx.field(static=True)
    predicate: Callable[[Array], Any] | None = eqx.field(static=True)
    measure: float = eqx.field(static=True)

    def __init__(self, domain: AbstractDomain, part: Any, *, label: str = "`part`: "):
        """Choose the parts.

        Args:
            domain: the domain.
            part: ``"boundary"``, a part or group name, a sequence of names, or a
                predicate of one boundary point.
            label: what an error message about `part` starts with.

        Raises:
            ValueError: a name the domain does not have.
        """
        if not isinstance(domain, AbstractDomain):
            raise TypeError(f"`domain` must be a fieldpde domain, got {type(domain).__name__}")
        self.domain = domain
        if callable(part) and not isinstance(part, str):
            self.names, self.predicate = None, part
        else:
            self.names, self.predicate = domain.resolve_parts(part, label=label), None
        exact = None
        if self.names is not None:
            measures = [domain._part_measure(n) for n in self.names]
            if all(m is not None for m in measures):
                exact = float(sum(m for m in measures if m is not None))
        self.measure = -1.0 if exact is None else exact
        if exact is None:
            self.measure = self._monte_carlo()
        if not self.measure > 0:
            what = f"parts {list(self.names)}" if self.names is not None else "the predicate"
            raise ValueError(
                f"{label}{what} cover none of the boundary of this {type(domain).__name__} "
                "(measure 0); choose parts that lie on it"
            )

    @property
    def dim(self) -> int:
        """Number of coordinates $d$ of a point."""
        return self.domain.dim

    def keep(self, points: Float[Array, "*batch d"]) -> Bool[Array, "*batch"]:
        """Whether each boundary point of the domain lies on the chosen parts.

        Args:
            points: boundary points, shape ``(..., d)``.

        Returns:
            A bool array of shape ``points.shape[:-1]``.
        """
        predicate = self.predicate
        if predicate is not None:
            flat = points.reshape((-1, points.shape[-1]))
            ok = jax.vmap(lambda p: jnp.asarray(predicate(p), bool))(flat)
            return ok.reshape(points.shape[:-1])
        assert self.names is not None
        if len(self.names) == len(self.domain.parts):
            return jnp.ones(points.shape[:-1], bool)
        index = self.domain.part_index(points)
        wanted = [self.domain.parts.index(n) for n in self.names]
        return jnp.isin(index, jnp.asarray(wanted))

    def _boundary_proposal(self) -> Proposal:
        inner = self.domain._boundary_proposal()

        def propose(u):
            (pts, normals), ok = inner.propose(u)
            return BoundarySample(pts, normals), ok & self.keep(pts)

        return Proposal(inner.unit_dim, inner.measure, propose, True)

    def _monte_carlo(self) -> float:
        proposal = self._boundary_proposal()
        key = jax.random.key(0)
        u = qmc_unit("sobol", PART_MONTE_CARLO_POINTS, proposal.unit_dim, key)
        _, ok = candidates(self, "boundary", jnp.asarray(u, default_float()))
        return proposal.measure * float(np.mean(np.asarray(ok)))

    def distance(self, x: Float[Array, "*batch d"]) -> Float[Array, "*batch"]:
        """The ADF of the chosen parts (see `AbstractDomain.part_distance`).

        Args:
            x: points of shape ``(..., d)``.

        Returns:
            Shape ``x.shape[:-1]``.

        Raises:
            TypeError: the part is given by a predicate, which has no distance function.
        """
        if self.names is None:
            raise TypeError(
                "a boundary part given by a predicate has no distance function; name the "
                f"parts instead ({', '.join(repr(p) for p in self.domain.parts)})"
            )
        return self.domain.part_distance(self.names, x)

    def sample(
        self, n: int, *, key: PRNGKeyArray, method: SampleMethod = "uniform"
    ) -> BoundarySample:
        """Points of the chosen parts, uniform w.r.t. their measure, with outward normals.

        Args:
            n: number of points (for ``"grid"``: about `n`).
            key: PRNG key (an int seed is accepted), as for `AbstractDomain.sample_boundary`.
            method: ``"uniform"``, ``"sobol"``, ``"halton"`` or ``"grid"`` (the domain's
                boundary grid, filtered).

        Returns:
            A `BoundarySample` of shape ``(n, d)``.
        """
        n = positive_int("n", n)
        how = check_method(method)
        if how == "grid":
            share = self.measure / self.domain.boundary_measure
            pts, normals = self.domain._boundary_grid(max(1, round(n / max(share, 1e-12))))
            ok = np.asarray(self.keep(pts))
            return BoundarySample(to_jax(np.asarray(pts)[ok]), to_jax(np.asarray(normals)[ok]))
        points, normals = sample_proposal(self, "boundary", n, key=key, method=how)
        return BoundarySample(points, normals)
