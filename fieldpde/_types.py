"""Type aliases shared across fieldpde.

Shape letters follow the house convention: ``n`` points, ``d`` input dimensions,
``m`` outputs, ``k`` selected (differentiated) input dimensions.
"""

from collections.abc import Callable, Sequence
from typing import TypeAlias

import jax
from jaxtyping import Array, Float, PRNGKeyArray

Point: TypeAlias = Float[Array, " d"]
Points: TypeAlias = Float[Array, "*batch d"]
Values: TypeAlias = Float[Array, "*batch m"]
PointwiseFn: TypeAlias = Callable[[Float[Array, " d"]], Float[Array, "..."]]
Dims: TypeAlias = int | Sequence[int] | slice | None
Key: TypeAlias = PRNGKeyArray | jax.Array

__all__ = ["Point", "Points", "Values", "PointwiseFn", "Dims", "Key"]
