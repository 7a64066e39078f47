"""xarray / netCDF input and output: fit fields to gridded data, predict, save and load."""

from ._coords import AxisEncoding as AxisEncoding
from ._coords import refine as refine
from ._field import FittedField as FittedField
from ._fit import fit_xarray as fit_xarray
from ._grid import evaluate_on_grid as evaluate_on_grid
from ._pde import GridPDE as GridPDE
from ._persist import load_field as load_field
