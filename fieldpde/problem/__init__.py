"""Problems: constraints + trainable coefficients + exact or reference solution."""

from ._problem import Problem as Problem
