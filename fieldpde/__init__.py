"""fieldpde: physics-informed neural fields in JAX.

Subpackages: `fieldpde.nn` (fields), `fieldpde.ops` (differential operators),
`fieldpde.domains`, `fieldpde.constraints`, `fieldpde.problem`, `fieldpde.train`; the
finite-difference ground truth lives in `fieldpde.reference` (imported on demand).
"""

from . import constraints as constraints
from . import domains as domains
from . import nn as nn
from . import ops as ops
from . import problem as problem
from . import train as train
from .nn import MLP as MLP
from .nn import SIREN as SIREN
from .nn import SirenDense as SirenDense
from .problem import Problem as Problem
from .train import fit as fit

__version__ = "0.1.0"
