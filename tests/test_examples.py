"""Every example runs end to end in a fast mode and writes its figure."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FAST = {
    "siren_vs_relu": dict(steps=20),
    "gabor_inr": dict(steps=10),
    "activation_statistics": dict(width=64, depth=3),
    "geo_gapfill": dict(steps=100, lbfgs_steps=0, fast=True, progress=False),
    "topobathy_gapfill": dict(steps=20, members=2, width=16),
    "sin_family": dict(steps=20, n=128),
    "bayesian_prior_draws": dict(draws=3),
    "bayesian_gap": dict(num_epochs=30, ensemble_size=4),
    "bayesian_poisson": dict(steps=20, ensemble_size=4),
    "helmholtz_inverse": dict(steps=20, ensemble_size=4),
    "burgers_family": dict(fast=True),
    "siren_image_fit": dict(steps=3, side=32, width=32),
    "siren_poisson": dict(steps=3, side=32, width=32),
    "notebook_ensemble": dict(num_epochs=30, ensemble_size=4),
}


def test_every_example_has_a_fast_mode():
    assert {p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_")} == set(FAST)


@pytest.mark.parametrize("name", sorted(FAST))
def test_example_runs(name, tmp_path):
    _load(name).main(**FAST[name], out=str(tmp_path))
    pngs = list(tmp_path.glob("*.png"))
    assert pngs and all(p.stat().st_size > 10_000 for p in pngs)
