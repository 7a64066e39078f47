"""Problems: constraints + trainable coefficients + exact or reference solution."""

from ._family import QueryTiming as QueryTiming
from ._family import family_field as family_field
from ._family import family_main as family_main
from ._family import grid_points as grid_points
from ._family import held_out_errors as held_out_errors
from ._family import load_surrogate as load_surrogate
from ._family import save_surrogate as save_surrogate
from ._family import time_query as time_query
from ._pairs import WithParameterPairs as WithParameterPairs
from ._parametric import ParametricProblem as ParametricProblem
from ._parametric import SplitInput as SplitInput
from ._parametric import WithParameters as WithParameters
from ._parametric import split_input as split_input
from ._problem import Problem as Problem
from ._projection import ResidualProjection as ResidualProjection
from ._surrogate import BasisSurrogate as BasisSurrogate
from ._surrogate import GridQuery as GridQuery
