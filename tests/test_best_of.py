"""`fit_best_of`: probe several initial fields, continue the lowest-loss one, and its CLI use."""

import textwrap

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import tree_allclose

from fieldpde import SIREN, Problem
from fieldpde.app import run
from fieldpde.cli import main
from fieldpde.constraints import Dirichlet
from fieldpde.domains import Interval
from fieldpde.train import fit, fit_best_of

LINE = Interval(-1.0, 1.0)
PROBLEM = Problem([Dirichlet(lambda x: jnp.sin(3.0 * x[0]), LINE, num_points=64)])
KW = dict(learning_rate=3e-3, progress=False)


def _net(i, scale=1.0):
    net = SIREN.init(1, 16, 1, depth=3, key=jax.random.key(i), first_omega=3.0)
    return eqx.tree_at(lambda n: n.layers[-1].W, net, scale * net.layers[-1].W)


def test_the_lowest_probe_loss_continues_exactly_as_a_single_fit_from_it():
    # start 1 begins with a readout 300x too large: its probe loss is far above the others'
    fields = [_net(0), _net(1, scale=300.0), _net(2)]
    key = jax.random.key(7)
    result = fit_best_of(PROBLEM, fields, key=key, probe_steps=30, steps=80, **KW)
    probes = [
        fit(PROBLEM, f, key=key, steps=80, callbacks=[_stop_at(30)], resample_every=10, **KW)
        for f in fields
    ]
    losses = [p.history["loss"][29] for p in probes]
    best = int(np.argmin(losses))
    assert best != 1 and losses[1] > 10 * min(losses)
    # the chosen start's state runs on: its schedule, optimiser state and points continue,
    # so the result is the single run from that start, bit for bit
    single = fit(PROBLEM, fields[best], key=key, steps=80, **KW)
    assert tree_allclose(result.field, single.field, rtol=0, atol=0)
    np.testing.assert_array_equal(result.history["loss"], single.history["loss"])
    assert result.steps == 80 and result.history["loss"].shape == (80,)
    assert result.message.startswith("best of 3 starts") and f"start {best};" in result.message
    assert result.ok and result.wall_time > 0


def _stop_at(step):
    return lambda s, field, params, losses: s >= step


def test_probe_within_the_lbfgs_phase_and_a_failed_start_is_never_chosen():
    nan_field = eqx.tree_at(lambda n: n.layers[0].b, _net(0), jnp.full(16, jnp.nan))
    result = fit_best_of(
        PROBLEM,
        [nan_field, _net(3)],
        key=jax.random.key(1),
        probe_steps=15,
        steps=10,
        lbfgs_steps=12,
        **KW,
    )
    assert "start 1;" in result.message and "inf" in result.message
    # 10 Adam + 5 L-BFGS steps in the probe, 7 L-BFGS steps after it
    assert result.steps == 22 and list(
        np.unique(result.history["phase"], return_counts=True)[1]
    ) == [10, 12]
    assert np.all(np.isfinite(result.history["loss"]))


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="`fields`"):
        fit_best_of(PROBLEM, [], key=jax.random.key(0), probe_steps=5, steps=10, **KW)
    with pytest.raises(ValueError, match="`resume`"):
        fit_best_of(
            PROBLEM, [_net(0)], key=jax.random.key(0), probe_steps=5, steps=10, resume="x", **KW
        )
    with pytest.raises(ValueError, match="`probe_steps`"):
        fit_best_of(PROBLEM, [_net(0)], key=jax.random.key(0), probe_steps=0, steps=10, **KW)


def test_solve_with_several_starts(tmp_path, capsys):
    path = tmp_path / "sine.py"
    path.write_text(
        textwrap.dedent(
            """
            import jax.numpy as jnp
            from fieldpde import SIREN, Problem
            from fieldpde.app import Settings
            from fieldpde.constraints import Dirichlet
            from fieldpde.domains import Interval

            SETTINGS = Settings(steps=40, points=32, grid=17, x64=True, starts=3, probe_steps=10)

            def exact(x):
                return jnp.sin(2.0 * x[..., :1])

            def problem(points=32):
                return Problem([Dirichlet(exact, Interval(-1.0, 1.0), num_points=points)],
                               exact=exact, name="sine")

            def field(key, dtype=None):
                return SIREN.init(1, 8, 1, depth=2, key=key, first_omega=2.0, dtype=dtype)
            """
        )
    )
    assert main(["solve", str(path), "--out", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "best of 3 starts after 10 steps" in printed and "probe losses" in printed
    assert (tmp_path / "sine.nc").exists()
    # --starts 1 is the plain single-start run of the same seed
    one = run(path, out=tmp_path, progress=False, starts=1)
    assert "best of" not in capsys.readouterr().out and one.status == "completed"
    with pytest.raises(ValueError, match="`starts`"):
        run(path, out=tmp_path, starts=0)
    with pytest.raises(SystemExit):
        main(["solve", str(path), "--starts", "0"])  # argparse: a usage error, exit 2
