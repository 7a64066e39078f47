"""Wall time of ``fieldpde --help``, ``--version``, ``solve --help`` and an argument error.

Each command runs in a fresh process (as a user's shell runs it) several times; the table
gives the median. The command line imports JAX only once the arguments are parsed, so these
answers do not pay JAX's import (the last row, ``python -c "import jax"``, for scale).

    python benchmarks/cli_startup.py [--repeat 7]
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

FIELDPDE = [sys.executable, "-m", "fieldpde.cli"]
ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    cases = {
        "fieldpde --help": [*FIELDPDE, "--help"],
        "fieldpde --version": [*FIELDPDE, "--version"],
        "fieldpde solve --help": [*FIELDPDE, "solve", "--help"],
        "fieldpde solve --points 0 (usage error)": [*FIELDPDE, "solve", "--points", "0"],
        'python -c "import jax" (for scale)': [sys.executable, "-c", "import jax"],
    }
    machine = platform.processor() or platform.machine()
    print(f"{machine}; {os.cpu_count()} cores; median of {args.repeat}")
    print("| command | wall time s |\n|---|---|")
    for name, cmd in cases.items():
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            subprocess.run(cmd, capture_output=True, cwd=ROOT)
            times.append(time.perf_counter() - t0)
        print(f"| `{name}` | {statistics.median(times):.3f} |")


if __name__ == "__main__":
    main()
