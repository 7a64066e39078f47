"""Neural fields: SIREN, a plain MLP baseline, and diagnostics."""

from ._bayesian_conditioners import BayesianAffineModulation as BayesianAffineModulation
from ._bayesian_conditioners import BayesianConcatConditioner as BayesianConcatConditioner
from ._bayesian_conditioners import BayesianHyperLinear as BayesianHyperLinear
from ._bayesian_fourier import BayesianRandomKitchenSinks as BayesianRandomKitchenSinks
from ._bayesian_fourier import BayesianRBFFourierFeatures as BayesianRBFFourierFeatures
from ._conditioned_inr import ConditionedINR as ConditionedINR
from ._conditioners import AbstractConditioner as AbstractConditioner
from ._conditioners import AffineModulation as AffineModulation
from ._conditioners import ConcatConditioner as ConcatConditioner
from ._conditioners import FiLM as FiLM
from ._conditioners import HyperLinear as HyperLinear
from ._diagnostics import LayerActivations as LayerActivations
from ._diagnostics import activation_statistics as activation_statistics
from ._fourier import ConditionedRFFNet as ConditionedRFFNet
from ._fourier import HyperFourierFeatures as HyperFourierFeatures
from ._fourier import RandomKitchenSinks as RandomKitchenSinks
from ._fourier import RBFFourierFeatures as RBFFourierFeatures
from ._hypersiren import HyperSIREN as HyperSIREN
from ._hypersiren import LastLayerNIF as LastLayerNIF
from ._mlp import MLP as MLP
from ._mlp import Dense as Dense
from ._siren import SIREN as SIREN
from ._siren import SirenDense as SirenDense
from ._siren import siren_weight_limit as siren_weight_limit
