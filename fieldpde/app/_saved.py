r"""The trained field of ``fieldpde solve``, saved beside its netCDF and loaded in one call.

``OUT/NAME.eqx`` is a `fieldpde.train` checkpoint (a zip of JSON metadata and the arrays,
read without pickle) of the trained field, with the problem file it solves and the
settings that fix the field's structure. A hard field holds functions of the problem file
(its boundary data), which cannot be stored as data, so `load_solution` imports the
problem file again, rebuilds the untrained field with the default recipe exactly as the
run did, and fills it with the saved arrays.
"""

import os
import zipfile
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..train import load_checkpoint, read_checkpoint_meta, save_checkpoint
from ._problem_file import ProblemFile, load_problem_file
from ._settings import Settings

KIND = "fieldpde-solution/1"


def save_solution(
    path: str | os.PathLike, result: Any, plan: Any, pf: ProblemFile, *, seed: int = 0
) -> Path:
    """Save the trained field of a `run` (see the module docstring).

    Args:
        path: the file (``OUT/NAME.eqx``).
        result: the run's `fieldpde.train.FitResult`.
        plan: the run's `Plan`.
        pf: the problem file.
        seed: the run's seed.

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> from fieldpde.app import run
        >>> r = run("poisson_2d_c", steps=5, lbfgs_steps=0, points=64, grid=5, x64=False,
        ...         out=tempfile.mkdtemp(), progress=False, verbose=False)
        >>> r.saved.name
        'poisson_2d_c.eqx'
    """
    path = Path(path)
    leaves = [a for a in jax.tree.leaves(result.field) if isinstance(a, jax.Array)]
    dtype = str(leaves[0].dtype) if leaves else "float32"
    meta = {
        "kind": KIND,
        "problem_file": str(Path(pf.path).resolve()),
        "problem": plan.problem.name,
        "architecture": plan.architecture,
        "dtype": dtype,
        "seed": int(seed),
        "status": result.status,
        "hard": list(plan.hard),
    }
    save_checkpoint(path, result.field, step=result.steps, history=result.history, meta=meta)
    return path


def is_solution_file(path: str | os.PathLike) -> bool:
    """Whether `path` is a field saved by ``fieldpde solve``.

    Args:
        path: any file.

    Returns:
        True for a file `save_solution` wrote.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "x.eqx")
        >>> _ = open(path, "w").write("not a zip")
        >>> is_solution_file(path)
        False
    """
    try:
        return read_checkpoint_meta(path).get("kind") == KIND
    except (ValueError, OSError, zipfile.BadZipFile):
        return False


def load_solution(path: str | os.PathLike) -> tuple[Any, dict[str, Any]]:
    """Load the trained field ``fieldpde solve`` saved, in one call.

    Args:
        path: ``OUT/NAME.eqx``.

    Returns:
        ``(field, meta)``: the trained field (a callable ``(n, d) -> (n, m)``) and the
        saved metadata (``problem_file``, ``architecture``, ``step``, ...). A field
        trained in float64 is returned in float32 unless JAX's x64 mode is on.

    Raises:
        FileNotFoundError: no such file, or its problem file is gone.
        ValueError: not a file of ``fieldpde solve``, or the problem file no longer
            builds the same field.

    Example:
        >>> import tempfile, jax.numpy as jnp
        >>> from fieldpde.app import run
        >>> r = run("poisson_2d_c", steps=5, lbfgs_steps=0, points=64, grid=5, x64=False,
        ...         out=tempfile.mkdtemp(), progress=False, verbose=False)
        >>> field, meta = load_solution(r.saved)
        >>> x = jnp.array([[0.0, 0.0]])
        >>> bool(jnp.allclose(field(x), r.result.field(x))), meta["problem"]
        (True, 'poisson_2d_c')
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no saved solution at `{path}`")
    meta = read_checkpoint_meta(path)
    if meta.get("kind") != KIND:
        raise ValueError(
            f"`{path}` is not a field saved by `fieldpde solve` (its kind is "
            f"{meta.get('kind')!r}); a `fieldpde fit` field loads with fieldpde.io.load_field"
        )
    arch = meta.get("architecture") or {}
    if not arch:
        raise ValueError(f"`{path}` records no architecture to rebuild its field from")
    pf = load_problem_file(meta["problem_file"])
    omega = arch.get("omega")
    settings = Settings(
        points=arch["points"],
        x64=bool(arch["x64"]),
        hard=bool(arch["hard"]),
        network=arch.get("network"),
        width=arch.get("width"),
        depth=arch.get("depth"),
        omega=tuple(omega) if isinstance(omega, list) else omega,
        field=arch.get("field", {}),
        problem=arch.get("problem", {}),
        steps=0,
        lbfgs_steps=0,
    )
    from ._recipe import choose

    wide = np.dtype(meta.get("dtype", "float32")) == np.float64
    with jax.enable_x64(wide or bool(jax.config.read("jax_enable_x64"))):
        plan = choose(pf, settings)
        like = plan.build(jax.random.key(0), jnp.dtype(meta.get("dtype", "float32")))
        field = load_checkpoint(path, like)[0]
    if wide and not jax.config.read("jax_enable_x64"):
        field = jax.tree.map(
            lambda a: (
                a.astype(jnp.float32) if isinstance(a, jax.Array) and a.dtype == jnp.float64 else a
            ),
            field,
        )
    return field, meta


def predict_solution(path: str | os.PathLike, *, out: str | os.PathLike, shape: Any = None) -> Path:
    """Evaluate a saved solution on a grid of its problem's domain and write netCDF.

    Args:
        path: ``OUT/NAME.eqx`` written by ``fieldpde solve``.
        out: the netCDF file to write.
        shape: nodes per axis (default: 101).

    Returns:
        The path written.

    Example:
        >>> import tempfile, xarray as xr
        >>> from fieldpde.app import run
        >>> tmp = tempfile.mkdtemp()
        >>> r = run("poisson_2d_c", steps=5, lbfgs_steps=0, points=64, grid=5, x64=False, out=tmp,
        ...         progress=False, verbose=False)
        >>> xr.open_dataset(predict_solution(r.saved, out=f"{tmp}/fine.nc", shape=9)).sizes["x"]
        9
    """
    from ..io import evaluate_on_grid
    from ._output import write_netcdf

    field, meta = load_solution(path)
    pf = load_problem_file(meta["problem_file"])
    arch = meta["architecture"]
    problem = pf.problem(points=arch["points"], **arch.get("problem", {}))
    ds = evaluate_on_grid(problem, field, shape=101 if shape is None else shape)
    ds.attrs["saved_field"] = Path(path).name
    return write_netcdf(ds, out)
