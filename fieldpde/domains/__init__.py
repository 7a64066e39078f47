"""Domains: boxes, balls, polygons, set operations and space-time cylinders, with samplers.

Every domain measures itself (`measure`, `boundary_measure`), tests membership
(`contains`) and draws interior points and boundary points with outward normals, by
``"uniform"``, ``"sobol"``, ``"halton"`` or ``"grid"`` sampling. It has an approximate
distance function (`distance`, zero on the boundary, normalised to first order) and names
the parts of its boundary (`parts`; `part` samples and measures some of them).
"""

from ._ball import Ball as Ball
from ._ball import Disk as Disk
from ._base import AbstractDomain as AbstractDomain
from ._base import BoundarySample as BoundarySample
from ._base import Proposal as Proposal
from ._base import SampleMethod as SampleMethod
from ._box import Box as Box
from ._box import Interval as Interval
from ._box import Rectangle as Rectangle
from ._corners import interior_angles as interior_angles
from ._corners import reentrant_corners as reentrant_corners
from ._parts import PART_MONTE_CARLO_POINTS as PART_MONTE_CARLO_POINTS
from ._parts import BoundaryPart as BoundaryPart
from ._polygon import Polygon as Polygon
from ._setops import MONTE_CARLO_POINTS as MONTE_CARLO_POINTS
from ._setops import Difference as Difference
from ._setops import Intersection as Intersection
from ._setops import Union as Union
from ._time import SpaceTime as SpaceTime
from ._time import TimeInterval as TimeInterval
