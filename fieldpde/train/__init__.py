"""Training: `fit` a field to a `Problem` (`fit_best_of` over several initialisations),
checkpoints, `minimize` and `fit_snapshots`."""

from ._adaptive import AdaptiveSampling as AdaptiveSampling
from ._best_of import fit_best_of as fit_best_of
from ._causal import Causal as Causal
from ._causal import CausalResidual as CausalResidual
from ._checkpoint import load_checkpoint as load_checkpoint
from ._checkpoint import save_checkpoint as save_checkpoint
from ._fit import FitResult as FitResult
from ._fit import fit as fit
from ._minimize import minimize as minimize
from ._snapshots import fit_snapshots as fit_snapshots
