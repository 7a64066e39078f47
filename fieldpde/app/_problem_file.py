r"""Problem files: what they must define, where they are found, and how they are loaded.

A problem file is a Python file that defines

- ``problem(points, ...) -> fieldpde.problem.Problem``: the PDE, its domain and
  constraints, with an exact solution or a reference if there is one;
- optionally ``field(key, *, dtype=None, ...)``: the untrained field (without it the
  default recipe builds one, see `fieldpde.app.choose`);
- optionally ``SETTINGS = Settings(...)``: how to train it (unset settings are chosen by
  the default recipe).

Before a file is run, its source is parsed (not executed) to check that it is a problem
file: a script that happens to be passed to ``fieldpde solve`` is refused without running
its top-level code. Then the file is imported and its settings are checked against the
signatures of its functions, so a bad setting fails before any training.
"""

import ast
import importlib.util
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, final

from ._settings import Settings

CONTRACT = (
    "a problem file defines problem(points) -> fieldpde.problem.Problem, and optionally "
    "field(key, *, dtype=None) -> the untrained field and SETTINGS = fieldpde.app.Settings(...)"
)


def problem_dirs() -> list[Path]:
    """Where problem files are looked up by name: ./problems, the source tree, the install.

    Returns:
        The folders, in lookup order: ``problems`` under the working directory, beside the
        package (a source checkout), and ``fieldpde/_problems`` (an installed wheel).

    Example:
        >>> [folder.name for folder in problem_dirs()]
        ['problems', 'problems', '_problems']
        >>> any((folder / "helmholtz.py").exists() for folder in problem_dirs())
        True
    """
    here = Path(__file__).resolve().parent.parent
    return [Path.cwd() / "problems", here.parent / "problems", here / "_problems"]


def _top_level(path: Path) -> tuple[set[str], bool]:
    """The names a file's top level defines (functions, classes, assignments, imports)
    and whether it runs a ``__main__`` block; parsed, not executed."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not a readable Python file: {err}") from err
    names: set[str] = set()
    main = False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            main = True
    return names, main


def is_problem_file(path: Path) -> bool:
    """Whether `path` looks like a problem file (defines `problem`)."""
    try:
        names, _ = _top_level(path)
    except (OSError, ValueError):
        return False
    return "problem" in names


def known_problems() -> list[str]:
    """The names of the problem files in `problem_dirs`, sorted.

    Returns:
        The stems of the files that define ``problem`` (checked without running them).

    Example:
        >>> {"helmholtz", "poisson_sinsin"} <= set(known_problems())
        True
    """
    return sorted(
        {
            p.stem
            for d in problem_dirs()
            if d.is_dir()
            for p in d.glob("*.py")
            if not p.stem.startswith("_") and is_problem_file(p)
        }
    )


def find_problem_file(spec: str | Path) -> Path:
    """The path of a problem given as a file or as a name in `problem_dirs`."""
    path = Path(spec)
    if path.suffix == ".py" and path.exists():
        if path.is_dir():
            raise ValueError(f"`problem`: {path} is a directory, not a problem file")
        return path
    if path.suffix == ".py" and (path.is_absolute() or len(path.parts) > 1):
        raise FileNotFoundError(f"no problem file {str(path)!r}")
    name = str(spec).removesuffix(".py")
    for folder in problem_dirs():
        candidate = folder / f"{name}.py"
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        f"no problem {str(spec)!r}; known problems: {', '.join(known_problems())}"
    )


@final
@dataclass(frozen=True, eq=False)
class ProblemFile:
    """A loaded problem file.

    Attributes:
        name: the file's stem (``"helmholtz"``).
        path: the file.
        settings: its `Settings` (`Settings()` if it states none).
        problem: its ``problem(points, ...)``.
        field: its ``field(key, *, dtype=None, ...)``, or ``None`` (the default recipe
            builds the field).
        module: the imported module (for anything else it defines).

    Example:
        >>> pf = load_problem_file("helmholtz")
        >>> pf.name, [type(p).__name__ for p in pf.settings.phases], callable(pf.field)
        ('helmholtz', ['Adam', 'SSBroyden'], True)
    """

    name: str
    path: Path
    settings: Settings
    problem: Callable[..., Any]
    field: Callable[..., Any] | None
    module: ModuleType


def _check_options(fn: Callable[..., Any], options: dict, what: str, where: Path) -> None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    params = sig.parameters.values()
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return
    accepted = {p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise TypeError(
            f"{where}: Settings.{what} gives {unknown}, which {what}() does not take "
            f"(its signature is {what}{sig})"
        )


def import_script(path: str | Path, *, needs: tuple[str, ...]) -> ModuleType:
    """Import a Python file after checking, without running it, that it defines `needs`.

    Args:
        path: the file.
        needs: the top-level names it must define.

    Returns:
        The imported module.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file lacks one of `needs` (nothing in it has run).

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "m.py")
        >>> _ = open(path, "w").write("def field(key, dtype=None):\\n    return 1\\n")
        >>> import_script(path, needs=("field",)).field(None)
        1
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no script {str(path)!r}")
    names, _ = _top_level(path)
    missing = [n for n in needs if n not in names]
    if missing:
        raise ValueError(f"{path} does not define {', '.join(missing)}")
    module_spec = importlib.util.spec_from_file_location(f"fieldpde_script_{path.stem}", path)
    if module_spec is None or module_spec.loader is None:
        raise ValueError(f"{path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def load_problem_file(spec: str | Path) -> ProblemFile:
    """Find, check and import a problem file given as a path or as a name.

    Args:
        spec: a path to a ``.py`` file, or the name of a problem such as ``"helmholtz"``.

    Returns:
        A `ProblemFile`.

    Raises:
        FileNotFoundError: no such file or problem (the message lists the known ones).
        ValueError: the file is not a problem file (checked without running it), or its
            ``SETTINGS`` is not a `Settings`.
        TypeError: a setting names an argument its ``problem``/``field`` does not take.

    Example:
        >>> pf = load_problem_file("poisson_sinsin")
        >>> pf.problem(points=64).name, pf.settings.x64
        ('poisson_sinsin', True)
    """
    path = find_problem_file(spec)
    names, main = _top_level(path)
    missing = [n for n in ("problem",) if n not in names]
    if missing:
        hint = f"; it looks like a script of its own: python {path}" if main else ""
        raise ValueError(
            f"{path} is not a problem file: it does not define {', '.join(missing)} "
            f"({CONTRACT}){hint}"
        )
    if "DEFAULTS" in names and "SETTINGS" not in names:
        raise ValueError(
            f"{path}: a DEFAULTS dict is no longer read; write the settings as "
            "SETTINGS = fieldpde.app.Settings(steps=..., points=..., ...)"
        )
    module = import_script(path, needs=("problem",))
    settings = module.__dict__.get("SETTINGS", Settings())
    if not isinstance(settings, Settings):
        raise ValueError(
            f"{path}: SETTINGS must be a fieldpde.app.Settings, got {type(settings).__name__}"
        )
    problem, field = module.__dict__["problem"], module.__dict__.get("field")
    for fn, label in ((problem, "problem"), (field, "field")):
        if fn is not None and not callable(fn):
            raise ValueError(f"{path}: `{label}` must be a function ({CONTRACT})")
    _check_options(problem, dict(settings.problem), "problem", path)
    if field is not None:
        _check_options(field, dict(settings.field), "field", path)
    elif settings.field:
        raise TypeError(
            f"{path}: Settings.field gives {sorted(settings.field)}, but the file defines no "
            "field(); set the width, depth and omega of the default field instead"
        )
    return ProblemFile(path.stem, path, settings, problem, field, module)
