"""The training engine: phases, the guarded block, exact resume, ensembles, bad phase lists."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import tree_allclose

from fieldpde import SIREN, Problem, fit
from fieldpde.constraints import Dirichlet, Observations, Residual
from fieldpde.domains import Interval
from fieldpde.train import (
    LBFGS,
    RESULTS,
    AbstractObjective,
    Adam,
    Engine,
    Optax,
    Record,
    TrainState,
    fit_ensemble,
)

pytestmark = pytest.mark.x64
UNIT = Interval(0.0, 1.0)


def _problem():
    return Problem(
        {
            "pde": Residual(
                lambda x, d: d.laplacian + jnp.pi**2 * jnp.sin(jnp.pi * x[0]), UNIT, num_points=32
            ),
            "bc": Dirichlet(0.0, UNIT, num_points=2, method="grid"),
        }
    )


def _net(key=0):
    return SIREN.init(1, 12, 1, depth=2, key=jax.random.key(key), first_omega=3.0)


def test_phases_run_in_sequence_and_the_sugar_is_those_phases():
    problem = _problem()
    kw = dict(key=jax.random.key(1), progress=False)
    sugar = fit(problem, _net(), steps=60, learning_rate=3e-3, resample_every=20,
                lbfgs_steps=15, lbfgs_points=64, **kw)  # fmt: skip
    phases = fit(problem, _net(), phases=[Adam(60, learning_rate=3e-3, resample_every=20),
                                          LBFGS(15, points=64)], **kw)  # fmt: skip
    assert tree_allclose(sugar.field, phases.field, rtol=0, atol=0)
    assert sugar.message == "60 Adam steps and 15 L-BFGS steps"
    assert np.bincount(phases.history["phase"]).tolist() == [60, 15]
    assert phases.state.phase == 1 and int(phases.state.step) == 15


def test_resume_is_exact_at_a_block_inside_a_later_phase(tmp_path):
    problem = _problem()
    phases = [Adam(40, learning_rate=3e-3, resample_every=20), LBFGS(30, points=48, block=10)]
    kw = dict(key=jax.random.key(2), progress=False, phases=phases)
    full = fit(problem, _net(), **kw)
    path = tmp_path / "run.ckpt"
    stop = lambda step, field, params, losses: step >= 50  # noqa: E731 (inside L-BFGS)
    first = fit(problem, _net(), checkpoint=str(path), callbacks=[stop], **kw)
    assert first.status == "stopped" and first.steps == 50 and first.state.phase == 1
    resumed = fit(problem, _net(), resume=str(path), **kw)
    assert resumed.steps == 70
    assert tree_allclose(resumed.field, full.field, rtol=0, atol=0)
    np.testing.assert_array_equal(resumed.history["loss"], full.history["loss"])


def test_bad_phase_lists_are_refused_before_training(tmp_path):
    problem = _problem()
    with pytest.raises(TypeError, match=r"`phases\[1\]` must be a training phase .* 'sgd'"):
        fit(problem, _net(), key=0, phases=[Adam(5), "sgd"])
    with pytest.raises(ValueError, match="`phases` and `steps`, `lbfgs_steps` both set"):
        fit(problem, _net(), key=0, phases=[Adam(5)], steps=10, lbfgs_steps=3)
    with pytest.raises(ValueError, match=r"`phases\[0\].points` names constraints .* \['pdee'\]"):
        fit(problem, _net(), key=0, phases=[Adam(5, points={"pdee": 10})])
    with pytest.raises(ValueError, match=r"`phases\[1\]` casts to float32 after training in"):
        fit(problem, _net(), key=0, phases=[Adam(5), LBFGS(5, dtype="float32")])
    with pytest.raises(ValueError, match="nothing to train"):
        fit(problem, _net(), key=0, steps=0, lbfgs_steps=0)
    with pytest.raises(ValueError, match="`field` has no trainable arrays"):
        fit(problem, lambda x: x, key=0, steps=5)
    with pytest.raises(ValueError, match="`learning_rate` must be a finite positive number"):
        fit(problem, _net(), key=0, steps=5, learning_rate=float("nan"))
    with pytest.raises(ValueError, match="`learning_rate` must be > 0"):
        fit(problem, _net(), key=0, steps=5, learning_rate=-1e-2)
    with pytest.raises(ValueError, match="`checkpoint` .* is a directory"):
        fit(problem, _net(), key=0, steps=5, checkpoint=str(tmp_path))


def test_an_int_key_is_the_key_it_seeds():
    a = fit(_problem(), _net(), key=7, steps=20, progress=False)
    b = fit(_problem(), _net(), key=jax.random.key(7), steps=20, progress=False)
    assert tree_allclose(a.field, b.field, rtol=0, atol=0)
    with pytest.raises(TypeError, match="`key` must be a PRNG key"):
        fit(_problem(), _net(), key="7", steps=5)


def test_a_later_phase_may_cast_to_float64():
    net = jax.tree.map(lambda a: a.astype(jnp.float32) if eqx.is_inexact_array(a) else a, _net())
    out = fit(_problem(), net, key=0, progress=False,
              phases=[Adam(20, learning_rate=3e-3), LBFGS(5, dtype="float64")])  # fmt: skip
    assert out.field.layers[0].W.dtype == jnp.float64 and out.ok


class _PerMember(AbstractObjective):
    """Least squares of a small network to each member's own data."""

    static: object
    names: tuple[str, ...] = ()

    def model(self, params):
        return eqx.combine(params, self.static)

    def __call__(self, params, batch, x):
        xs, ys = batch
        pred = eqx.combine(params, self.static)(xs)[:, 0]
        return jnp.mean((pred - ys) ** 2), {}


