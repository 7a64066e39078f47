"""Griffe extensions used by the docs build (``mkdocs.yml``); they do not touch the package.

- `RedundantAliasesArePublic`: fieldpde keeps its implementation in private modules and
  re-exports the public names from each subpackage's ``__init__.py`` as
  ``from ._module import Name as Name`` (see STYLE.md), without ``__all__``. Griffe treats
  imported names as private, so the API pages would be empty; this marks the redundant-alias
  form (which type checkers also read as an explicit re-export) public, and nothing else.
- `ExampleIsExamples`: fieldpde's docstrings head their doctests ``Example:``; griffe's
  Google parser knows only ``Examples:`` as the section whose ``>>>`` lines become code, and
  renders anything else as prose. This reads a line ``Example:`` as ``Examples:``.
"""

import ast
import re
from typing import Any

import griffe

_EXAMPLE_HEADING = re.compile(r"^(\s*)Example:[ \t]*$", flags=re.MULTILINE)


class RedundantAliasesArePublic(griffe.Extension):
    """Mark names imported as ``from m import x as x`` public."""

    def on_alias_instance(self, *, node: Any, alias: griffe.Alias, **kwargs: Any) -> None:
        if isinstance(node, ast.ImportFrom) and any(
            name.asname is not None and name.asname == name.name == alias.name
            for name in node.names
        ):
            alias.public = True


class ExampleIsExamples(griffe.Extension):
    """Parse a docstring section headed ``Example:`` as a Google ``Examples:`` section."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _EXAMPLE_HEADING.sub(r"\1Examples:", obj.docstring.value)
