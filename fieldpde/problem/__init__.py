"""Problems: constraints + trainable coefficients + exact or reference solution."""

from ._parametric import AbstractParameterQuery as AbstractParameterQuery
from ._parametric import ParametricProblem as ParametricProblem
from ._parametric import SplitInput as SplitInput
from ._parametric import split_input as split_input
from ._problem import Problem as Problem
