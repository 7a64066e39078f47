"""PINNacle's cases with the default recipe, scored at the COMSOL nodes (not run by pytest).

Each case is a problem file in ``problems/`` that states only the physics (PDE, domain,
boundary data, the COMSOL reference); `fieldpde solve` chooses the network, the hard
enforcement, the scaling, the points and the training. The error is PINNacle's L2RE,
||u - u_ref|| / ||u_ref|| over the reference's nodes (Hao et al., NeurIPS 2024; the
published figures are those transcribed in ``shared/pinnacle/README.md``: a 100x5 tanh
network, 20 000 Adam steps, GPU). Each run is its own process, as in ``accuracy.py``.

    python benchmarks/pinnacle.py                    # all three, seed 0
    python benchmarks/pinnacle.py --seeds 0 1 2 poisson_2d_c

Burgers 1d-C's COMSOL nodes are themselves about 1.3e-2 from the solution (they differ
from a 2048-mode Fourier spectral one, `fieldpde.reference.burgers` as ``problems/burgers.py``
uses it, by that much), so the table also gives the trained field's error against that
spectral solution, on a 257 x 101 grid and at the COMSOL nodes.
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import run_cases  # noqa: E402

# name: (PINNacle case, vanilla PINN L2RE, best method L2RE and its name)
PUBLISHED = {
    "poisson_2d_c": ("Poisson 2d-C", None, (1.23e-2, "NTK")),
    "poisson_boltzmann_2d": ("Poisson 2d-CG", None, (1.43e-2, "NTK")),
    "burgers_1d_c": ("Burgers 1d-C", 1.45e-2, (1.45e-2, "best")),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", default=list(PUBLISHED))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    args = parser.parse_args()
    unknown = sorted(set(args.cases) - set(PUBLISHED))
    if unknown:
        parser.error(f"unknown cases {unknown}; choose from {list(PUBLISHED)}")
    rows = run_cases(args.cases, args.seeds)
    print(
        "\n| case | fieldpde L2RE (median) | seeds | PINNacle vanilla | PINNacle best "
        "| best / fieldpde | wall s (max) | CPU s (max) |\n|---|---|---|---|---|---|---|---|"
    )
    for name in args.cases:
        mine = [r for r in rows if r["name"] == name]
        if not mine:
            continue
        case, vanilla, (best, method) = PUBLISHED[name]
        median = statistics.median(r["value"] for r in mine)
        each = ", ".join(f"{r['value']:.2e}" for r in mine)
        van = "-" if vanilla is None else f"{vanilla:.2e}"
        wall = max(r["wall_s"] for r in mine)
        cpu = max(r["cpu_s"] for r in mine)
        print(
            f"| {case} | {median:.2e} | {each} | {van} | {best:.2e} ({method}) "
            f"| {best / median:.1f}x | {wall:.0f} | {cpu:.0f} |"
        )
    saved = Path("out/benchmarks/burgers_1d_c.eqx")
    if "burgers_1d_c" in args.cases and saved.exists():
        burgers_against_spectral(saved)


def burgers_against_spectral(saved: Path) -> None:
    """The COMSOL nodes' and the trained field's errors against the spectral solution."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    from fieldpde.app import load_problem_file, load_solution

    spectral = load_problem_file("burgers").problem().reference
    nodes = load_problem_file("burgers_1d_c").problem().reference
    field, _ = load_solution(saved)
    x = jnp.asarray(nodes.points)
    at_nodes = np.asarray(spectral(x)).ravel()
    comsol = np.asarray(nodes.values).ravel()
    xs, ts = np.meshgrid(np.linspace(-1, 1, 257), np.linspace(0, 1, 101), indexing="ij")
    grid = jnp.asarray(np.stack([xs.ravel(), ts.ravel()], -1))

    def rel(a, b):
        return float(np.linalg.norm(np.ravel(a) - np.ravel(b)) / np.linalg.norm(np.ravel(b)))

    print(
        "\nBurgers 1d-C against a 2048-mode spectral solution: COMSOL nodes "
        f"{rel(comsol, at_nodes):.2e}; fieldpde at the nodes {rel(field(x), at_nodes):.2e}, "
        f"on a 257 x 101 grid {rel(field(grid), spectral(grid)):.2e}"
    )


if __name__ == "__main__":
    main()
