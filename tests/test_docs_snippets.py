"""The documentation's code runs against the real API, so the docs cannot rot.

Every ```python block of a page under ``docs/`` is executed, in order, in one namespace per
page (later blocks build on earlier ones), from a temporary working directory. Step counts
written for real runs (``steps=2000``) are cut to a few steps first; a block preceded by the
line ``<!-- snippet: skip -->`` is not run (use it only for code that needs files or
hardware the test machine lacks). Line numbers in tracebacks are the page's own.

The site's table of contents and the examples gallery are checked here too: every page is
in the ``nav`` of ``mkdocs.yml``, every file ``nav`` names exists, and the gallery has an
entry for every script in ``examples/``.
"""

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SKIP = "<!-- snippet: skip -->"

# keyword arguments that set how long something trains, and the value the test uses
FAST = {
    "steps": 8,
    "lbfgs_steps": 0,
    "num_epochs": 8,
    "ensemble_size": 2,
}
_FAST_RE = re.compile(r"\b(" + "|".join(FAST) + r")(\s*=\s*)(\d[\d_]*)\b")
_FENCE_RE = re.compile(r"^```python[ \t]*$")


def _pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "_ext" not in p.parts)


def snippet_source(text: str) -> str:
    """The page's runnable Python blocks, each at its own line numbers, shortened."""
    lines = text.splitlines()
    out = [""] * len(lines)
    inside = False
    skip = False
    for i, line in enumerate(lines):
        if not inside:
            if _FENCE_RE.match(line):
                inside = True
                skip = i > 0 and lines[i - 1].strip() == SKIP
            continue
        if line.startswith("```"):
            inside = False
            continue
        if not skip:
            out[i] = _FAST_RE.sub(lambda m: f"{m[1]}{m[2]}{FAST[m[1]]}", line)
    if inside:
        raise ValueError("a ```python block is not closed")
    return "\n".join(out) + "\n"


RUNNABLE = [p for p in _pages() if snippet_source(p.read_text()).strip()]


def test_snippet_extraction():
    page = "text\n```python\nx = fit(p, f, steps=2000, lbfgs_steps=1_000)\n```\n"
    page += f"{SKIP}\n```python\nopen('missing.nc')\n```\n```bash\nls\n```\n"
    source = snippet_source(page)
    assert source.splitlines()[2] == "x = fit(p, f, steps=8, lbfgs_steps=0)"
    assert "missing" not in source and "ls" not in source
    with pytest.raises(ValueError, match="not closed"):
        snippet_source("```python\nx = 1\n")


def test_pages_have_snippets():
    names = {p.relative_to(DOCS).as_posix() for p in RUNNABLE}
    assert {"getting-started.md", "concepts.md", "howto/poisson-helmholtz.md"} <= names


@pytest.mark.parametrize("page", RUNNABLE, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_snippets_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = compile(snippet_source(page.read_text()), str(page), "exec")
    namespace = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    try:
        exec(code, namespace)
    finally:
        plt.close("all")


def _nav_files() -> list[str]:
    # mkdocs.yml's nav entries are ``- Title: path.md`` lines; no YAML parser needed
    text = (ROOT / "mkdocs.yml").read_text()
    nav = text[text.index("\nnav:") :]
    return re.findall(r"^\s*-\s*(?:[^:\n]+:\s*)?([\w./-]+\.md)\s*$", nav, flags=re.MULTILINE)


def test_every_page_is_in_the_nav():
    listed = _nav_files()
    assert len(listed) == len(set(listed)), "a page is listed twice in the nav"
    for name in listed:
        assert (DOCS / name).is_file(), f"mkdocs.yml nav names {name}, which does not exist"
    pages = {p.relative_to(DOCS).as_posix() for p in _pages()}
    assert pages <= set(listed), f"pages missing from the nav: {sorted(pages - set(listed))}"


def test_gallery_lists_every_example():
    gallery = (DOCS / "examples.md").read_text()
    scripts = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.stem.startswith("_"))
    assert scripts
    for script in scripts:
        assert f"python examples/{script.name}" in gallery, f"no gallery command for {script}"
        assert f"out/{script.stem}" in gallery, f"the gallery does not name {script}'s figure"


def test_problem_file_example_loads_in_the_cli(tmp_path):
    """The how-to's problem file is a valid ``fieldpde solve`` problem."""
    import jax

    from fieldpde import Problem
    from fieldpde.app import Settings, load_problem_file

    text = (DOCS / "howto" / "poisson-helmholtz.md").read_text()
    blocks = re.findall(r"^```python\n(# my_helmholtz\.py\n.*?)^```$", text, flags=re.S | re.M)
    assert len(blocks) == 1
    path = tmp_path / "my_helmholtz.py"
    path.write_text(blocks[0])
    loaded = load_problem_file(str(path))
    module = loaded.module
    problem = module.problem(points=64)
    assert isinstance(problem, Problem) and problem.name == "my_helmholtz"
    field = module.field(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    assert float(problem.loss(field, batch)) > 0
    assert isinstance(loaded.settings, Settings) and loaded.settings.lbfgs_steps > 0
