"""`fieldpde solve` end to end on short runs; problem files are consistent; exit codes."""

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

from fieldpde.app import Settings, load_problem_file
from fieldpde.cli import main


@pytest.mark.x64
@pytest.mark.parametrize("name", ["helmholtz", "poisson_sinsin"])
def test_problem_residual_vanishes_on_exact_solution(name):
    module = load_problem_file(name).module
    problem = module.problem(points=256)
    batches = problem.sample(jax.random.key(0))
    exact = jnp.vectorize(lambda p: module.exact(p)[None], signature="(d)->(m)")
    for cname, c in problem.constraints.items():
        r = c.residual(exact, batches[cname])
        assert float(jnp.max(jnp.abs(r))) < 1e-9, cname


def test_lshape_reference_is_a_poisson_solution():
    module = load_problem_file("poisson_lshape").module
    ref = module.reference(shape=65)
    # discrete check: -Laplacian of the FD solution is 1 at interior nodes away from the corner
    u, h = ref.u, ref.spacing[0]
    lap = (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1]) / h**2
    inner = ref.interior[1:-1, 1:-1]
    assert np.allclose(-lap[inner], 1.0, atol=1e-8)
    assert float(ref.u.max()) > 0.05  # a real, non-trivial solution


def test_image_gradient_estimators_against_exact_derivatives():
    module = load_problem_file("poisson_image").module
    n = 32
    h = 2.0 / (n - 1)
    j = np.arange(n)
    # a cosine-series image: its spectral gradient is exact (to rounding)
    wave = np.cos(np.pi * 5 * (j + 0.5) / n)
    img = wave[None, :] + 0.5 * np.cos(np.pi * 3 * (j + 0.5) / n)[:, None]
    g = module.gradients(img, "spectral").reshape(n, n, 2)
    dx = -(5 * np.pi / n) * np.sin(np.pi * 5 * (j + 0.5) / n) / h
    dy = -0.5 * (3 * np.pi / n) * np.sin(np.pi * 3 * (j + 0.5) / n) / h
    assert np.allclose(g[..., 0], dx[None, :], atol=1e-10)
    assert np.allclose(g[..., 1], dy[:, None], atol=1e-10)
    # a plane has gradient (a, b) in coordinate units; the stencils are exact away from edges
    x = np.linspace(-1.0, 1.0, n)
    plane = 0.3 * x[None, :] - 0.7 * x[:, None]
    for method in ("central", "sobel"):
        g = module.gradients(plane, method).reshape(n, n, 2)[1:-1, 1:-1]
        assert np.allclose(g, [0.3, -0.7], atol=1e-12), method
    with pytest.raises(ValueError, match="`method`"):
        module.gradients(plane, "prewitt")


def test_solve_writes_netcdf_and_png(tmp_path):
    # a subprocess, as a user runs it: `solve` sets JAX's float64 flag for its whole process
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "fieldpde.cli",
            "solve",
            "poisson_sinsin",
            "--steps",
            "40",
            "--lbfgs-steps",
            "5",
            "--points",
            "64",
            "--grid",
            "21",
            "--out",
            str(tmp_path),
            "--no-progress",
            "--no-x64",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "relative L2 error vs exact solution" in out.stdout
    ds = xr.open_dataset(tmp_path / "poisson_sinsin.nc")
    assert set(ds.data_vars) == {"u", "reference", "error"}
    assert ds["u"].dims == ("y", "x") and ds["u"].shape == (21, 21)
    np.testing.assert_allclose(ds["error"], ds["u"] - ds["reference"], atol=1e-12)
    assert 0 < ds.attrs["relative_l2"] < 1.5
    # hard boundary: the field is exactly zero on the edges
    assert float(abs(ds["u"].isel(x=0)).max()) < 1e-6
    assert (tmp_path / "poisson_sinsin.png").stat().st_size > 10_000


