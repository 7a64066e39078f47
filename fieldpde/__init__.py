"""fieldpde: physics-informed neural fields in JAX.

Subpackages: `fieldpde.nn` (fields), `fieldpde.ops` (differential operators).
"""

from . import domains as domains
from . import nn as nn
from . import ops as ops
from . import train as train
from .nn import MLP as MLP
from .nn import SIREN as SIREN
from .nn import SirenDense as SirenDense

__version__ = "0.1.0"
