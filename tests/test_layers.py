"""The package is layered: imports go downward only, never in a cycle, never to another
package's private modules; every public class is abstract or final."""

import ast
import importlib
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "fieldpde"

# Each package may import only packages of a lower layer (and the shared private modules
# `fieldpde/_*.py`, the lowest of all).
LAYERS = [
    {"ops"},
    {"nn", "domains"},
    {"constraints"},
    {"problem", "reference"},
    {"surrogate"},
    {"train"},
    {"bayes", "io"},
    {"app"},
    {"cli"},
]
LEVEL = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _package_of(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 or rel.stem == "cli" else ""


def _imports(path: Path):
    """``(target package, target module parts, line)`` of every fieldpde import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = path.relative_to(ROOT).parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(here[: len(here) - node.level + 1]) if node.level > 1 else list(here)
                parts = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "fieldpde":
                parts = node.module.split(".")[1:]
            else:
                continue
            if not parts:  # `from . import x` in the top-level package
                parts = [a.name for a in node.names][:1]
            yield parts, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "fieldpde":
                    yield alias.name.split(".")[1:], node.lineno


def _edges():
    for path in ROOT.rglob("*.py"):
        source = _package_of(path)
        for parts, line in _imports(path):
            if parts:
                yield path, line, source, parts


def test_imports_go_downward_and_never_reach_private_modules_of_another_package():
    problems = []
    for path, line, source, parts in _edges():
        target = parts[0]
        where = f"{path.relative_to(ROOT.parent)}:{line}"
        if target.startswith("_") and target.endswith(("problems",)):
            continue
        if target.startswith("_"):
            continue  # fieldpde/_checks.py and friends: shared by every layer
        if source and target != source:
            if source not in LEVEL or target not in LEVEL:
                problems.append(f"{where}: {source} -> {target} (package not in LAYERS)")
            elif LEVEL[target] >= LEVEL[source]:
                problems.append(f"{where}: {source} imports {target}, not a lower layer")
            if len(parts) > 1 and parts[1].startswith("_"):
                problems.append(f"{where}: {source} imports private {'.'.join(parts)}")
    assert not problems, "\n".join(problems)


def test_the_package_import_graph_has_no_cycle():
    graph: dict[str, set[str]] = {}
    for _, _, source, parts in _edges():
        if source and not parts[0].startswith("_") and parts[0] != source:
            graph.setdefault(source, set()).add(parts[0])
    state: dict[str, int] = {}

    def visit(node, stack):
        state[node] = 1
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                raise AssertionError(f"import cycle: {' -> '.join([*stack, node, nxt])}")
            if state.get(nxt) is None:
                visit(nxt, [*stack, node])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [])


def test_problem_does_not_import_train():
    for path in (ROOT / "problem").rglob("*.py"):
        for parts, line in _imports(path):
            assert parts[:1] != ["train"], f"{path}:{line}"


def test_no_hasattr_probes_in_train():
    for path in (ROOT / "train").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "hasattr(" not in text and "getattr(" not in text, path


def test_every_constraint_class_lives_in_constraints():
    from fieldpde.constraints import AbstractConstraint

    for package in sorted(LEVEL):
        if package == "cli":
            continue
        module = importlib.import_module(f"fieldpde.{package}")
        for name in dir(module):
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, AbstractConstraint):
                assert obj.__module__.startswith("fieldpde.constraints"), (package, name)


@pytest.mark.parametrize("package", sorted(set(LEVEL) - {"cli"}))
def test_public_classes_are_abstract_or_final(package):
    module = importlib.import_module(f"fieldpde.{package}")
    checked = 0
    for name in dir(module):
        obj = getattr(module, name)
        if not inspect.isclass(obj) or not obj.__module__.startswith("fieldpde."):
            continue
        is_final = getattr(obj, "__final__", False)
        is_abstract = obj.__name__.startswith("Abstract") or inspect.isabstract(obj)
        assert is_final != is_abstract, f"fieldpde.{package}.{name} must be @final or abstract"
        checked += 1
    assert checked or package in ("ops",)