def _member_run(ys):
    nets = eqx.filter_vmap(lambda k: SIREN.init(1, 8, 1, depth=2, key=k, first_omega=3.0))(
        jax.random.split(jax.random.key(0), ys.shape[0])
    )
    params, static = eqx.partition(nets, eqx.is_inexact_array)
    xs = jnp.broadcast_to(jnp.linspace(-1, 1, 16)[:, None], (ys.shape[0], 16, 1))
    engine = Engine(
        (_PerMember(static),),
        (Optax(120, __import__("optax").sgd(0.05), resample_every=40),),
        sample=lambda i, phase, key, p: (xs, ys),
        members=ys.shape[0],
        batch_axes=0,
    )
    record = Record((), members=ys.shape[0])
    state, why = engine.run(engine.start(params), record)
    return state, record, why


def test_a_member_whose_data_make_it_diverge_stops_alone():
    t = jnp.linspace(-1, 1, 16)
    ys = jnp.stack([jnp.sin(2.0 * t + 0.1 * e) for e in range(16)])
    clean_state, clean_record, _ = _member_run(ys)
    poisoned = ys.at[5, 3].set(1e200)  # member 5's data: its loss overflows to inf
    state, record, why = _member_run(poisoned)
    assert why == "completed"
    bad = np.asarray(state.result == RESULTS.running)
    assert bad.tolist() == [e != 5 for e in range(16)]
    assert record.failed_at[5] == 0 and (np.delete(record.failed_at, 5) == -1).all()
    others = np.arange(16) != 5
    for a, b in zip(
        jax.tree.leaves(state.params), jax.tree.leaves(clean_state.params), strict=True
    ):
        np.testing.assert_array_equal(np.asarray(a)[others], np.asarray(b)[others])
    np.testing.assert_array_equal(record.arrays()["loss"][others],
                                  clean_record.arrays()["loss"][others])  # fmt: skip
    # the stopped member keeps its last good (here: initial) parameters, all finite
    assert all(bool(jnp.isfinite(a[5]).all()) for a in jax.tree.leaves(state.params))


def test_fit_ensemble_members_are_the_single_fits_and_report_their_status():
    x = jnp.linspace(-1, 1, 24)[:, None]
    problem = Problem([Observations(x, jnp.sin(3 * x[:, 0]), batch_size=12)])
    keys = jax.random.split(jax.random.key(0), 3)
    train = jax.random.split(jax.random.key(1), 3)
    init = lambda k: SIREN.init(1, 8, 1, depth=2, key=k, first_omega=3.0)  # noqa: E731
    kw = dict(steps=50, resample_every=10, lbfgs_steps=5, progress=False)
    out = fit_ensemble(problem, eqx.filter_vmap(init)(keys), keys=train, **kw)
    assert out.ok and out.history["loss"].shape == (3, 55)
    for e in range(3):
        single = fit(problem, init(keys[e]), key=train[e], **kw)
        member = jax.tree.map(lambda a, e=e: a[e] if eqx.is_array(a) else a, out.fields)
        # the same computation, batched: equal up to the order of floating-point sums
        assert tree_allclose(member, single.field, rtol=1e-9, atol=1e-11)
    with pytest.raises(ValueError, match=r"`keys` must hold one PRNG key per member \(3"):
        fit_ensemble(problem, eqx.filter_vmap(init)(keys), keys=train[:2], **kw)


def test_train_state_round_trips_through_jit_and_vmap():
    state = TrainState.init(Adam(3), {"w": jnp.zeros(2)})
    again = jax.jit(lambda s: s)(state)
    assert again.ok and int(again.step) == 0
    stacked = eqx.filter_vmap(lambda w: TrainState.init(Adam(3), {"w": w}))(jnp.zeros((4, 2)))
    assert stacked.params["w"].shape == (4, 2)
