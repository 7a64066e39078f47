"""Docstring coverage: every public object has a summary, its arguments, returns and an example.

The public objects are the names that a public subpackage of fieldpde (``fieldpde.nn``,
``fieldpde.ops``, ..., ``fieldpde.cli``) exposes without a leading underscore and that are
defined in fieldpde (their ``__module__`` starts with ``fieldpde``); an alias (``FiLM`` for
`AffineModulation`) is checked once. Module-level constants and type aliases such as
``MONTE_CARLO_POINTS`` or ``SampleMethod`` have no docstring of their own and are not checked.

The rules, in Google style as mkdocstrings renders it:

- a docstring of its own (not inherited, not the ``Name(a, b)`` text that dataclasses and
  named tuples make up);
- a one-line summary: the first line is non-empty, ends with a full stop, and is followed by a
  blank line or nothing;
- a function with parameters has an ``Args:`` section naming every parameter;
- a function with a return value (a return annotation other than ``None``, or none at all) has
  a ``Returns:`` (or ``Yields:``) section;
- a class whose constructor takes parameters documents them in an ``Attributes:`` or ``Args:``
  section of the class docstring or an ``Args:`` section of its ``__init__``, or, when it is built
  by an ``init`` classmethod (``SIREN.init``), in an ``Args:`` section of that classmethod
  naming every parameter; abstract classes cannot be built and need no such section;
- a ``>>>`` example in the object's own docstring, which the doctest run collects
  (``pytest fieldpde`` runs them).
"""

import doctest
import functools
import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator

import pytest

import fieldpde

SECTION = re.compile(r"^(\w[\w ]*):\s*$")


