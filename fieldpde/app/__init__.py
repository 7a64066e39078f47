"""The application layer: problem files and their settings, the default recipe (`choose`),
the ``solve`` job (`run`) and its saved fields, the netCDF jobs, and the toolkit of
parametric-family scripts. The command line
(`fieldpde.cli`) only parses arguments and calls these."""

from ._family import FamilySettings as FamilySettings
from ._family import QueryTiming as QueryTiming
from ._family import family_field as family_field
from ._family import family_main as family_main
from ._family import grid_points as grid_points
from ._family import held_out_errors as held_out_errors
from ._family import load_surrogate as load_surrogate
from ._family import save_surrogate as save_surrogate
from ._family import time_query as time_query
from ._grids import fit_netcdf as fit_netcdf
from ._grids import grid_spec as grid_spec
from ._grids import predict_netcdf as predict_netcdf
from ._output import solve_figure as solve_figure
from ._output import write_netcdf as write_netcdf
from ._problem_file import ProblemFile as ProblemFile
from ._problem_file import import_script as import_script
from ._problem_file import known_problems as known_problems
from ._problem_file import load_problem_file as load_problem_file
from ._problem_file import problem_dirs as problem_dirs
from ._recipe import Plan as Plan
from ._recipe import choose as choose
from ._recipe import data_scale as data_scale
from ._recipe import default_points as default_points
from ._run import RunResult as RunResult
from ._run import run as run
from ._saved import is_solution_file as is_solution_file
from ._saved import load_solution as load_solution
from ._saved import predict_solution as predict_solution
from ._saved import save_solution as save_solution
from ._settings import Settings as Settings
