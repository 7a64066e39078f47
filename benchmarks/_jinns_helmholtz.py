r"""DeepXDE's 2-D Helmholtz Dirichlet example in jinns, timed; run by `vs_jinns.py` in its venv.

The same setting as `_deepxde_helmholtz.py` and `vs_deepxde.py`'s fieldpde run:
$-\Delta u - k_0^2 u = k_0^2 \sin(k_0 x)\sin(k_0 y)$ on $[0, 1]^2$, $k_0 = 4\pi$, the hard
constraint $u = x(1-x)y(1-y)N(x, y)$ as a jinns output transform, a [2] + [150]*3 + [1]
sine network (`jinns.nn.PINN_MLP` from an equinox layer list) with Glorot-uniform weights
and zero biases, the residual written with jinns' own `jinns.loss.laplacian_rev` in a
`jinns.loss.PDEStatio` dynamic loss, and its mean square from
`jinns.loss.LossPDEStatio.evaluate` on the points given by ``--points-file`` (the parent's
Sobol points, so all frameworks train on the same batch).

Timing: the step is `jax.value_and_grad` of that loss and one ``optax.adam(1e-3)`` update;
``--steps`` of them run in one compiled `jax.lax.scan` (the block fieldpde's engine runs),
compiled once, then timed ``--blocks`` times; the per-step time is the median block time
over ``--steps``. jinns' own `jinns.solve` loop adds its bookkeeping on top of the same
loss and gradient, so this is the cost of jinns' loss and operators alone.

The last line printed is ``RESULT {json}``.
"""

import argparse
import json
import math
import platform
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points-file", required=True, help=".npy of (n, 2) points")
    parser.add_argument("--width", type=int, default=150)
    parser.add_argument("--steps", type=int, default=1000, help="steps per timed block")
    parser.add_argument("--blocks", type=int, default=3, help="timed blocks")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import jinns
    import numpy as np
    import optax
    from jinns.data._Batchs import PDEStatioBatch
    from jinns.parameters import Params

    k0 = 4 * math.pi
    points = jnp.asarray(np.load(args.points_file), dtype=jnp.float32)
    w = args.width
    eqx_list = (
        (eqx.nn.Linear, 2, w),
        (jnp.sin,),
        (eqx.nn.Linear, w, w),
        (jnp.sin,),
        (eqx.nn.Linear, w, w),
        (jnp.sin,),
        (eqx.nn.Linear, w, 1),
    )

    def hard_dirichlet(x, out, params):
        return x[0] * (1 - x[0]) * x[1] * (1 - x[1]) * out

    nkey, ikey = jax.random.split(jax.random.key(args.seed))
    u, nn_params = jinns.nn.PINN_MLP.create(
        key=nkey, eqx_list=eqx_list, eq_type="PDEStatio", output_transform=hard_dirichlet
    )
    # DeepXDE's "Glorot uniform" weights and zero biases, as the other two runs
    linears = [
        leaf
        for leaf in jax.tree.leaves(nn_params, is_leaf=lambda m: isinstance(m, eqx.nn.Linear))
        if isinstance(leaf, eqx.nn.Linear)
    ]
    keys = jax.random.split(ikey, len(linears))

    def glorot(layer, key):
        fan_out, fan_in = layer.weight.shape
        lim = math.sqrt(6.0 / (fan_in + fan_out))
        weight = jax.random.uniform(key, layer.weight.shape, layer.weight.dtype, -lim, lim)
        return eqx.tree_at(
            lambda m: (m.weight, m.bias), layer, (weight, jnp.zeros_like(layer.bias))
        )

    new = iter([glorot(layer, k) for layer, k in zip(linears, keys, strict=True)])
    nn_params = jax.tree.map(
        lambda m: next(new) if isinstance(m, eqx.nn.Linear) else m,
        nn_params,
        is_leaf=lambda m: isinstance(m, eqx.nn.Linear),
    )

    class Helmholtz(jinns.loss.PDEStatio):
        def equation(self, x, u, params):
            lap = jinns.loss.laplacian_rev(x, u, params, eq_type="PDEStatio")
            f = k0**2 * jnp.sin(k0 * x[0]) * jnp.sin(k0 * x[1])
            return -lap - k0**2 * u(x, params) - f

    params = Params(nn_params=nn_params, eq_params={})
    loss = jinns.loss.LossPDEStatio(
        u=u,
        dynamic_loss=Helmholtz(),
        loss_weights=jinns.loss.LossWeightsPDEStatio(dyn_loss=1.0),
        params=params,
    )
    batch = PDEStatioBatch(domain_batch=points, border_batch=None)
    optimizer = optax.adam(1e-3)

    def step(carry, _):
        p, opt_state = carry
        (value, _terms), grads = jax.value_and_grad(loss.evaluate, has_aux=True)(p, batch)
        updates, opt_state = optimizer.update(grads, opt_state, p)
        return (optax.apply_updates(p, updates), opt_state), value

    @jax.jit
    def block(p, opt_state):
        return jax.lax.scan(step, (p, opt_state), None, length=args.steps)

    opt_state = optimizer.init(params)
    t0 = time.perf_counter()
    carry, losses = jax.block_until_ready(block(params, opt_state))
    compile_s = time.perf_counter() - t0
    times = []
    for _ in range(args.blocks):
        t0 = time.perf_counter()
        carry, losses = jax.block_until_ready(block(*carry))
        times.append(time.perf_counter() - t0)
    result = {
        "points": int(points.shape[0]),
        "steps": args.steps,
        "blocks": args.blocks,
        "per_step_ms": 1e3 * float(np.median(times)) / args.steps,
        "block_s": times,
        "first_block_s": compile_s,
        "final_loss": float(losses[-1]),
        "jinns": getattr(jinns, "__version__", None) or _version("jinns"),
        "jax": jax.__version__,
        "python": platform.python_version(),
    }
    print("RESULT " + json.dumps(result), flush=True)


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


if __name__ == "__main__":
    main()
