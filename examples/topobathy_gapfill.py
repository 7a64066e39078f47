"""Gap filling a real grid with and without a Laplace prior, and its uncertainty map.

The grid is matplotlib's sample ``topobathy.npz`` (topography and bathymetry of the coast
of British Columbia, 91 x 120 cells of 1/60 degree, in metres; it ships with matplotlib, so
nothing is downloaded), every second cell in each direction. An 8 x 8 block is removed,
and `fieldpde.io.fit_xarray` fills it three ways:

- from the data alone (`SETTINGS`: a 64x3 SIREN, 1000 steps);
- with a Laplace smoothness prior, ``constraints=[laplace_prior(gappy, WEIGHT)]``: a
  `GridPDE` whose residual is $h^2\\Delta u / s$ ($h$ the grid spacing in degrees, $s$ the
  data's std), a dimensionless second difference, on the grid's own (lat, lon) box;
- as a 16-member ensemble (one vmapped program), its spread calibrated on a random tenth
  of the cells held out of its fit (``calibrate=0.1``), whose mean, standard deviation and
  5%/95% quantiles are written to netCDF with CF metadata (``ancillary_variables``, the
  ``standard_error`` standard-name modifier).

    python examples/topobathy_gapfill.py [--steps 1000] [--members 16] [--out out]

The block's RMSE of each fit is printed; `benchmarks/gapfill.py` compares these fits with
verde's Spline and a Gaussian process on more held-out cells.
"""

import argparse
from pathlib import Path

import numpy as np

BLOCK = (slice(20, 28), slice(30, 38))
# the data-only fit; examples/geo_gapfill.py's 128x4 SIREN and 2000 steps overfit this rough
# grid (benchmarks/gapfill.py: held-out RMSE 297 m against 210 m for these, seed 0)
SETTINGS = dict(width=64, depth=3, omega=10.0, steps=1000, points=2048)
# the Laplace prior's weight for this gap: over seeds 0-2 the block's RMSE is 175, 174 and
# 174 m with it against 240, 279 and 403 m from the data alone. A big gap wants a strong
# prior; benchmarks/gapfill.py, which also holds out scattered cells, uses a weaker one
# with a wider SIREN (its LAPLACE), which fits the cells near data more closely
WEIGHT = 1.0


def topobathy():
    """The grid as an `xarray.DataArray` (lat, lon), every second cell."""
    import xarray as xr
    from matplotlib import cbook

    data = cbook.get_sample_data("topobathy.npz")
    return xr.DataArray(
        np.asarray(data["topo"], dtype=np.float64)[::2, ::2],
        dims=("lat", "lon"),
        coords={
            "lat": ("lat", np.asarray(data["latitude"], float)[::2], {"units": "degrees_north"}),
            "lon": ("lon", np.asarray(data["longitude"], float)[::2], {"units": "degrees_east"}),
        },
        name="topo",
        attrs={"units": "m", "long_name": "topography and bathymetry", "standard_name": "height"},
    )


def laplace_prior(data, weight: float, num_points: int = 256):
    """A Laplace smoothness prior on `data`'s grid: the residual $h^2\\Delta u / s$.

    $h$ is the mean grid spacing over `data`'s dimensions and $s$ the std of its finite
    values, so the residual is the dimensionless second difference (the curvature energy
    a biharmonic spline minimises), and `weight` means the same on any grid.
    """
    from fieldpde.io import GridPDE

    h = float(np.mean([np.abs(np.diff(data[d].values)).mean() for d in data.dims]))
    s = float(data.std())
    return GridPDE(lambda c, d: d.laplacian * (h**2 / s), num_points=num_points, weight=weight)


def main(steps: int = 1000, members: int = 16, width: int = 64, out: str = "out") -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fieldpde.app import write_netcdf
    from fieldpde.bayes import score_xarray
    from fieldpde.io import fit_xarray

    truth = topobathy()
    block = np.zeros(truth.shape, dtype=bool)
    block[BLOCK] = True
    gappy = truth.where(~block)
    kw = dict(SETTINGS, steps=steps, width=width, progress=False)
    laplace = laplace_prior(gappy, WEIGHT)
    fits = {
        "data only": fit_xarray(gappy, **kw).predict(),
        "Laplace prior": fit_xarray(gappy, constraints=[laplace], **kw).predict(),
    }
    ensemble = fit_xarray(gappy, ensemble_size=members, calibrate=0.1, **kw)
    maps = ensemble.predict(quantiles=(0.05, 0.95))
    fits["ensemble mean"] = maps["topo"]
    rmse = {
        k: float(np.sqrt(np.mean((v.values - truth.values)[block] ** 2))) for k, v in fits.items()
    }
    scores = score_xarray(maps, truth, where=block, level=0.9)
    outdir = Path(out)
    outdir.mkdir(parents=True, exist_ok=True)
    nc = write_netcdf(maps, outdir / "topobathy_gapfill.nc")
    print(", ".join(f"{k}: block RMSE {v:.1f} m" for k, v in rmse.items()))
    print(
        f"ensemble of {members} (spread scaled by "
        f"{ensemble.source.training['calibration']['spread'][0]:.2f}): 90% coverage of the "
        f"block {float(scores['coverage'][0]):.2f}, CRPS {float(scores['crps'][0]):.1f} m; "
        f"wrote {nc}"
    )

    fig, axes = plt.subplots(1, 5, figsize=(22, 4))
    panels = [("truth", truth), ("data (block removed)", gappy)]
    panels += [(k, fits[k]) for k in ("data only", "Laplace prior")]
    lo, hi = float(truth.min()), float(truth.max())
    for ax, (title, img) in zip(axes[:4], panels, strict=True):
        img.plot(ax=ax, cmap="terrain", vmin=lo, vmax=hi)
        ax.set_title(title)
    maps["topo_std"].plot(ax=axes[4], cmap="magma")
    axes[4].set_title(f"ensemble std ({members} members)")
    for ax in axes:
        ax.add_patch(
            matplotlib.patches.Rectangle(
                (float(truth.lon[BLOCK[1].start]), float(truth.lat[BLOCK[0].start])),
                float(truth.lon[BLOCK[1].stop - 1] - truth.lon[BLOCK[1].start]),
                float(truth.lat[BLOCK[0].stop - 1] - truth.lat[BLOCK[0].start]),
                fill=False,
                ec="k",
                lw=1.0,
            )
        )
    fig.tight_layout()
    png = outdir / "topobathy_gapfill.png"
    fig.savefig(png, dpi=90)
    plt.close(fig)
    print(f"figure: {png}")
    return {"rmse": rmse, "coverage90": float(scores["coverage"][0])}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--members", type=int, default=16)
    parser.add_argument("--out", default="out")
    args = parser.parse_args()
    main(steps=args.steps, members=args.members, out=args.out)
