"""Uncertainty: ensembles of MAP fits under numpyro priors, and calibration metrics.

Importing this subpackage imports numpyro (the priors are numpyro models).
"""

from ._calibration import central_interval as central_interval
from ._calibration import coverage as coverage
from ._calibration import crps_ensemble as crps_ensemble
from ._calibration import crps_gaussian as crps_gaussian
from ._calibration import gaussian_coverage as gaussian_coverage
from ._calibration import gaussian_nll as gaussian_nll
from ._calibration import plot_reliability as plot_reliability
from ._calibration import reliability as reliability
from ._ensemble import ensemble_map as ensemble_map
from ._ensemble import ensemble_predict as ensemble_predict
from ._ensemble import member_sharding as member_sharding
from ._physics import PhysicsEnsemble as PhysicsEnsemble
from ._physics import ensemble_fit as ensemble_fit
from ._prior import log_prior_fn as log_prior_fn
from ._prior import prior_init_fn as prior_init_fn
from ._prior import trace_sites as trace_sites
from ._scores import score_xarray as score_xarray
from ._stuck import StuckReport as StuckReport
from ._stuck import find_stuck as find_stuck
from ._stuck import posterior_weights as posterior_weights
from ._stuck import predictive_summary as predictive_summary
from ._stuck import redraw_stuck as redraw_stuck
