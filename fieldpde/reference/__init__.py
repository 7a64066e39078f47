r"""Classical reference solvers that give ground truth for neural PDE solvers.

Second-order finite differences on uniform tensor grids (scipy.sparse, solved by sparse LU):
`poisson_fd` for $-\Delta u = f$ and `helmholtz_fd` for $\Delta u + k^2 u = q$, with
Dirichlet data on a box or on a masked domain such as an L-shape. Both return a
`GridSolution`: node coordinates, node values (indexing ``"ij"``) and an interpolant to
compare a neural field at scattered points. Data are numpy arrays; callables receive one
coordinate array per axis, ``f(x, y)``, and are evaluated in float64 when written with numpy.

Time-dependent problems are solved by the method of lines with diffrax: `heat` (1-D to 3-D),
`advection`, `burgers` and `wave` (1-D) and `allen_cahn` (1-D, 2-D), with finite differences
or a Fourier spectral method in space and Dirichlet or periodic boundaries; each returns an
`xarray.Dataset` on dims ``("time", "x"[, "y"])``, and `space_time_solution` turns it into a
`GridSolution` over space-time points for ``Problem(reference=...)``.

Scattered references (COMSOL text exports, any node/value table with ``%`` comment lines)
are read by `read_comsol` into a `NodeTable`, which interpolates between its nodes and
scores a field at the nodes themselves. `cached_dataset` solves a slow reference once and
reads it back from ``$FIELDPDE_CACHE`` afterwards.
"""

from ._cache import cache_dir as cache_dir
from ._cache import cached_dataset as cached_dataset
from ._comsol import NodeTable as NodeTable
from ._comsol import read_comsol as read_comsol
from ._finite_difference import helmholtz_fd as helmholtz_fd
from ._finite_difference import poisson_fd as poisson_fd
from ._reaction_diffusion import allen_cahn as allen_cahn
from ._solution import GridSolution as GridSolution
from ._time_stepping import advection as advection
from ._time_stepping import burgers as burgers
from ._time_stepping import heat as heat
from ._time_stepping import space_time_solution as space_time_solution
from ._time_stepping import wave as wave
