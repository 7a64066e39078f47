"""fieldpde.io: fit xarray objects, predict with metadata intact, save/load, CLI."""

import os
import subprocess
import sys
import zipfile

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

from fieldpde.constraints import MaskedObservations
from fieldpde.io import AxisEncoding, FittedField, GridPDE, fit_xarray, load_field, refine

# small, smooth problems: omega ~ 3-5 resolves them in a few hundred steps
FAST = dict(width=32, depth=3, omega=4.0, hidden_omega=30.0, steps=1000, progress=False)


def smooth(lat, lon):
    return 15.0 + 10.0 * np.cos(np.deg2rad(lat)) + 2.0 * np.sin(np.deg2rad(lon))


def sst_dataarray(lat, lon, dtype=np.float32):
    LA, LO = np.meshgrid(lat, lon, indexing="ij")
    return xr.DataArray(
        smooth(LA, LO).astype(dtype),
        dims=("lat", "lon"),
        coords={
            "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
            "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"}),
        },
        name="sst",
        attrs={
            "units": "degC",
            "long_name": "sea surface temperature",
            "standard_name": "sea_surface_temperature",
            "valid_range": np.array([-5.0, 40.0], dtype=np.float32),
            "scale": np.float32(0.5),
        },
    )


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a, float) - np.asarray(b, float)) ** 2)))


def assert_same_metadata(out, ref):
    """Dims, order, coords (values and dtype), attrs, name and dtype are exactly those of ref."""
    assert type(out) is type(ref)
    assert list(out.sizes.items()) == list(ref.sizes.items())
    assert set(out.coords) == set(ref.coords)
    for c in ref.coords:
        assert out.coords[c].identical(ref.coords[c]), c
        assert out.coords[c].dtype == ref.coords[c].dtype
    assert out.attrs.keys() == ref.attrs.keys()
    for k, v in ref.attrs.items():
        assert type(out.attrs[k]) is type(v) and np.array_equal(out.attrs[k], v), k
    if isinstance(ref, xr.DataArray):
        assert out.name == ref.name and out.dtype == ref.dtype and out.shape == ref.shape
    else:
        assert list(out.data_vars) == list(ref.data_vars)
        for v in ref.data_vars:
            assert_same_metadata(out[v], ref[v])


@pytest.fixture(scope="module")
def grid_field():
    lat = np.linspace(60.0, -60.0, 13)  # descending, as many products store latitude
    lon = np.arange(0.0, 360.0, 15.0)  # global 0-360: periodic by default
    da = sst_dataarray(lat, lon)
    da = da.assign_coords(depth=np.float32(5.0))  # a scalar coordinate travels too
    return da, fit_xarray(da, **FAST)


def test_round_trip_keeps_metadata_and_fits(grid_field):
    da, field = grid_field
    out = field.predict()
    assert_same_metadata(out, da)
    # the field reproduces smooth data to ~0.2% of its 20 degC range
    assert rmse(out, da) < 0.05
    kinds = {a.name: a.kind for a in field.source.axes}
    assert kinds == {"lat": "linear", "lon": "periodic"}


def test_descending_latitude_and_new_coordinates(grid_field):
    da, field = grid_field
    lat = np.array([-50.0, -12.5, 0.0, 37.5, 55.0])  # ascending, between training rows
    out = field.predict(lat=lat)
    assert out.dims == ("lat", "lon") and np.array_equal(out["lat"], lat)
    assert out["lat"].attrs == da["lat"].attrs
    expected = smooth(lat[:, None], da["lon"].values[None, :])
    assert rmse(out, expected) < 0.08
    # `like` takes another object's coordinates; keywords override them
    like = xr.Dataset(coords={"lat": ("lat", lat, {"note": "like"}), "lon": [10.0, 20.0]})
    out2 = field.predict(like, lon=[0.0, 90.0])
    assert out2["lat"].attrs == {"note": "like"} and out2["lon"].values.tolist() == [0.0, 90.0]
    np.testing.assert_allclose(out2.isel(lon=0), out.isel(lon=0), rtol=1e-6)


def test_longitude_conventions_and_periodicity(grid_field):
    _, field = grid_field
    a = field.predict(lon=np.array([0.0, 360.0, -180.0, 180.0, 540.0]))
    # 0 and 360, -180 and 180 (and 540) are one input of the cyclic encoding
    np.testing.assert_allclose(a.isel(lon=0), a.isel(lon=1), atol=1e-5)
    np.testing.assert_allclose(a.isel(lon=2), a.isel(lon=3), atol=1e-5)
    np.testing.assert_allclose(a.isel(lon=3), a.isel(lon=4), atol=1e-5)
    # data stored -180..180 give the same field where the conventions overlap
    lat = np.linspace(60.0, -60.0, 13)
    lon180 = np.arange(-180.0, 180.0, 15.0)
    field180 = fit_xarray(sst_dataarray(lat, lon180), **FAST)
    assert field180.source.axes[1].kind == "periodic"
    b = field180.predict(lon=np.array([0.0, 90.0, 180.0, 270.0]))
    c = field.predict(lon=np.array([0.0, 90.0, 180.0, -90.0]))
    np.testing.assert_allclose(b, c, atol=0.1)  # two fits, each within ~0.05 of the truth
    # a regional longitude is not periodic by default, and the option can turn it off
    regional = sst_dataarray(lat, np.linspace(-40.0, 20.0, 9))
    enc = fit_xarray(regional, **{**FAST, "steps": 0}).source.axes[1]
    assert enc.kind == "linear" and (enc.lo, enc.hi) == (-40.0, 20.0)
    off = fit_xarray(sst_dataarray(lat, lon180), periodic=None, **{**FAST, "steps": 0})
    assert off.source.axes[1].kind == "linear"


