"""Constraints: the terms of the Eq. 3 loss, and hard-constraint output transforms."""

from ._base import AbstractConstraint as AbstractConstraint
from ._base import Batch as Batch
from ._base import Kind as Kind
from ._boundary import Dirichlet as Dirichlet
from ._boundary import Neumann as Neumann
from ._boundary import Robin as Robin
from ._corners import SingularCorners as SingularCorners
from ._data import AbstractDataConstraint as AbstractDataConstraint
from ._gauge import Gauge as Gauge
from ._hard import BallDistance as BallDistance
from ._hard import BoxDistance as BoxDistance
from ._hard import HardDirichlet as HardDirichlet
from ._initial import Initial as Initial
from ._lifting import Lifting as Lifting
from ._lifting import PartDistance as PartDistance
from ._lifting import distance_scale as distance_scale
from ._masked import MaskedObservations as MaskedObservations
from ._observations import Observations as Observations
from ._parameters import AbstractOverParameters as AbstractOverParameters
from ._parameters import WithParameterPairs as WithParameterPairs
from ._parameters import WithParameters as WithParameters
from ._parameters import concat_parameters as concat_parameters
from ._pde import Residual as Residual
from ._periodic import Periodic as Periodic
from ._region import AbstractRegionConstraint as AbstractRegionConstraint
from ._region import Region as Region
