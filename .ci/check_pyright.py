"""Run pyright on the package and fail on any file with more errors than its baseline.

The package predates type checking in CI and still has pyright errors, most of them false
positives of equinox's abstract variables and jaxtyping's shape strings; the baseline
(``.ci/pyright_baseline.json``, errors per file) keeps them from growing: a change may
remove errors, never add them. ``--update`` rewrites the baseline (after removing errors).

    python .ci/check_pyright.py [--update]
"""

import collections
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / ".ci" / "pyright_baseline.json"


def counts() -> dict[str, int]:
    proc = subprocess.run(
        [sys.executable, "-m", "pyright", "--pythonpath", sys.executable, "--outputjson", "fieldpde"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        sys.exit(f"pyright did not run:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    found: collections.Counter[str] = collections.Counter()
    for diag in report["generalDiagnostics"]:
        if diag["severity"] == "error":
            found[str(Path(diag["file"]).resolve().relative_to(ROOT))] += 1
    return dict(sorted(found.items()))


def main() -> int:
    now = counts()
    if "--update" in sys.argv:
        BASELINE.write_text(json.dumps(now, indent=1) + "\n")
        print(f"baseline: {sum(now.values())} errors in {len(now)} files")
        return 0
    base = json.loads(BASELINE.read_text())
    worse = {f: (base.get(f, 0), n) for f, n in now.items() if n > base.get(f, 0)}
    print(f"pyright: {sum(now.values())} errors (baseline {sum(base.values())})")
    for f, (was, n) in worse.items():
        print(f"  {f}: {n} errors, baseline {was}")
    return 1 if worse else 0


if __name__ == "__main__":
    raise SystemExit(main())
