"""Answering a new parameter value fast: the residual projection of a `BasisSurrogate`."""

from ._projection import ResidualProjection as ResidualProjection
