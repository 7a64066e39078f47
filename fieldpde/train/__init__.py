"""Training: one engine (a `TrainState`, guarded compiled blocks, phases run in sequence)
and the drivers over it: `fit`, `fit_best_of`, `minimize`, `fit_snapshots`; checkpoints."""

from ._adaptive import AdaptiveSampling as AdaptiveSampling
from ._best_of import fit_best_of as fit_best_of
from ._causal import Causal as Causal
from ._checkpoint import load_checkpoint as load_checkpoint
from ._checkpoint import read_checkpoint_meta as read_checkpoint_meta
from ._checkpoint import save_checkpoint as save_checkpoint
from ._engine import Engine as Engine
from ._engine import Record as Record
from ._fit import FitResult as FitResult
from ._fit import fit as fit
from ._fit_ensemble import EnsembleFitResult as EnsembleFitResult
from ._fit_ensemble import fit_ensemble as fit_ensemble
from ._members import member_status as member_status
from ._members import report_failures as report_failures
from ._minimize import minimize as minimize
from ._natural_gradient import NaturalGradient as NaturalGradient
from ._objective import AbstractObjective as AbstractObjective
from ._objective import LossObjective as LossObjective
from ._objective import ProblemObjective as ProblemObjective
from ._phases import LBFGS as LBFGS
from ._phases import AbstractFirstOrderPhase as AbstractFirstOrderPhase
from ._phases import AbstractPhase as AbstractPhase
from ._phases import Adam as Adam
from ._phases import Optax as Optax
from ._progress import AbstractProgressMeter as AbstractProgressMeter
from ._progress import NoProgress as NoProgress
from ._progress import TextProgress as TextProgress
from ._progress import TqdmProgress as TqdmProgress
from ._quasi_newton import SSBFGS as SSBFGS
from ._quasi_newton import SSBroyden as SSBroyden
from ._results import RESULTS as RESULTS
from ._snapshots import fit_snapshots as fit_snapshots
from ._state import TrainState as TrainState