def public_objects() -> Iterator[tuple[str, object]]:
    """Yield ``(qualified public name, object)`` once per public object of fieldpde."""
    seen = set()
    for info in sorted(pkgutil.iter_modules(fieldpde.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"fieldpde.{info.name}")
        for name in sorted(dir(module)):
            obj = getattr(module, name)
            if name.startswith("_") or inspect.ismodule(obj):
                continue
            if not (getattr(obj, "__module__", None) or "").startswith("fieldpde"):
                continue
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            yield f"{module.__name__}.{name}", obj


def own_docstring(obj: object) -> str | None:
    """The object's own docstring, dedented; None when it has none."""
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    if not doc or not doc.strip():
        return None
    doc = inspect.cleandoc(doc)
    if inspect.isclass(obj) and doc.startswith(f"{obj.__name__}("):
        return None  # made up by dataclasses / NamedTuple from the signature
    return doc


def sections(doc: str) -> dict[str, str]:
    """Map each Google-style section header (``Args``, ``Returns``, ...) to its text."""
    found: dict[str, list[str]] = {}
    current = None
    for line in doc.splitlines():
        match = SECTION.match(line)
        if match and not line.startswith(" "):
            current = match.group(1)
            found[current] = []
        elif current is not None:
            found[current].append(line)
    return {name: "\n".join(lines) for name, lines in found.items()}


def _parameters(fn) -> list[str]:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    return [name for name in signature.parameters if name not in ("self", "cls")]


def _is_abstract(cls: type) -> bool:
    return cls.__name__.startswith("Abstract") or inspect.isabstract(cls)


def _returns_value(fn) -> bool:
    try:
        annotation = inspect.signature(fn).return_annotation
    except (TypeError, ValueError):
        return True
    return annotation not in (None, "None")


@functools.cache
def _collected_doctests(module_name: str) -> set[str]:
    """Names of the docstrings with examples that ``pytest --doctest-modules`` runs in a module."""
    module = importlib.import_module(module_name)
    tests = doctest.DocTestFinder().find(module, module.__name__)
    return {test.name for test in tests if test.examples}


def _args_problems(name: str, fn, found: dict[str, str]) -> list[str]:
    """An ``Args:`` section naming every parameter of `fn`, if it has any."""
    params = _parameters(fn)
    if not params:
        return []
    if "Args" not in found:
        return [f"{name}: no 'Args:' section for parameters {params}"]
    missing = [p for p in params if not re.search(rf"\b{re.escape(p)}\b", found["Args"])]
    return [f"{name}: 'Args:' does not describe {missing}"] if missing else []


def docstring_problems(name: str, obj: object) -> list[str]:
    """What is missing from the docstring of the public object ``obj`` called ``name``."""
    doc = own_docstring(obj)
    if doc is None:
        return [f"{name} has no docstring"]
    problems = []
    lines = doc.splitlines()
    summary = lines[0].strip()
    if not summary or not summary.endswith("."):
        problems.append(f"{name}: the first line must be a one-line summary ending in '.'")
    elif len(lines) > 1 and lines[1].strip():
        problems.append(f"{name}: the one-line summary must be followed by a blank line")
    found = sections(doc)

    if inspect.isclass(obj):
        init = obj.__dict__.get("init")
        if isinstance(init, classmethod):
            init_doc = own_docstring(init.__func__) or ""
            problems += _args_problems(f"{name}.init", init.__func__, sections(init_doc))
        elif not _is_abstract(obj) and _parameters(obj):
            dunder_init = obj.__dict__.get("__init__")
            init_doc = (own_docstring(dunder_init) if dunder_init else None) or ""
            init_args = "Args" in sections(init_doc)
            if "Attributes" not in found and "Args" not in found and not init_args:
                problems.append(f"{name}: no 'Attributes:' or 'Args:' section for its fields")
    elif callable(obj):
        problems += _args_problems(name, obj, found)
        if _returns_value(obj) and "Returns" not in found and "Yields" not in found:
            problems.append(f"{name}: no 'Returns:' section")

    if ">>>" not in doc:
        problems.append(f"{name}: no '>>>' example")
    else:
        module_name = getattr(obj, "__module__", "")
        qualname = getattr(obj, "__qualname__", getattr(obj, "__name__", ""))
        if f"{module_name}.{qualname}" not in _collected_doctests(module_name):
            problems.append(f"{name}: the example is not collected by the doctest run")
    return problems


PUBLIC = list(public_objects())


def test_public_objects_are_found():
    names = [name for name, _ in PUBLIC]
    assert len(names) > 100
    for expected in ("fieldpde.nn.SIREN", "fieldpde.ops.laplacian", "fieldpde.cli.main"):
        assert expected in names


@pytest.mark.parametrize(("name", "obj"), PUBLIC, ids=[name for name, _ in PUBLIC])
def test_public_docstring(name, obj):
    problems = docstring_problems(name, obj)
    assert not problems, "\n".join(problems)


def _undocumented(x, y):
    return x + y


def _documented(x, y):
    """Add two numbers.

    Args:
        x: the first number.
        y: the second number.

    Returns:
        Their sum.

    Example:
        >>> _documented(1, 2)
        3
    """
    return x + y


def _half_documented(x, y):
    """Add two numbers

    Args:
        x: the first number.

    Example:
        >>> _half_documented(1, 2)
        3
    """
    return x + y


class _Undocumented:
    def __init__(self, a):
        self.a = a


class _NoAttributes:
    """A pair.

    Example:
        >>> _NoAttributes(1).a
        1
    """

    def __init__(self, a):
        self.a = a


def _no_example(x):
    """Return `x`.

    Args:
        x: anything.

    Returns:
        `x`.
    """
    return x


def test_checker_fails_on_undocumented_objects():
    name = f"{__name__}._undocumented"
    assert docstring_problems(name, _undocumented) == [f"{name} has no docstring"]
    assert docstring_problems("C", _Undocumented) == ["C has no docstring"]
    problems = docstring_problems("f", _half_documented)
    assert any("summary" in p for p in problems)
    assert any("does not describe ['y']" in p for p in problems)
    assert any("'Returns:'" in p for p in problems)
    assert not any("'>>>'" in p for p in problems)
    assert docstring_problems("C", _NoAttributes) == [
        "C: no 'Attributes:' or 'Args:' section for its fields"
    ]
    assert docstring_problems("g", _no_example) == ["g: no '>>>' example"]


def test_checker_passes_a_documented_function():
    assert docstring_problems("f", _documented) == []