def test_axis_encoding_maps_to_unit_interval():
    desc = np.array([30.0, 10.0, 0.0, -30.0])
    enc = AxisEncoding("lat", "linear", -30.0, 30.0)
    assert enc.encode(desc)[:, 0].tolist() == [1.0, 1.0 / 3.0, 0.0, -1.0]
    t = np.array(["2020-01-01", "2020-01-03"], dtype="datetime64[ns]")
    from fieldpde.io._coords import axis_encoding

    tenc = axis_encoding("time", t, {}, None)
    assert tenc.kind == "time"
    mid = np.array(["2020-01-02"], dtype="datetime64[ns]")
    assert tenc.encode(np.concatenate([t, mid]))[:, 0].tolist() == [-1.0, 1.0, 0.0]
    p = AxisEncoding("lon", "periodic", 0.0, 350.0, 360.0, 0.0).encode(np.array([90.0]))
    np.testing.assert_allclose(p, [[0.0, 1.0]], atol=1e-15)


def test_non_uniform_coordinate():
    depth = np.round(1.35 ** np.arange(16) - 1.0, 6)  # geometric spacing, 0 to 89 m
    profile = 4.0 + 20.0 * np.exp(-depth / 40.0)
    da = xr.DataArray(profile, dims="depth", coords={"depth": depth}, name="temp")
    field = fit_xarray(da, **{**FAST, "omega": 3.0})
    assert field.source.axes[0].lo == 0.0 and field.source.axes[0].hi == depth[-1]
    out = field.predict()
    assert out.dtype == np.float64 and rmse(out, profile) < 0.05
    new = (depth[1:] + depth[:-1]) / 2  # halfway between levels, 0.2 to 15 m apart
    exact = 4.0 + 20.0 * np.exp(-new / 40.0)
    # linear interpolation errs by 0.05 here (h^2 f''/8 in the widest, 25 m gap); the
    # field is within 3x of that: < 0.15 degC, 0.75% of the 20 degC range
    assert rmse(field.predict(depth=new), exact) < 0.15


def test_time_axis_and_3d_cube():
    time = np.array(["2021-01-01", "2021-01-11", "2021-01-21", "2021-01-31"], "datetime64[ns]")
    lat = np.linspace(-40.0, 40.0, 9)
    lon = np.linspace(100.0, 160.0, 10)
    days = (time - time[0]) / np.timedelta64(1, "D")
    T, LA, LO = np.meshgrid(days, lat, lon, indexing="ij")
    values = smooth(LA, LO) + 0.1 * T
    cube = xr.DataArray(
        values.astype(np.float32),
        dims=("time", "lat", "lon"),
        coords={"time": time, "lat": lat, "lon": lon},
        name="sst",
    )
    field = fit_xarray(cube, **FAST)
    assert [a.kind for a in field.source.axes] == ["time", "linear", "linear"]
    out = field.predict()
    assert_same_metadata(out, cube)
    assert rmse(out, values) < 0.1
    # a time between samples (day 15) continues the linear trend
    mid = field.predict(time=np.array(["2021-01-16"], dtype="datetime64[ns]"))
    assert mid.time.dtype == np.dtype("datetime64[ns]") and mid.shape == (1, 9, 10)
    assert rmse(mid.isel(time=0), smooth(LA[0], LO[0]) + 1.5) < 0.15
    with pytest.raises(TypeError, match="must be datetime64"):
        field.predict(time=np.array([1.0 + 0.5j]))


def test_nan_cells_never_enter_the_loss():
    lat = np.linspace(-50.0, 50.0, 11)
    lon = np.linspace(0.0, 90.0, 10)
    da = sst_dataarray(lat, lon, dtype=np.float64)
    gappy = da.copy()
    gappy[4, :] = np.nan  # a whole latitude row of land
    # resolution_init scales weights by the grid shape, which differs by the dropped row
    kw = {**FAST, "steps": 50, "points": 64, "resolution_init": False}
    with_nan = fit_xarray(gappy, **kw)
    # the same cells with the row removed: the same encoding, the same cells in the same
    # order, so training must be identical if and only if the NaN row plays no part
    dropped = fit_xarray(gappy.drop_isel(lat=4), **kw)
    assert with_nan.source.training["cells"] == 100
    for a, b in zip(jax.tree.leaves(with_nan.net), jax.tree.leaves(dropped.net), strict=True):
        np.testing.assert_array_equal(a, b)
    out = with_nan.predict()
    assert bool(np.isfinite(out).all())  # predictions at the masked cells are finite
    # standardisation uses the finite cells only
    assert with_nan.source.mean[0] == pytest.approx(float(gappy.mean()), rel=1e-12)


@pytest.mark.x64
def test_masked_observations_loss_is_per_variable_mean():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (6, 2))
    values = rng.normal(size=(6, 2))
    mask = np.array([[1, 1], [1, 0], [0, 1], [1, 1], [1, 0], [1, 1]], dtype=bool)
    obs = MaskedObservations(x, np.where(mask, values, np.nan), mask, dtype=jnp.float64)

    def field(p):
        return jnp.stack([p[..., 0] ** 2, jnp.sin(p[..., 1])], axis=-1)

    loss = float(obs.loss(field, obs.sample(jax.random.key(0))))
    pred = np.asarray(field(x))
    expected = sum(np.mean((pred[mask[:, j], j] - values[mask[:, j], j]) ** 2) for j in range(2))
    assert loss == pytest.approx(expected, rel=1e-12)


