"""fieldpde: physics-informed neural fields in JAX.

Subpackages: `fieldpde.nn` (fields), `fieldpde.ops` (differential operators),
`fieldpde.domains`, `fieldpde.constraints`, `fieldpde.problem`, `fieldpde.surrogate`,
`fieldpde.train`, `fieldpde.bayes`, `fieldpde.io`, `fieldpde.reference` and the
application layer `fieldpde.app`. They are imported on first use, so that ``fieldpde
--help`` answers without loading JAX.
"""

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_SUBPACKAGES = (
    "app",
    "bayes",
    "constraints",
    "domains",
    "io",
    "nn",
    "ops",
    "problem",
    "reference",
    "surrogate",
    "train",
)
_NAMES = {"MLP": "nn", "SIREN": "nn", "SirenDense": "nn", "Problem": "problem", "fit": "train"}

__all__ = [*_SUBPACKAGES, *_NAMES, "__version__"]

if TYPE_CHECKING:  # what static tools see; at run time the names load on first use
    from . import app as app
    from . import bayes as bayes
    from . import constraints as constraints
    from . import domains as domains
    from . import io as io
    from . import nn as nn
    from . import ops as ops
    from . import problem as problem
    from . import reference as reference
    from . import surrogate as surrogate
    from . import train as train
    from .nn import MLP as MLP
    from .nn import SIREN as SIREN
    from .nn import SirenDense as SirenDense
    from .problem import Problem as Problem
    from .train import fit as fit


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name in _NAMES:
        return getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'fieldpde' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