def test_unknown_problem_is_a_clear_error(capsys):
    with pytest.raises(FileNotFoundError, match="no problem 'nope'; known problems: .*helmholtz"):
        load_problem_file("nope")
    assert main(["solve", "nope"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fieldpde: no problem 'nope'") and len(err.strip().splitlines()) == 1


def test_a_script_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran.txt"
    script = tmp_path / "script.py"
    script.write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n\ndef main():\n    pass\n\n"
        "if __name__ == '__main__':\n    main()\n"
    )
    with pytest.raises(ValueError, match="not a problem file: it does not define problem "):
        load_problem_file(script)
    assert not marker.exists()  # its top-level code never ran


def test_settings_are_checked_when_the_file_is_loaded(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from fieldpde.app import Settings\n"
        "SETTINGS = Settings(steps=10, field=dict(widht=8))\n"
        "def problem(points):\n    pass\n"
        "def field(key, *, width=8, dtype=None):\n    pass\n"
    )
    with pytest.raises(TypeError, match=r"Settings.field gives \['widht'\]"):
        load_problem_file(bad)
    with pytest.raises(ValueError, match="`steps` must be an integer >= 0"):
        Settings(steps=-1)
    old = tmp_path / "old.py"
    old.write_text(
        "DEFAULTS = dict(steps=1)\ndef problem(points):\n    pass\n"
        "def field(key, dtype=None):\n    pass\n"
    )
    with pytest.raises(ValueError, match="DEFAULTS dict is no longer read"):
        load_problem_file(old)


def test_command_line_settings_change_a_files_explicit_phases():
    from fieldpde.train import Adam, NaturalGradient

    s = Settings(
        phases=(Adam(2000, learning_rate=2e-3), NaturalGradient(300, points={"pde": 2048})),
        points=1024,
    )
    adam, ng = s.replace(steps=40, learning_rate=1e6, lbfgs_steps=5, resample_every=20).phases
    assert (adam.steps, adam.learning_rate, adam.resample_every) == (40, 1e6, 20)
    assert (ng.steps, ng.points, ng.damping) == (5, (("pde", 2048),), 1e-10)
    assert s.replace(lbfgs_points=77).phases[1].points == 77
    assert s.replace(points=64).phases == s.phases  # only int counts scale with points
    assert s.replace(phases=[Adam(3)]).phases == [Adam(3)]


def test_console_script_help():
    out = subprocess.run(
        [sys.executable, "-m", "fieldpde.cli", "solve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--steps" in out.stdout and "--x64" in out.stdout
    assert "known problems:" in out.stdout and "helmholtz" in out.stdout.split("known problems:")[1]
    fit_help = subprocess.run(
        [sys.executable, "-m", "fieldpde.cli", "fit", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "(default: 128)" in fit_help.stdout and "(default: 2000)" in fit_help.stdout


def test_a_diverged_solve_exits_non_zero_and_a_batch_log_gets_progress_lines(tmp_path):
    # --lr 1e6 blows the Adam steps up: the run stops with its status and exit code 3;
    # stderr is a pipe (not a terminal), so progress comes as timed text lines
    out = subprocess.run(
        [sys.executable, "-m", "fieldpde.cli", "solve", "poisson_sinsin", "--steps", "200",
         "--lbfgs-steps", "0", "--points", "64", "--grid", "11", "--lr", "1e6",
         "--out", str(tmp_path), "--no-x64"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 3, out.stderr
    assert "fieldpde: training failed: the loss" in out.stderr
    assert (tmp_path / "poisson_sinsin.nc").exists()  # the last good field is still written
    ok = subprocess.run(
        [sys.executable, "-m", "fieldpde.cli", "solve", "poisson_sinsin", "--steps", "30",
         "--lbfgs-steps", "0", "--points", "64", "--grid", "11", "--out", str(tmp_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    lines = [ln for ln in ok.stderr.splitlines() if ln.startswith("step ")]
    assert lines and lines[-1].startswith("step 30/30 (100%)  loss "), ok.stderr


def test_bad_arguments_are_one_line_before_anything_runs(tmp_path, capsys):
    data = tmp_path / "d.nc"
    xr.Dataset({"h": ("x", np.arange(4.0))}, coords={"x": np.arange(4.0)}).to_netcdf(data)
    with pytest.raises(SystemExit) as usage:
        main(["solve", "--points", "0"])
    assert usage.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["fieldpde: argument --points: must be >= 1, got 0 (see fieldpde solve --help)"]
    with pytest.raises(SystemExit):
        main(["fit", str(data), "--var", "h", "--periodic", "x=abc"])
    assert "argument --periodic: expected DIM=PERIOD" in capsys.readouterr().err
    # an output directory is refused before the fit runs (nothing trained: no field file)
    assert main(["fit", str(data), "--var", "h", "--out", str(tmp_path), "--steps", "5"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fieldpde: `out`") and "is a directory" in err
    assert not list(tmp_path.glob("*.field"))
    assert main(["fit", str(tmp_path), "--var", "h"]) == 1
    assert "is a directory, not a netCDF file" in capsys.readouterr().err
    text = tmp_path / "notes.txt"
    text.write_text("not netcdf")
    assert main(["fit", str(text), "--var", "h"]) == 1
    assert "is not a readable netCDF file" in capsys.readouterr().err
    # predict: an output directory, a --like directory or a --like that is not netCDF
    assert main(["fit", str(data), "--var", "h", "--width", "8", "--depth", "2",
                 "--steps", "5", "--no-progress"]) == 0  # fmt: skip
    field = tmp_path / "d.field"
    capsys.readouterr()
    assert main(["predict", str(field), "--out", str(tmp_path)]) == 1
    assert "`out`" in capsys.readouterr().err
    for like, message in ((tmp_path, "is a directory, not a netCDF file"),
                          (text, "is not a readable netCDF file")):  # fmt: skip
        assert main(["predict", str(field), "--like", str(like), "--out",
                     str(tmp_path / "p.nc")]) == 1  # fmt: skip
        assert message in capsys.readouterr().err
    assert not (tmp_path / "p.nc").exists()


def test_help_and_version_do_not_load_jax():
    code = (
        "import sys\nfrom fieldpde.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print('jax' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("False") and "fieldpde 0.1.0" in out.stdout


def test_fit_ensemble_then_predict_writes_cf_uncertainty(tmp_path, capsys):
    data = tmp_path / "h.nc"
    x = np.linspace(0.0, 1.0, 9)
    attrs = {"units": "m", "standard_name": "sea_surface_height_above_geoid"}
    xr.Dataset({"h": ("x", np.sin(3 * x), attrs)}, coords={"x": x}).to_netcdf(data)
    assert main(["fit", str(data), "--var", "h", "--ensemble", "3", "--width", "8",
                 "--depth", "2", "--steps", "5", "--no-progress"]) == 0  # fmt: skip
    out = tmp_path / "p.nc"
    assert main(["predict", str(tmp_path / "h.field"), "--grid", "x=0:1:5",
                 "--quantiles", "0.05", "0.95", "--out", str(out)]) == 0  # fmt: skip
    with xr.open_dataset(out) as ds:
        assert list(ds.data_vars) == ["h", "h_std", "h_quantile"]
        assert ds["h"].attrs["ancillary_variables"] == "h_std h_quantile"
        assert ds["h_std"].attrs["standard_name"] == f"{attrs['standard_name']} standard_error"
        assert ds["h_std"].attrs["units"] == "m" and ds["quantile"].values.tolist() == [0.05, 0.95]
        assert ds["h_quantile"].sizes == {"quantile": 2, "x": 5}
        assert bool((ds["h_std"] > 0).all())
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["predict", str(tmp_path / "h.field"), "--quantiles", "1.5", "--out", str(out)])
    assert "argument --quantiles: expected a probability in (0, 1), got '1.5'" in (
        capsys.readouterr().err
    )


def test_fit_calibrate_scales_the_saved_ensemble(tmp_path, capsys):
    from fieldpde.io import load_field

    data = tmp_path / "h.nc"
    x = np.linspace(0.0, 1.0, 50)
    xr.Dataset({"h": ("x", np.sin(3 * x))}, coords={"x": x}).to_netcdf(data)
    assert main(["fit", str(data), "--var", "h", "--ensemble", "2", "--calibrate", "0.2",
                 "--width", "8", "--depth", "2", "--steps", "5", "--no-progress"]) == 0  # fmt: skip
    field = load_field(tmp_path / "h.field")
    (c,) = field.source.spread
    assert f"ensemble spread scaled by {c:.3g} (calibrated on [10] held-out cells)" in (
        capsys.readouterr().out
    )
    assert main(["fit", str(data), "--var", "h", "--calibrate", "0.2", "--steps", "5"]) == 1
    assert "`calibrate` scales an ensemble's spread" in capsys.readouterr().err