def test_dataset_with_different_masks():
    lat = np.linspace(-50.0, 50.0, 11)
    lon = np.linspace(0.0, 90.0, 10)
    a = sst_dataarray(lat, lon, dtype=np.float64)
    b = (a * 0.5 - 3.0).astype(np.float32)
    b[2:5, 3:6] = np.nan  # clouds in one variable only
    b.attrs = {"units": "mg m-3", "long_name": "chlorophyll"}
    ds = xr.Dataset({"sst": a, "chl": b}, attrs={"title": "two variables", "version": 2})
    field = fit_xarray(ds, **{**FAST, "steps": 500})
    assert isinstance(field, FittedField) and field.source.variables == ("sst", "chl")
    out = field.predict()
    assert_same_metadata(out, ds)
    assert out["chl"].dtype == np.float32 and out["sst"].dtype == np.float64
    assert rmse(out["sst"], a) < 0.1
    hidden = np.isnan(b.values)
    assert np.isfinite(out["chl"].values).all()
    # the clouded cells are predicted from the rest (smooth data: close to the truth)
    assert rmse(out["chl"].values[hidden], (a * 0.5 - 3.0).values[hidden]) < 0.2


def test_save_load_bit_identical(grid_field, tmp_path):
    da, field = grid_field
    path = tmp_path / "sst.field"
    field.save(path)
    back = load_field(path)
    assert back.source.axes == field.source.axes
    for kw in ({}, {"lat": np.linspace(-60, 60, 37), "lon": refine(da["lon"].values, 4)}):
        p, q = field.predict(**kw), back.predict(**kw)
        assert p.identical(q)
        assert np.array_equal(p.values.view(np.uint32), q.values.view(np.uint32))
    assert_same_metadata(back.predict(), da)


def test_ensemble_mean_std(tmp_path):
    x = np.linspace(0.0, 1.0, 12)
    da = xr.DataArray(np.sin(3 * x), dims="x", coords={"x": x}, name="u", attrs={"units": "m"})
    field = fit_xarray(da, ensemble_size=3, **{**FAST, "steps": 100})
    out = field.predict()
    assert isinstance(out, xr.Dataset) and list(out.data_vars) == ["u", "u_std"]
    members = np.stack(
        [
            np.asarray(jax.tree.map(lambda a, i=i: a[i], field.net)(field.encode(x=x)))[:, 0]
            for i in range(3)
        ]
    )
    members = members * field.source.std[0] + field.source.mean[0]
    np.testing.assert_allclose(out["u"], members.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["u_std"], members.std(0, ddof=1), rtol=1e-4, atol=1e-6)
    assert float(out["u_std"].min()) > 0
    assert out["u"].attrs == {"units": "m", "ancillary_variables": "u_std"}
    field.save(tmp_path / "e.field")
    assert load_field(tmp_path / "e.field").predict().identical(out)
    # the members' quantiles and the members themselves, from the same evaluation
    full = field.predict(quantiles=[0.1, 0.5, 0.9], members=True)
    np.testing.assert_allclose(full["u_member"], members, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        full["u_quantile"], np.quantile(members, [0.1, 0.5, 0.9], axis=0), rtol=1e-5, atol=1e-6
    )
    assert full["u_quantile"].dims == ("quantile", "x") and full["u_member"].dims[0] == "member"
    assert full["quantile"].values.tolist() == [0.1, 0.5, 0.9]
    assert full["u"].attrs["ancillary_variables"] == "u_std u_quantile u_member"


