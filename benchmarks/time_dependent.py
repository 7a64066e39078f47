"""Time-dependent PDEs: the diffrax reference solvers, then the space-time PINN problems.

Part 1 (``--reference``) checks the method-of-lines solvers against exact solutions: the
observed order of the finite-difference schemes (slope of log error vs log h), the spectral
error, the solve time, and the self-convergence of the Burgers reference that
``problems/burgers.py`` uses (2048 Fourier modes against 4096).

Part 2 (``--pinn``) runs ``fieldpde solve`` on ``heat``, ``wave`` and ``burgers`` with their
default settings, each in its own process, through ``benchmarks/accuracy.py``; targets:
heat relative L2 <= 1e-4, Burgers <= 5e-4 against the diffrax reference within 600 s.

    python benchmarks/time_dependent.py                 # both parts
    python benchmarks/time_dependent.py --reference
    python benchmarks/time_dependent.py --pinn burgers
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def _order(hs, errors):
    return float(np.polyfit(np.log(hs), np.log(errors), 1)[0])


def reference_table():
    import jax.numpy as jnp

    from fieldpde.reference import advection, burgers, heat, wave

    tight = dict(rtol=1e-11, atol=1e-13)
    nu, a, k = 0.1, 0.5, np.pi

    def cole_hopf(x, t):
        e = a * np.exp(-nu * k**2 * t)
        return 2 * nu * k * e * np.sin(k * x) / (1 + e * np.cos(k * x))

    cases = {
        "heat 1-D dirichlet fd": (
            lambda n: heat(
                lambda x: np.cos(np.pi * x),
                bounds=[(0.0, 1.0)],
                shape=n + 1,
                times=[0.1],
                boundary_value=lambda x, t: jnp.exp(-(jnp.pi**2) * t) * jnp.cos(jnp.pi * x),
                **tight,
            ),
            lambda x, t: np.exp(-(np.pi**2) * t) * np.cos(np.pi * x),
            lambda n: 1.0 / n,
        ),
        "heat 2-D dirichlet fd": (
            lambda n: heat(
                lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y),
                bounds=[(0.0, 1.0), (0.0, 1.0)],
                shape=n + 1,
                times=[0.05],
                **tight,
            ),
            lambda x, y, t: np.exp(-2 * np.pi**2 * t) * np.sin(np.pi * x) * np.sin(np.pi * y),
            lambda n: 1.0 / n,
        ),
        "advection periodic fd": (
            lambda n: advection(
                lambda x: np.sin(2 * np.pi * x), bounds=[(0.0, 1.0)], shape=n, times=[1.0], **tight
            ),
            lambda x, t: np.sin(2 * np.pi * (x - t)),
            lambda n: 1.0 / n,
        ),
        "burgers periodic fd": (
            lambda n: burgers(
                lambda x: cole_hopf(x, 0.0),
                bounds=[(-1.0, 1.0)],
                shape=n,
                times=[0.5],
                viscosity=nu,
                boundary="periodic",
                **tight,
            ),
            cole_hopf,
            lambda n: 2.0 / n,
        ),
        "burgers dirichlet fd": (
            lambda n: burgers(
                lambda x: cole_hopf(x, 0.0),
                bounds=[(-1.0, 1.0)],
                shape=n + 1,
                times=[0.5],
                viscosity=nu,
                **tight,
            ),
            cole_hopf,
            lambda n: 2.0 / n,
        ),
        "wave dirichlet fd": (
            lambda n: wave(
                lambda x: np.sin(np.pi * x), bounds=[(0.0, 1.0)], shape=n + 1, times=[1.5], **tight
            ),
            lambda x, t: np.sin(np.pi * x) * np.cos(np.pi * t),
            lambda n: 1.0 / n,
        ),
    }
    print(f"{'solver':24s} {'N':>5} {'max error':>10} {'order':>6} {'wall s':>7}")
    for name, (solve, exact, spacing) in cases.items():
        hs, errs = [], []
        for n in (16, 32, 64, 128) if "2-D" not in name else (8, 16, 32):
            t0 = time.perf_counter()
            ds = solve(n)
            wall = time.perf_counter() - t0
            mesh = np.meshgrid(*[ds[d].values for d in ds.u.dims[1:]], indexing="ij")
            err = float(np.max(np.abs(ds.u.values[-1] - exact(*mesh, float(ds.time[-1])))))
            hs.append(spacing(n))
            errs.append(err)
            order = f"{_order(hs[-2:], errs[-2:]):6.2f}" if len(hs) > 1 else " " * 6
            print(f"{name:24s} {n:5d} {err:10.2e} {order} {wall:7.2f}")
        print(f"{name:24s} fitted order {_order(hs, errs):.2f} (expected 2)")
    spectral = {
        "advection spectral N=16": lambda: advection(
            lambda x: np.sin(2 * np.pi * x),
            bounds=[(0.0, 1.0)],
            shape=16,
            times=[1.0],
            method="spectral",
            **tight,
        ),
        "burgers spectral N=64": lambda: burgers(
            lambda x: cole_hopf(x, 0.0),
            bounds=[(-1.0, 1.0)],
            shape=64,
            times=[0.5],
            viscosity=nu,
            boundary="periodic",
            method="spectral",
            **tight,
        ),
    }
    exact_of = {
        "advection spectral N=16": lambda x, t: np.sin(2 * np.pi * (x - t)),
        "burgers spectral N=64": cole_hopf,
    }
    for name, solve in spectral.items():
        t0 = time.perf_counter()
        ds = solve()
        wall = time.perf_counter() - t0
        err = np.max(np.abs(ds.u.values[-1] - exact_of[name](ds.x.values, float(ds.time[-1]))))
        print(f"{name:24s} {'':5s} {err:10.2e} {'':6s} {wall:7.2f}")

    # the Burgers reference of problems/burgers.py against a finer solve
    nu_b = 0.01 / np.pi
    times = np.linspace(0.0, 1.0, 101)
    sols = {}
    for modes in (1024, 2048, 4096):
        t0 = time.perf_counter()
        ds = burgers(
            lambda x: -np.sin(np.pi * x),
            bounds=[(-1.0, 1.0)],
            shape=modes,
            times=times,
            viscosity=nu_b,
            boundary="periodic",
            method="spectral",
            rtol=1e-10,
            atol=1e-12,
        )
        sols[modes] = (ds.u.values[:, :: modes // 1024], time.perf_counter() - t0)
    best = sols[4096][0]
    for modes in (1024, 2048):
        u, wall = sols[modes]
        rel = np.linalg.norm(u - best) / np.linalg.norm(best)
        print(
            f"burgers reference (nu=0.01/pi) {modes} modes vs 4096: relative L2 {rel:.2e}, "
            f"solve {wall:.1f} s"
        )


def pinn_table(cases):
    subprocess.run([sys.executable, os.path.join(HERE, "accuracy.py"), *cases], check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", action="store_true", help="only the reference solvers")
    parser.add_argument("--pinn", nargs="*", help="only these PINN problems (default: all)")
    args = parser.parse_args()
    both = not args.reference and args.pinn is None
    if args.reference or both:
        reference_table()
    if args.pinn is not None or both:
        pinn_table(args.pinn or ["heat", "wave", "burgers"])


if __name__ == "__main__":
    main()
