"""xarray / netCDF input and output."""

from ._grid import evaluate_on_grid as evaluate_on_grid