def test_calibrated_ensemble_scales_the_spread_by_the_held_out_errors(tmp_path):
    import dataclasses

    from fieldpde.io._fit import _spread

    x = np.linspace(0.0, 1.0, 60)
    da = xr.DataArray(np.sin(6 * x), dims="x", coords={"x": x}, name="u", attrs={"units": "m"})
    field = fit_xarray(da, ensemble_size=4, calibrate=0.2, **{**FAST, "steps": 100})
    cal = field.source.training["calibration"]
    assert cal["cells"] == [12] and field.source.training["cells"] == 48  # held out, unfitted
    (c,) = field.source.spread
    assert cal["spread"] == [c] and c > 0
    # the same members uncalibrated: the std scales by c, the mean is unchanged
    raw = FittedField(field.net, dataclasses.replace(field.source, spread=None))
    out, plain = field.predict(members=True), raw.predict(members=True)
    np.testing.assert_allclose(out["u"], plain["u"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out["u_std"], c * plain["u_std"], rtol=1e-10)
    mean, member = plain["u"].values, plain["u_member"].values  # (x), (member, x)
    np.testing.assert_allclose(out["u_member"].values, mean + c * (member - mean), rtol=1e-10)
    # the uncertainty variables say they are calibrated, and by how much
    assert out["u_std"].attrs["long_name"] == "ensemble standard deviation of u (calibrated)"
    assert f"{c:.6g}" in out["u_member"].attrs["comment"]
    assert "comment" not in plain["u_std"].attrs
    assert plain["u_std"].attrs["long_name"] == "ensemble standard deviation of u"
    # _spread: the rms of the standardised errors (here over every cell)
    z = (da.values - plain["u"].values) / plain["u_std"].values
    members = plain["u_member"].values[:, :, None]
    np.testing.assert_allclose(
        _spread(members, da.values[:, None]), [np.sqrt(np.mean(z**2))], rtol=1e-10
    )
    field.save(tmp_path / "c.field")
    assert load_field(tmp_path / "c.field").source.spread == field.source.spread


def test_calibration_is_per_variable_over_each_ones_finite_cells():
    x = np.linspace(0.0, 1.0, 120)
    a = np.sin(3 * x)
    b = np.where(x < 0.5, np.cos(5 * x), np.nan)  # half the cells missing
    ds = xr.Dataset({"a": ("x", a), "b": ("x", b)}, coords={"x": x})
    field = fit_xarray(ds, ensemble_size=3, calibrate=0.25, **{**FAST, "steps": 50})
    cal = field.source.training["calibration"]
    held_a, held_b = cal["cells"]
    assert held_a == 30 and 10 <= held_b < held_a and len(field.source.spread) == 2
    out = field.predict()
    assert bool(out["b"].isnull().sum() == 0) and set(out.data_vars) >= {"a_std", "b_std"}
    with pytest.raises(ValueError, match="holds out .* of variable 'b'"):
        short = ds.assign(b=("x", np.where(x < 0.1, b, np.nan)))
        fit_xarray(short, ensemble_size=2, calibrate=0.25, width=8, depth=2, steps=1,
                   progress=False)  # fmt: skip


def test_spread_estimate_recovers_a_known_miscalibration():
    from fieldpde.io._fit import _spread

    rng = np.random.default_rng(0)
    # members with std s around 0; the truth drawn with std 3 s: c = 3 to ~ 1/sqrt(2n)
    n, s = 20000, rng.uniform(0.5, 2.0, size=(20000, 1))
    members = rng.standard_normal((64, n, 1))
    members = (members - members.mean(0)) / members.std(0, ddof=1) * s
    truth = 3.0 * s * rng.standard_normal((n, 1))
    (c,) = _spread(members, truth)
    assert abs(c - 3.0) < 3 * 3.0 / np.sqrt(2 * n)


def test_calibrate_errors():
    x = np.linspace(0.0, 1.0, 30)
    da = xr.DataArray(np.sin(3 * x), dims="x", coords={"x": x}, name="u")
    kw = dict(width=8, depth=2, steps=1, progress=False)
    with pytest.raises(ValueError, match="`calibrate` scales an ensemble's spread"):
        fit_xarray(da, calibrate=0.1, **kw)
    with pytest.raises(ValueError, match=r"`calibrate` is the fraction .* in \(0, 0.5\)"):
        fit_xarray(da, ensemble_size=2, calibrate=0.7, **kw)
    with pytest.raises(ValueError, match="`calibrate`"):
        fit_xarray(da, ensemble_size=2, calibrate=-0.1, **kw)
    with pytest.raises(ValueError, match="holds out 3 finite cell"):
        fit_xarray(da, ensemble_size=2, calibrate=0.1, **kw)


def test_ensemble_uncertainty_carries_cf_metadata(grid_field, tmp_path):
    da = grid_field[0]
    da = da.where(da.lat < 40.0)  # cells to mask again in every output
    field = fit_xarray(da, ensemble_size=2, width=8, depth=2, steps=5, progress=False)
    out = field.predict(quantiles=(0.05, 0.95), keep_mask=True)
    path = tmp_path / "u.nc"
    out.to_netcdf(path)
    with xr.open_dataset(path) as back:
        sst, std, q = back["sst"], back["sst_std"], back["sst_quantile"]
        assert sst.attrs["ancillary_variables"] == "sst_std sst_quantile"
        assert sst.attrs["standard_name"] == "sea_surface_temperature"
        # CF standard-name modifier: "<standard_name> standard_error", same units
        assert std.attrs["standard_name"] == "sea_surface_temperature standard_error"
        assert std.attrs["units"] == q.attrs["units"] == "degC"
        assert std.attrs["long_name"] == "ensemble standard deviation of sea surface temperature"
        assert q.attrs["standard_name"] == "sea_surface_temperature"
        assert "valid_range" not in std.attrs  # a spread has no valid range of the values
        # the source mask applies to every uncertainty variable
        assert bool((std.isnull() == da.isnull()).all())
        assert bool((q.isnull() == da.isnull()).all(("lat", "lon")).all())
        assert bool((q.isel(quantile=0) <= q.isel(quantile=1)).where(da.notnull(), True).all())


def test_uncertainty_options_are_checked(grid_field):
    da, field = grid_field
    with pytest.raises(ValueError, match="`quantiles` needs an ensemble fit"):
        field.predict(quantiles=(0.1, 0.9))
    with pytest.raises(ValueError, match="`members` needs an ensemble fit"):
        field.predict(members=True)
    ens = fit_xarray(da, ensemble_size=2, width=8, depth=2, steps=1, progress=False)
    for bad in ((0.0, 0.5), (0.5, 1.5), ()):
        with pytest.raises(ValueError, match=r"`quantiles` must be probabilities in \(0, 1\)"):
            ens.predict(quantiles=bad)
    with pytest.raises(TypeError, match="`members` must be True or False"):
        ens.predict(members="yes")


def test_chunked_prediction_matches_one_chunk(grid_field):
    _, field = grid_field
    big = field.predict(lat=np.linspace(-60, 60, 41))
    small = field.predict(lat=np.linspace(-60, 60, 41), chunk=37)
    np.testing.assert_allclose(small, big, rtol=1e-6, atol=1e-5)


def test_field_is_a_jax_function(grid_field):
    _, field = grid_field
    x = jnp.asarray(field.encode(lat=[10.0, 20.0], lon=[0.0, 45.0]), dtype=jnp.float32)
    direct = field(x)
    jitted = eqx.filter_jit(lambda f, p: f(p))(field, x)
    mapped = jax.vmap(field)(x)
    np.testing.assert_allclose(jitted, direct, rtol=1e-6)
    np.testing.assert_allclose(mapped, direct, rtol=1e-6)
    # d/dlat of the field through the encoding: lat' = lat / 60, truth 10 cos'(lat)
    g = jax.grad(lambda p: field(p)[0])(x[0])
    dudlat = float(g[0]) / 60.0
    assert dudlat == pytest.approx(-10 * np.sin(np.deg2rad(10.0)) * np.pi / 180, abs=0.01)


def test_bad_inputs_raise_clear_errors(grid_field):
    da, field = grid_field
    with pytest.raises(TypeError, match="`obj` must be an xarray"):
        fit_xarray(np.zeros(3))
    ds = xr.Dataset({"a": ("x", np.zeros(3)), "b": ("y", np.zeros(2))})
    with pytest.raises(ValueError, match="has dimensions"):
        fit_xarray(ds)
    with pytest.raises(ValueError, match="`variables`"):
        fit_xarray(ds, variables=["c"])
    with pytest.raises(ValueError, match="no finite values"):
        fit_xarray(xr.DataArray(np.full(4, np.nan), dims="x"))
    with pytest.raises(ValueError, match="`periodic`"):
        fit_xarray(da, periodic=["longitude"])
    with pytest.raises(ValueError, match="`width`"):
        fit_xarray(da, width=0)
    with pytest.raises(ValueError, match="unknown dimension"):
        field.predict(depth=[1.0])
    with pytest.raises(ValueError, match="non-empty 1-D"):
        field.predict(lat=np.zeros((2, 2)))
    with pytest.raises(TypeError, match="`like`"):
        field.predict(like=[1, 2])
    with pytest.raises(ValueError, match="`like` has dimension `lat` without a coordinate"):
        field.predict(like=xr.DataArray(np.zeros(3), dims="lat"))
    with pytest.raises(ValueError, match="shares no dimension"):
        field.predict(like=xr.DataArray(np.zeros(3), dims="depth"))
    with pytest.raises(ValueError, match="`chunk`"):
        field.predict(chunk=0)


# ---------------------------------------------------------------- persistence failures


def test_corrupt_truncated_and_foreign_files(grid_field, tmp_path):
    _, field = grid_field
    good = tmp_path / "good.field"
    field.save(good)
    data = good.read_bytes()

    truncated = tmp_path / "truncated.field"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_field(truncated)

    # flip bytes inside the weights: the archive's CRC check rejects it
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("weights.eqx")
    corrupt = tmp_path / "corrupt.field"
    body = bytearray(data)
    start = info.header_offset + 30 + len(info.filename) + 40
    body[start : start + 8] = bytes(8)
    corrupt.write_bytes(bytes(body))
    with pytest.raises(ValueError, match="(corrupt|CRC|Error)"):
        load_field(corrupt)

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a fieldpde field file"):
        load_field(text)

    nc = tmp_path / "data.nc"
    xr.Dataset({"a": ("x", np.arange(3.0))}).to_netcdf(nc)
    with pytest.raises(ValueError, match="not a fieldpde field file"):
        load_field(nc)

    from fieldpde.train import save_checkpoint

    ckpt = tmp_path / "ckpt.zip"
    save_checkpoint(ckpt, field.net, step=1, history={"loss": np.zeros(1)})
    with pytest.raises(ValueError, match="training checkpoint"):
        load_field(ckpt)

    # a field file whose metadata disagrees with its weights
    other = tmp_path / "other.field"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(other, "w") as zout:
        for item in zin.namelist():
            blob = zin.read(item)
            if item == "field.json":
                blob = blob.replace(b'"width": 32', b'"width": 16')
            zout.writestr(item, blob)
    with pytest.raises(ValueError, match="corrupt fieldpde field file"):
        load_field(other)

    with pytest.raises(FileNotFoundError):
        load_field(tmp_path / "missing.field")


def test_failed_write_never_replaces_a_good_file(grid_field, tmp_path, monkeypatch):
    _, field = grid_field
    path = tmp_path / "f.field"
    field.save(path)
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        field.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.field"]  # no temporary left
    assert load_field(path).predict().identical(field.predict())


def test_public_classes_are_final():
    import fieldpde.io

    classes = [getattr(fieldpde.io, n) for n in dir(fieldpde.io)]
    classes = [c for c in classes if isinstance(c, type)]
    assert {c.__name__ for c in classes} == {"AxisEncoding", "FittedField", "GridPDE"}
    assert all(getattr(c, "__final__", False) for c in classes)


def test_refine():
    assert refine([0.0, 1.0, 3.0], 2).tolist() == [0.0, 0.5, 1.0, 2.0, 3.0]
    t = np.array(["2020-01-01", "2020-01-03"], dtype="datetime64[ns]")
    assert refine(t, 2)[1] == np.datetime64("2020-01-02", "ns")
    with pytest.raises(ValueError, match="`factor`"):
        refine([0.0, 1.0], 0)


# ---------------------------------------------------------------- command line


def test_cli_fit_and_predict(tmp_path, capsys):
    # in-process: `fit` and `predict` leave JAX's global flags alone
    from fieldpde.cli import main

    lat = np.linspace(60.0, -60.0, 9)
    lon = np.arange(0.0, 360.0, 30.0)
    da = sst_dataarray(lat, lon)
    da.attrs.pop("valid_range")
    da[3, 2] = np.nan
    data = tmp_path / "sst.nc"
    xr.Dataset({"sst": da}, attrs={"source": "test"}).to_netcdf(data)
    args = ["--width", "16", "--depth", "3", "--omega", "4", "--steps", "300", "--no-progress"]
    assert main(["fit", str(data), "--var", "sst", *args]) == 0
    out = capsys.readouterr().out
    assert "lon (periodic)" in out and "RMSE at the data cells" in out
    field_path = tmp_path / "sst.field"
    assert field_path.exists()

    like = tmp_path / "like.nc"
    xr.Dataset(coords={"lat": [-30.0, 0.0, 30.0], "lon": [0.0, 120.0]}).to_netcdf(like)
    out_nc = tmp_path / "out.nc"
    assert main(["predict", str(field_path), "--like", str(like), "--out", str(out_nc)]) == 0
    with xr.open_dataset(out_nc) as ds:
        got = ds["sst"].load()
    assert got.dims == ("lat", "lon") and got.shape == (3, 2)
    assert got.attrs["units"] == "degC" and got.dtype == np.float32
    expected = smooth(np.array([-30.0, 0.0, 30.0])[:, None], np.array([0.0, 120.0]))
    assert rmse(got, expected) < 0.5

    out4 = tmp_path / "out4.nc"
    grid = ["--grid", "lon=x2", "lat=-60:60:5"]
    assert main(["predict", str(field_path), *grid, "--out", str(out4)]) == 0
    with xr.open_dataset(out4) as ds:
        assert ds["sst"].shape == (5, 23) and ds["lat"].values.tolist() == [-60, -30, 0, 30, 60]

    capsys.readouterr()
    assert main(["predict", str(data), "--out", str(tmp_path / "x.nc")]) == 1
    assert "not a fieldpde field file" in capsys.readouterr().err
    assert main(["fit", str(data), "--var", "chl"]) == 1
    assert "has no variable" in capsys.readouterr().err
    assert main(["predict", str(field_path), "--grid", "depth=1:2:3", "--out", str(out4)]) == 1
    assert "`grid` 'depth=1:2:3'" in capsys.readouterr().err


def test_cli_help_lists_the_new_commands():
    out = subprocess.run(
        [sys.executable, "-m", "fieldpde.cli", "predict", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--like" in out.stdout and "--grid" in out.stdout


# ---------------------------------------------------------------- files fieldpde writes


def test_save_to_a_directory_fails_before_writing(grid_field, tmp_path):
    _, field = grid_field
    with pytest.raises(ValueError, match=r"`path` '.*' is a directory; give a file name inside"):
        field.save(tmp_path)
    (tmp_path / "notes").write_text("x")
    with pytest.raises(ValueError, match=r"`path` .* is inside .*notes', which is a file"):
        field.save(tmp_path / "notes" / "f.field")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]  # nothing written


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_written_files_honour_the_umask(grid_field, tmp_path, umask):
    from fieldpde._atomic import atomic_write
    from fieldpde.train import save_checkpoint

    _, field = grid_field
    old = os.umask(umask)
    try:
        field.save(tmp_path / "f.field")
        save_checkpoint(tmp_path / "run.ckpt", {"w": jnp.zeros(2)}, step=0, history={})
        ds = xr.Dataset({"u": ("x", np.arange(3.0))})
        atomic_write(tmp_path / "u.nc", ds.to_netcdf)
    finally:
        os.umask(old)
    for name in ("f.field", "run.ckpt", "u.nc"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask, name
    # rewriting a file keeps the mode its owner gave it, as open(path, "w") does
    (tmp_path / "f.field").chmod(0o600)
    field.save(tmp_path / "f.field")
    assert (tmp_path / "f.field").stat().st_mode & 0o777 == 0o600
    assert xr.open_dataset(tmp_path / "u.nc")["u"].values.tolist() == [0.0, 1.0, 2.0]


def test_stale_temporaries_of_the_target_are_cleaned_on_the_next_write(grid_field, tmp_path):
    import time

    from fieldpde._atomic import _HOST, STALE_AFTER_S

    _, field = grid_field
    old = time.time() - 2 * STALE_AFTER_S
    names = {
        # (file, modified long ago, expected to be removed)
        f".sst.field.{_HOST}-99999999-abcdefgh.tmp": (False, True),  # its writer is dead
        f".sst.field.{_HOST}-{os.getpid()}-abcdefgh.tmp": (True, False),  # alive: a writer
        ".sst.field.abcd1234.tmp": (True, True),  # an older fieldpde's, unmodified for long
        ".sst.field.zzzz9999.tmp": (False, False),  # ... still being written
        ".sst.field.otherhost-1-abcdefgh.tmp": (False, False),  # another host's, fresh
        ".sst.field.otherhost-2-abcdefgh.tmp": (True, True),  # another host's, stale
        ".other.field.abcd1234.tmp": (True, False),  # another target's
        ".sst.field.backup.tmp": (True, False),  # not a fieldpde temporary name
    }
    for name, (aged, _) in names.items():
        (tmp_path / name).write_bytes(b"partial")
        if aged:
            os.utime(tmp_path / name, (old, old))
    field.save(tmp_path / "sst.field")
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {"sst.field"} | {n for n, (_, gone) in names.items() if not gone}


def test_a_killed_writer_leaves_a_temporary_that_the_next_write_removes(tmp_path):
    from fieldpde import _atomic
    from fieldpde._atomic import atomic_write_bytes

    code = (  # the writer imports fieldpde/_atomic.py on its own (stdlib only): fast
        "import importlib.util, os, signal, sys\n"
        f"spec = importlib.util.spec_from_file_location('a', {_atomic.__file__!r})\n"
        "a = importlib.util.module_from_spec(spec); spec.loader.exec_module(a)\n"
        "def write(tmp):\n"
        "    tmp.write_bytes(b'half a file')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "a.atomic_write(sys.argv[1], write)\n"
    )
    target = tmp_path / "big.nc"
    target.write_bytes(b"old")
    run = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True)
    assert run.returncode == -9
    leftover = [p.name for p in tmp_path.iterdir() if p.name != "big.nc"]
    assert len(leftover) == 1 and leftover[0].startswith(".big.nc.")
    assert target.read_bytes() == b"old"  # the old file was never touched
    atomic_write_bytes(target, b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.nc"]
    assert target.read_bytes() == b"new"


# ---------------------------------------------------------------- bad data, caught before fitting


class _NoTraining(Exception):
    pass


@pytest.fixture
def no_training(monkeypatch):
    """Make any training inside fit_xarray fail the test: checks must come first."""
    import fieldpde.io._fit

    def fit(*args, **kwargs):
        raise _NoTraining

    monkeypatch.setattr(fieldpde.io._fit, "fit", fit)


def test_duplicated_coordinates_are_an_error(no_training):
    da = xr.DataArray(np.arange(4.0), dims="lat", coords={"lat": [0.0, 10.0, 10.0, 20.0]})
    with pytest.raises(ValueError, match=r"coordinate `lat` has 1 duplicated value\(s\) \(10.0\)"):
        fit_xarray(da)
    t = np.array(["2020-01-01", "2020-01-01"], dtype="datetime64[ns]")
    da = xr.DataArray(np.zeros((2, 3)), dims=("time", "x"), coords={"time": t})
    with pytest.raises(ValueError, match="coordinate `time` has 1 duplicated.*drop_duplicates"):
        fit_xarray(da)


def test_undecoded_fill_values_warn_before_fitting(no_training):
    values = np.linspace(0.0, 1.0, 8)
    values[3] = 1e30
    da = xr.DataArray(values, dims="x", name="h")
    with pytest.warns(UserWarning, match=r"'h' has 1 cell\(s\) of magnitude >= 1e\+20.*mask"):
        with pytest.raises(_NoTraining):
            fit_xarray(da)
    coded = xr.DataArray(
        np.array([3, -999, 5, 7], dtype=np.int16), dims="x", name="n", attrs={"_FillValue": -999}
    )
    with pytest.warns(UserWarning, match=r"'n' has 1 cell\(s\) equal to its `_FillValue`.*-999"):
        with pytest.raises(_NoTraining):
            fit_xarray(coded)
    coded.attrs = {"missing_value": np.array([-999], dtype=np.int16)}
    with pytest.warns(UserWarning, match="`missing_value` attribute -999"):
        with pytest.raises(_NoTraining):
            fit_xarray(coded)


def test_one_point_dimension_is_constant_along_it(no_training, monkeypatch):
    da = xr.DataArray(np.zeros((1, 3)), dims=("lon", "x"), coords={"lon": [10.0]})
    with pytest.raises(ValueError, match="`periodic`: dimension `lon` has a single coordinate"):
        fit_xarray(da, periodic=["lon"])
    monkeypatch.undo()  # a short real fit
    t = np.array(["2020-01-01"], dtype="datetime64[ns]")
    x = np.linspace(0.0, 1.0, 9)
    da = xr.DataArray(np.sin(3 * x)[None], dims=("time", "x"), coords={"time": t, "x": x})
    field = fit_xarray(da, **FAST)
    axis = field.source.axes[0]
    assert axis.encode(np.array([t[0], t[0] + np.timedelta64(1, "D")])).tolist() == [[0], [0]]
    fitted = field.predict()
    assert rmse(fitted, da) < 0.1
    with pytest.warns(UserWarning, match="`time`: 1 of 1 .* differ from the single training"):
        later = field.predict(time=t + np.timedelta64(3650, "D"))
    assert np.array_equal(later.values, fitted.values)  # the fitted values, not garbage
    with pytest.raises(ValueError, match="`outside`='raise'"):
        field.predict(time=t + np.timedelta64(1, "D"), outside="raise")


def test_integer_data_give_a_float_ensemble_std():
    x = np.linspace(0.0, 1.0, 10)
    da = xr.DataArray((100 * np.sin(3 * x)).astype(np.int32), dims="x", coords={"x": x}, name="n")
    out = fit_xarray(da, ensemble_size=2, width=8, depth=2, steps=20, progress=False).predict()
    assert out["n"].dtype == np.int32 and out["n_std"].dtype == np.float64
    assert not np.allclose(out["n_std"], np.rint(out["n_std"]))


# ---------------------------------------------------------------- what predict gives back


def test_predict_outside_the_training_range(grid_field, monkeypatch):
    import warnings

    _, field = grid_field  # lat in [-60, 60], lon global (periodic)
    with pytest.warns(
        UserWarning,
        match=r"`lat`: 1 of 3 coordinates \(e.g. 500\) lie outside "
        r"the training range \[-60, 60\]",
    ):
        warned = field.predict(lat=[0.0, 30.0, 500.0])
    masked = field.predict(lat=[0.0, 30.0, 500.0], outside="mask")
    assert np.isnan(masked[2]).all() and np.isfinite(masked[:2]).all()
    np.testing.assert_array_equal(masked[:2], warned[:2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        field.predict(lat=[0.0, 500.0], outside="ignore")
        field.predict(lat=[-71.0, 71.0], lon=[720.0, -400.0])  # within 10% of 120°; periodic
        field.predict(lat=[100.0], margin=0.5)
    with pytest.raises(ValueError, match="`outside` must be one of"):
        field.predict(outside="clip")
    with pytest.raises(ValueError, match="`margin` must be a finite number >= 0"):
        field.predict(margin=-0.1)

    def evaluate(*args, **kwargs):
        raise AssertionError("evaluated before the outside check")

    monkeypatch.setattr(FittedField, "_evaluate", evaluate)
    with pytest.raises(ValueError, match=r"`outside`='raise'.*`lat`: 1 of 2"):
        field.predict(lat=[0.0, 500.0], outside="raise")


@pytest.fixture(scope="module")
def gappy_field():
    lat = np.linspace(-60.0, 60.0, 7)
    lon = np.arange(0.0, 360.0, 30.0)
    sst = sst_dataarray(lat, lon)
    sst[2, 3:6] = np.nan  # "land"
    count = np.arange(sst.size, dtype=np.int16).reshape(sst.shape)
    ds = xr.Dataset({"sst": sst, "count": (sst.dims, count)})  # only sst has missing cells
    return ds, fit_xarray(ds, width=16, depth=2, omega=3.0, steps=20, progress=False)


def test_keep_mask_gives_the_source_mask_back(gappy_field, tmp_path):
    import dataclasses

    ds, field = gappy_field
    filled = field.predict()
    assert np.isfinite(filled["sst"]).all()
    kept = field.predict(keep_mask=True)
    np.testing.assert_array_equal(np.isnan(kept["sst"]), np.isnan(ds["sst"]))
    assert kept["sst"].dtype == np.float32 and kept["count"].dtype == np.float64
    assert np.isfinite(kept["count"]).all()  # its own mask: no missing cells
    land = np.isnan(ds["sst"].values)
    np.testing.assert_array_equal(kept["sst"].values[~land], filled["sst"].values[~land])
    # on a finer grid the mask is refined by nearest neighbour (lon wraps: 355 is next to 0)
    fine = field.predict(lat=ds["lat"].values, lon=[70.0, 80.0, 150.0, 355.0], keep_mask=True)
    assert np.isnan(fine["sst"].values[2]).tolist() == [False, True, True, False]
    field.save(tmp_path / "g.field")
    assert load_field(tmp_path / "g.field").predict(keep_mask=True).identical(kept)
    old = FittedField(field.net, dataclasses.replace(field.source, missing=None))
    with pytest.raises(ValueError, match="`keep_mask=True` needs the source's mask"):
        old.predict(keep_mask=True)
    with pytest.raises(TypeError, match="`keep_mask` must be True or False"):
        field.predict(keep_mask="yes")


def _harmonic_grid():
    """u = cos(2x) cosh(2y) / cosh(4) + xy / 2 (Laplace's equation holds exactly) on a
    21 x 21 grid of [-1, 1] x [0, 2], with an 11 x 11 hole in the middle."""
    x, y = np.linspace(-1.0, 1.0, 21), np.linspace(0.0, 2.0, 21)
    X, Y = np.meshgrid(x, y, indexing="ij")
    u = np.cos(2.0 * X) * np.cosh(2.0 * Y) / np.cosh(4.0) + 0.5 * X * Y
    da = xr.DataArray(u, coords={"x": x, "y": y}, dims=("x", "y"), name="u")
    hole = (np.abs(X) < 0.55) & (np.abs(Y - 1.0) < 0.55)
    return da, hole


def test_laplace_regularised_fit_beats_data_only_in_a_hole():
    # Measured (400 steps, SIREN 32x3, omega 6): hole RMSE 0.15 data-only, 0.001 with
    # the Laplace term (weight 0.01); the data-only fit oscillates across the 11 x 11 hole,
    # the harmonic one is pinned by the hole's rim
    da, hole = _harmonic_grid()
    kw = dict(width=32, depth=3, omega=6.0, steps=400, progress=False)
    plain = fit_xarray(da.where(~hole), **kw)
    laplace = GridPDE(lambda c, d: d.laplacian, num_points=256, weight=0.01)
    pde = fit_xarray(da.where(~hole), constraints=[laplace], **kw)
    err = {k: float(np.sqrt(np.mean((f.predict().values - da.values)[hole] ** 2)))
           for k, f in (("plain", plain), ("pde", pde))}  # fmt: skip
    assert err["pde"] < 0.01 and err["pde"] < 0.2 * err["plain"], err
    assert pde.source.training["members"][0]["status"] == "completed"


@pytest.mark.x64
def test_grid_pde_sees_the_field_in_data_coordinates_and_units():
    # the network works on encoded inputs and standardised values; the residual must see
    # u(c) = sigma * Phi(E(c)) + mu in the data's coordinates: for x on [0, 4] (encoded
    # x' = (x - 2) / 2) and lon in degrees (encoded (cos, sin)), with
    # Phi(x', cos, sin) = x'^2 + cos, u = sigma ((x - 2)^2 / 4 + cos(lon)) + mu and
    # Laplace(u) = sigma (1/2 - (pi/180)^2 cos(lon))
    axes = (
        AxisEncoding("x", "linear", 0.0, 4.0),
        AxisEncoding("lon", "periodic", 0.0, 350.0, 360.0, 0.0),
    )
    sigma, mu = 3.0, 7.0
    term = GridPDE(lambda c, d: d.laplacian, num_points=16).build(axes, [mu], [sigma])
    batch = term.sample(jax.random.key(0))
    net = lambda p: p[..., :1] ** 2 + p[..., 1:2]  # noqa: E731
    lon = np.deg2rad(np.asarray(batch.points[:, 1]))
    exact = sigma * (0.5 - (np.pi / 180.0) ** 2 * np.cos(lon))
    np.testing.assert_allclose(np.asarray(term.residual(net, batch))[:, 0], exact, rtol=1e-10)
    assert term.measure == 1.0 and term.kind == "pde"
    assert float(term.loss(net, batch)) == pytest.approx(float(np.mean(exact**2)), rel=1e-10)
    points = np.asarray(batch.points)
    assert points[:, 0].min() >= 0 and points[:, 0].max() <= 4 and points[:, 1].max() <= 350


def test_constraints_are_checked(grid_field):
    da, _ = grid_field
    with pytest.raises(TypeError, match="`constraints`: 'constraint_0' must be a GridPDE"):
        fit_xarray(da, constraints=[lambda x: x], steps=1, progress=False)
    with pytest.raises(TypeError, match="`constraints` must be a list"):
        fit_xarray(da, constraints=GridPDE(lambda c, d: d.laplacian), steps=1, progress=False)
    t = np.array(["2021-01-01", "2021-02-01"], dtype="datetime64[ns]")
    monthly = xr.DataArray(np.ones((2, 3)), coords={"time": t, "x": np.arange(3.0)},
                           dims=("time", "x"), name="u")  # fmt: skip
    with pytest.raises(ValueError, match="dimension `time` is datetime64"):
        fit_xarray(monthly, constraints=[GridPDE(lambda c, d: d.laplacian)], steps=1)
    with pytest.raises(ValueError, match="`weight`"):
        GridPDE(lambda c, d: d.laplacian, weight=-1.0)
