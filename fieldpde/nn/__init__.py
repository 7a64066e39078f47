"""Neural fields: SIREN, a plain MLP baseline, and diagnostics."""

from ._bayesian_siren import BayesianSIREN as BayesianSIREN
from ._diagnostics import LayerActivations as LayerActivations
from ._diagnostics import activation_statistics as activation_statistics
from ._mlp import MLP as MLP
from ._mlp import Dense as Dense
from ._siren import SIREN as SIREN
from ._siren import SirenDense as SirenDense
from ._siren import siren_weight_limit as siren_weight_limit
