"""Problems: constraints + trainable coefficients + exact or reference solution, and the
automatic hard enforcement of their Dirichlet and initial data."""

from ._enforce import HardSplit as HardSplit
from ._enforce import SpaceData as SpaceData
from ._enforce import check_junctions as check_junctions
from ._enforce import enforce_hard as enforce_hard
from ._enforce import hard_candidates as hard_candidates
from ._parametric import AbstractParameterQuery as AbstractParameterQuery
from ._parametric import ParametricProblem as ParametricProblem
from ._parametric import SplitInput as SplitInput
from ._parametric import split_input as split_input
from ._problem import Problem as Problem
from ._spectrum import data_functions as data_functions
from ._spectrum import data_wavenumbers as data_wavenumbers
