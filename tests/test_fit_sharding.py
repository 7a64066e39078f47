"""Data-parallel `fit`: collocation and observation batches split over devices.

The multi-device checks run in a subprocess with four fake CPU devices
(``--xla_force_host_platform_device_count=4`` must be set before JAX starts).
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest

from fieldpde import SIREN, Problem, fit
from fieldpde._sharding import device_mesh, split_leading
from fieldpde.constraints import Observations

ROOT = Path(__file__).resolve().parents[1]


def test_one_device_needs_no_mesh():
    assert device_mesh("points", jax.devices()[:1]) is None
    x = jnp.ones((4, 2))
    assert split_leading(x, None) is x


def test_bad_devices_are_named():
    problem = Problem([Observations(jnp.zeros((4, 1)), jnp.zeros(4))])
    net = SIREN.init(1, 4, 1, depth=2, key=jax.random.key(0))
    with pytest.raises(ValueError, match="`devices`"):
        fit(problem, net, key=jax.random.key(1), steps=1, devices=[])
    with pytest.raises(TypeError, match="`devices`"):
        fit(problem, net, key=jax.random.key(1), steps=1, devices=jax.devices()[0])


SCRIPT = textwrap.dedent(
    """
    import warnings
    import jax, jax.numpy as jnp, numpy as np
    jax.config.update("jax_enable_x64", True)
    from fieldpde import SIREN, Problem, fit
    from fieldpde._sharding import device_mesh, split_leading
    from fieldpde.constraints import Dirichlet, Observations, Residual
    from fieldpde.domains import Rectangle
    assert jax.device_count() == 4

    # the batch layout: 64 points split 16 per device, the normals with them
    dom = Rectangle((-1.0, -1.0), (1.0, 1.0))
    bc = Dirichlet(0.0, dom, num_points=64)
    batch = split_leading(bc.sample(jax.random.key(0)), device_mesh("points"), 64)
    for a in (batch.points, batch.normals):
        assert {s.data.shape for s in a.addressable_shards} == {(16, 2)}, a.sharding
        assert len(a.sharding.device_set) == 4

    def source(x):
        return -2 * jnp.pi**2 * jnp.sin(jnp.pi * x[0]) * jnp.sin(jnp.pi * x[1])

    xo = jax.random.uniform(jax.random.key(3), (16, 2), minval=-1, maxval=1)
    yo = jnp.sin(jnp.pi * xo[:, 0]) * jnp.sin(jnp.pi * xo[:, 1])
    problem = Problem({
        "pde": Residual(lambda x, d: d.laplacian - source(x), dom, num_points=64),
        "bc": Dirichlet(0.0, dom, num_points=30),  # 4 does not divide 30: replicated
        "data": Observations(xo, yo, batch_size=8),
    })
    net = SIREN.init(2, 8, 1, depth=2, key=jax.random.key(0), first_omega=3.0)
    runs = {}
    for count in (1, 4):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            runs[count] = fit(problem, net, key=jax.random.key(1), steps=20, resample_every=10,
                              lbfgs_steps=4, progress=False, devices=jax.devices()[:count])
        messages = [str(w.message) for w in caught]
        assert any("'bc' draws 30 points" in m for m in messages) == (count == 4), messages
    one, four = runs[1], runs[4]
    assert one.status == four.status == "completed"
    assert {len(a.sharding.device_set) for a in jax.tree.leaves(four.field)} == {4}
    for name in ("loss", "pde", "bc", "data"):
        np.testing.assert_allclose(four.history[name], one.history[name], rtol=1e-10)
    for a, b in zip(jax.tree.leaves(one.field), jax.tree.leaves(four.field), strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-9, atol=1e-12)
    print("FIT-SHARDED-OK", len(one.history["loss"]))
    """
)


def test_four_devices_follow_the_one_device_trajectory():
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": str(ROOT),
    }
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    # 20 Adam steps and 4 L-BFGS steps, all recorded and all equal within rounding
    assert "FIT-SHARDED-OK 24" in run.stdout, run.stderr[-3000:]
