r"""Dense self-scaled quasi-Newton phases: SSBFGS and SSBroyden with a strong-Wolfe search.

Both keep a dense approximation $H_k$ of the inverse Hessian, step along
$p_k = -H_k g_k$ with a step size $\alpha_k$ that satisfies the strong Wolfe conditions

$$L(\theta_k + \alpha_k p_k) \le L(\theta_k) + c_1 \alpha_k g_k^\top p_k, \qquad
|\nabla L(\theta_k + \alpha_k p_k)^\top p_k| \le c_2 |g_k^\top p_k|$$

(optax's zoom line search, Nocedal & Wright Alg. 3.5-3.6, with the plain Armijo decrease),
and update $H$ from $s_k = \alpha_k p_k$ and $y_k = g_{k+1} - g_k$ by the self-scaled Broyden
family (Urbán, Stefanou & Pons, JCP 2025; Kiyani et al. 2025):

$$H_{k+1} = \frac{1}{\tau_k}\Big(H_k - \frac{H_k y_k y_k^\top H_k}{y_k^\top H_k y_k}
+ \phi_k\, (y_k^\top H_k y_k)\, v_k v_k^\top\Big) + \frac{s_k s_k^\top}{y_k^\top s_k},
\qquad v_k = \frac{s_k}{y_k^\top s_k} - \frac{H_k y_k}{y_k^\top H_k y_k}.$$

With $b_k = s_k^\top H_k^{-1} s_k / y_k^\top s_k = -\alpha_k s_k^\top g_k / y_k^\top s_k$,
$h_k = y_k^\top H_k y_k / y_k^\top s_k$ and $a_k = b_k h_k - 1$:

- SSBFGS (Al-Baali's scaling): $\phi_k = 1$ and $\tau_k = \min(1, 1/b_k)$;
- SSBroyden (Urbán et al.'s Eqs. 13-23): $c_k = \sqrt{a_k / (1 + a_k)}$,
  $\rho_k^- = \min(1, h_k (1 - c_k))$, $\theta_k^- = (\rho_k^- - 1)/a_k$,
  $\theta_k^+ = 1/\rho_k^-$, $\theta_k = \max(\theta_k^-, \min(\theta_k^+, (1 - b_k)/b_k))$,
  $\sigma_k = 1 + a_k \theta_k$, $\rho_k^+ = \min(1, 1/b_k)$,
  $\tau_k = \min(\rho_k^+ \sigma_k^{1/(1-P)}, \sigma_k)$ if $\theta_k \le 0$, else
  $\rho_k^+ \min(\sigma_k^{1/(1-P)}, 1/\theta_k)$, and $\phi_k = (1 - \theta_k)/\sigma_k$.

The first update from $H_0 = I$ uses $\tau_0 = h_0$ (SSBFGS, the scaling
$H_0 = (s^\top y / y^\top y) I$ of Nocedal & Wright Eq. 6.20) or $\tau_0 = h_0 / \sigma_0$
(SSBroyden). A step whose line search finds no strong-Wolfe point is not taken: $H$ goes
back to the identity and the next step searches along the (scaled) gradient, and so is
a quasi-Newton direction that does not descend (rounding can cost $H$ its positive
definiteness once the loss nears its precision floor); when that
search fails too the phase stops with ``RESULTS.line_search_failed``, unless the slope
along the gradient is below 100 ulps of the loss, or the search lowered the loss by less
than 1000 ulps: the fit has then reached the precision of its arithmetic, and the phase
keeps its parameters for its remaining steps (no more line searches), its status still
running. A step along the gradient whose slope
is not negative (only rounding can cause it) stops it with ``RESULTS.no_descent``, a
non-finite direction with
``RESULTS.nonfinite_step``; the last good parameters are kept either way.

$H$ is a dense $P \times P$ matrix: $P^2$ numbers of memory and about $4P^2$ operations per
step besides the loss and gradient evaluations of the line search. Above `max_memory`
bytes the phase refuses to start and suggests `LBFGS`.
"""

import abc
from typing import Any, Literal, NamedTuple, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from .._checks import positive_float, positive_int
from ._phases import AbstractPhase, Points, _dtype, _points
from ._results import RESULTS

Rule = Literal["bfgs", "broyden"]

# a slope below this many ulps of the loss cannot show in the Armijo test
_RESOLUTION = 100.0
# a line search that lowers the loss by less than this many ulps found no decrease
_DECREASE = 1000.0


class QuasiNewtonState(NamedTuple):
    """The state of a dense self-scaled quasi-Newton phase.

    Attributes:
        inverse_hessian: $H$, ``(P, P)``.
        identity: whether $H$ is the identity (at the start and after a failed search).
        value, grad: the loss and gradient at the current parameters (``inf`` before the
            first step), carried from the line search so a step evaluates them once.
        line_search: the state of optax's zoom line search.
        converged: set when even a gradient step's decrease is below the rounding of the
            loss; the phase then stops moving (its status stays running).
    """

    inverse_hessian: jax.Array
    identity: jax.Array
    value: jax.Array
    grad: jax.Array
    line_search: Any
    converged: jax.Array


def _line_search(phase: Any) -> optax.GradientTransformationExtraArgs:
    return optax.scale_by_zoom_linesearch(
        max_linesearch_steps=phase.line_search_steps,
        slope_rtol=phase.wolfe[0],
        curv_rtol=phase.wolfe[1],
        approx_dec_rtol=None,
        initial_guess_strategy="one",
    )


def _check_wolfe(wolfe: Any) -> tuple[float, float]:
    try:
        c1, c2 = (float(v) for v in wolfe)
    except (TypeError, ValueError) as err:
        raise TypeError(f"`wolfe` must be a pair (c1, c2), got {wolfe!r}") from err
    if not 0 < c1 < c2 < 1:
        raise ValueError(f"`wolfe` must satisfy 0 < c1 < c2 < 1, got {wolfe!r}")
    return c1, c2


def _size(nbytes: float) -> str:
    return f"{nbytes / 2**30:.1f} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:.1f} MiB"


def _init(phase: Any, params: Any) -> QuasiNewtonState:
    flat, _ = ravel_pytree(params)
    size = int(flat.size)
    need = size * size * flat.dtype.itemsize
    if need > phase.max_memory:
        raise ValueError(
            f"{type(phase).__name__} keeps a dense {size} x {size} inverse Hessian "
            f"({_size(need)} in {flat.dtype}), above `max_memory`="
            f"{_size(phase.max_memory)}: train a network this large with "
            f"LBFGS({phase.steps}) instead, or raise `max_memory`"
        )
    return QuasiNewtonState(
        inverse_hessian=jnp.eye(size, dtype=flat.dtype),
        identity=jnp.array(True),
        value=jnp.asarray(jnp.inf, dtype=flat.dtype),
        grad=jnp.zeros_like(flat),
        line_search=_line_search(phase).init(flat),
        converged=jnp.array(False),
    )


def self_scaled_update(
    rule: Rule,
    H: jax.Array,
    s: jax.Array,
    y: jax.Array,
    g: jax.Array,
    alpha: jax.Array,
    identity: jax.Array,
) -> jax.Array:
    r"""One self-scaled Broyden-family update of the inverse Hessian (module docstring).

    Args:
        rule: ``"bfgs"`` (SSBFGS) or ``"broyden"`` (SSBroyden).
        H: $H_k$, ``(P, P)``.
        s: the step $s_k = \alpha_k p_k$.
        y: the change of gradient $y_k$.
        g: the gradient $g_k$ at the start of the step.
        alpha: the step size $\alpha_k$.
        identity: whether $H_k$ is the identity (the first update scales it).

    Returns:
        $H_{k+1}$; $H_k$ unchanged when $y_k^\top s_k \le 0$ or the update is not finite.

    Example:
        The secant equation $H_{k+1} y_k = s_k$ holds for every member of the family:

        >>> import jax.numpy as jnp
        >>> H = jnp.eye(3)
        >>> s, y = jnp.array([1.0, 0.5, 0.0]), jnp.array([2.0, 1.0, 0.5])
        >>> g = jnp.array([-1.0, -0.5, 0.0])
        >>> for rule in ("bfgs", "broyden"):
        ...     H1 = self_scaled_update(rule, H, s, y, g, jnp.asarray(1.0), jnp.array(False))
        ...     print(rule, bool(jnp.allclose(H1 @ y, s, atol=1e-5)))
        bfgs True
        broyden True
    """
    sy = s @ y
    rho = 1.0 / sy
    Hy = H @ y
    yHy = y @ Hy
    h = yHy * rho
    b = -alpha * (s @ g) * rho
    if rule == "bfgs":
        phi = jnp.ones_like(h)
        tau = jnp.where(identity, h, jnp.minimum(1.0, 1.0 / b))
    else:
        n = s.shape[0]
        a = jnp.maximum(b * h - 1.0, 0.0)
        c = jnp.sqrt(a / (1.0 + a))
        rho_minus = jnp.minimum(1.0, h * (1.0 - c))
        safe_a = jnp.where(a > 0, a, 1.0)
        theta_minus = jnp.where(a > 0, (rho_minus - 1.0) / safe_a, 0.0)
        theta_plus = 1.0 / rho_minus
        theta = jnp.maximum(theta_minus, jnp.minimum(theta_plus, (1.0 - b) / b))
        sigma = 1.0 + a * theta
        rho_plus = jnp.minimum(1.0, 1.0 / b)
        power = jnp.abs(sigma) ** (1.0 / (1.0 - n)) if n > 1 else jnp.ones_like(sigma)
        safe_theta = jnp.where(theta > 0, theta, 1.0)
        tau_later = jnp.where(
            theta <= 0,
            jnp.minimum(rho_plus * power, sigma),
            rho_plus * jnp.minimum(power, 1.0 / safe_theta),
        )
        tau = jnp.where(identity, h / sigma, tau_later)
        phi = (1.0 - theta) / sigma
    v = rho * s - Hy / yHy
    # finite coefficients and vectors make a finite update of the finite H: checking them
    # instead of the new matrix spares a reduction over it, so XLA can fuse the update
    # with the choice (a dense step is bound by its passes over the P x P memory)
    scalars = jnp.stack([rho, 1.0 / yHy, phi * yHy, 1.0 / tau])
    ok = (
        (sy > 0)
        & jnp.all(jnp.isfinite(scalars))
        & jnp.all(jnp.isfinite(Hy))
        & jnp.all(jnp.isfinite(v))
        & jnp.all(jnp.isfinite(s))
    )
    new = (H - jnp.outer(Hy, Hy) / yHy + (phi * yHy) * jnp.outer(v, v)) / tau + rho * jnp.outer(
        s, s
    )
    return jnp.where(ok, new, H)


def _update(rule: Rule, phase: Any, objective, params, state: QuasiNewtonState, batch, x):
    flat, unravel = ravel_pytree(params)

    def total(v):
        return objective(unravel(v), batch, x)[0]

    value, g = jax.lax.cond(
        jnp.isfinite(state.value),
        lambda: (state.value, state.grad),
        lambda: jax.value_and_grad(total)(flat),
    )
    names = objective.names
    if len(names) == 1:
        parts = {names[0]: value}  # the total is the one part: no extra forward pass
    else:
        parts = objective(params, batch, x)[1]

    def step(state):
        H = state.inverse_hessian
        gnorm = jnp.linalg.norm(g)
        start = -g * jnp.minimum(1.0, 1.0 / jnp.where(gnorm > 0, gnorm, 1.0))
        p = jnp.where(state.identity, start, -(H @ g))
        slope = g @ p

        search = _line_search(phase)
        _, ls_state = search.update(p, state.line_search, flat, value=value, grad=g, value_fn=total)
        ls: Any = ls_state  # optax's zoom line-search state (a NamedTuple)
        alpha = ls.learning_rate
        value_new, g_new = ls.value, ls.grad
        c1, c2 = phase.wolfe
        # an uphill quasi-Newton direction (H lost its positive definiteness to rounding,
        # as near the precision floor) is refused like a failed search: H is reset
        wolfe = (
            (slope < 0)
            & (alpha > 0)
            & jnp.isfinite(value_new)
            & (value_new <= value + c1 * alpha * slope)
            & (jnp.abs(g_new @ p) <= c2 * jnp.abs(slope))
        )
        s = alpha * p
        H_new = self_scaled_update(rule, H, s, g_new - g, g, alpha, state.identity)
        # a failed search along the scaled gradient whose slope, or whose best decrease,
        # is within the rounding of the loss: training has reached the loss's precision
        ulp = jnp.finfo(flat.dtype).eps * jnp.abs(value)
        floor = (
            ~wolfe
            & state.identity
            & ((jnp.abs(slope) <= _RESOLUTION * ulp) | ~(value_new < value - _DECREASE * ulp))
        )
        accepted = QuasiNewtonState(H_new, jnp.array(False), value_new, g_new, ls, floor)
        # refused: keep the parameters, start again from the identity along the gradient
        refused = QuasiNewtonState(
            jnp.eye(flat.size, dtype=flat.dtype),
            jnp.array(True),
            value,
            g,
            ls._replace(value=value, grad=g),
            floor,
        )
        new_state = jax.tree.map(lambda a, b: jnp.where(wolfe, a, b), accepted, refused)
        new_flat = jnp.where(wolfe, flat + s, flat)
        breakdown = RESULTS.where(
            ~jnp.all(jnp.isfinite(p)),
            RESULTS.nonfinite_step,
            RESULTS.where(
                state.identity & ~((slope < 0) | (gnorm == 0)),
                RESULTS.no_descent,
                RESULTS.where(
                    ~wolfe & state.identity & (gnorm > 0) & ~floor,
                    RESULTS.line_search_failed,
                    RESULTS.running,
                ),
            ),
        )
        return new_flat, new_state, breakdown

    def rest(state):
        return flat, state, RESULTS.running

    new_flat, new_state, breakdown = jax.lax.cond(state.converged, rest, step, state)
    return value, parts, unravel(g), unravel(new_flat), new_state, breakdown


def _options(line_search_steps: int, wolfe: Any, max_memory: float) -> tuple[int, Any, float]:
    return (
        positive_int("line_search_steps", line_search_steps),
        _check_wolfe(wolfe),
        positive_float("max_memory", max_memory),
    )


class AbstractDenseQuasiNewton(AbstractPhase):
    """A dense quasi-Newton phase on one fixed batch: what `SSBFGS` and `SSBroyden` share.

    A subclass names its update `rule` (``"bfgs"`` or ``"broyden"``, see
    `self_scaled_update`) and holds the attributes documented on `SSBroyden`.
    """

    block: eqx.AbstractVar[int]

    @property
    @abc.abstractmethod
    def rule(self) -> Rule:
        """The self-scaled update: ``"bfgs"`` or ``"broyden"``."""

    @property
    def block_size(self) -> int:
        return self.block

    @property
    def resamples(self) -> bool:
        return False

    def init(self, params: Any) -> QuasiNewtonState:
        return _init(self, params)

    def update(self, objective, params, opt_state, batch, x):
        return _update(self.rule, self, objective, params, opt_state, batch, x)


@final
class SSBFGS(AbstractDenseQuasiNewton):
    r"""Dense self-scaled BFGS with a strong-Wolfe line search, on one fixed batch of points.

    The scaling is Al-Baali's $\tau_k = \min(1, 1/b_k)$.

    See `fieldpde.train.SSBroyden` for the family and the breakdown statuses; this is its
    member with $\phi_k = 1$.

    Attributes:
        steps: quasi-Newton steps.
        points: collocation points per constraint for the phase's one batch (default:
            each constraint's own ``num_points``).
        block: steps per compiled block (checkpoints, callbacks and progress come
            between; the batch and $H$ carry over).
        line_search_steps: the most evaluations of the loss and gradient in one line
            search.
        wolfe: the constants $(c_1, c_2)$ of the strong Wolfe conditions.
        max_memory: the most bytes the dense inverse Hessian may take (default 2 GiB:
            about 16 000 parameters in float64).
        dtype: as for `AbstractPhase` (``"float64"`` recommended for a polish).

    Example:
        >>> import jax.numpy as jnp
        >>> from fieldpde.train import Engine, LossObjective, Record
        >>> A = jnp.diag(jnp.arange(1.0, 6.0))
        >>> loss = LossObjective(lambda w: 0.5 * w @ A @ w - w.sum(), None)
        >>> engine = Engine((loss,), (SSBFGS(12, wolfe=(1e-4, 0.1)),))
        >>> state, why = engine.run(engine.start(jnp.zeros(5)), Record(()))
        >>> why, bool(jnp.allclose(state.params, 1.0 / jnp.arange(1.0, 6.0), atol=1e-4))
        ('completed', True)
    """

    steps: int = eqx.field(static=True)
    points: Points = eqx.field(static=True)
    block: int = eqx.field(static=True)
    line_search_steps: int = eqx.field(static=True)
    wolfe: tuple[float, float] = eqx.field(static=True)
    max_memory: float = eqx.field(static=True)
    dtype: str | None = eqx.field(static=True)

    def __init__(
        self,
        steps: int,
        *,
        points: Any = None,
        block: int = 500,
        line_search_steps: int = 30,
        wolfe: Any = (1e-4, 0.9),
        max_memory: float = 2.0**31,
        dtype: Any = None,
    ):
        self.steps = positive_int("steps", steps, minimum=0)
        self.points = _points(points)
        self.block = positive_int("block", block)
        self.line_search_steps, self.wolfe, self.max_memory = _options(
            line_search_steps, wolfe, max_memory
        )
        self.dtype = _dtype(dtype)

    @property
    def rule(self) -> Rule:
        return "bfgs"


@final
class SSBroyden(AbstractDenseQuasiNewton):
    r"""Dense self-scaled Broyden with a strong-Wolfe line search, on one fixed batch.

    After Urbán, Stefanou & Pons (JCP 2025).

    The update (the module docstring of ``fieldpde.train._quasi_newton`` gives the
    formulas) chooses the Broyden parameter $\phi_k$ and the scaling $\tau_k$ of each
    step from the curvature seen along it. A failed line search resets $H$ to the identity;
    so does a quasi-Newton direction that does not descend; a second failure in a row
    stops the phase with ``line_search_failed``, a gradient direction that does not
    descend with ``no_descent``, a non-finite one with ``nonfinite_step``.

    Attributes:
        steps: quasi-Newton steps.
        points: collocation points per constraint for the phase's one batch (default:
            each constraint's own ``num_points``).
        block: steps per compiled block (checkpoints, callbacks and progress come
            between; the batch and $H$ carry over).
        line_search_steps: the most evaluations of the loss and gradient in one line
            search.
        wolfe: the constants $(c_1, c_2)$ of the strong Wolfe conditions.
        max_memory: the most bytes the dense inverse Hessian may take (default 2 GiB:
            about 16 000 parameters in float64).
        dtype: as for `AbstractPhase` (``"float64"`` recommended for a polish).

    Example:
        >>> import jax.numpy as jnp
        >>> from fieldpde.train import Engine, LossObjective, Record
        >>> rosenbrock = LossObjective(
        ...     lambda w: (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2, None)
        >>> engine = Engine((rosenbrock,), (SSBroyden(60),))
        >>> state, why = engine.run(engine.start(jnp.array([-1.2, 1.0])), Record(()))
        >>> why, bool(jnp.allclose(state.params, 1.0, atol=1e-3))
        ('completed', True)
    """

    steps: int = eqx.field(static=True)
    points: Points = eqx.field(static=True)
    block: int = eqx.field(static=True)
    line_search_steps: int = eqx.field(static=True)
    wolfe: tuple[float, float] = eqx.field(static=True)
    max_memory: float = eqx.field(static=True)
    dtype: str | None = eqx.field(static=True)

    def __init__(
        self,
        steps: int,
        *,
        points: Any = None,
        block: int = 500,
        line_search_steps: int = 30,
        wolfe: Any = (1e-4, 0.9),
        max_memory: float = 2.0**31,
        dtype: Any = None,
    ):
        self.steps = positive_int("steps", steps, minimum=0)
        self.points = _points(points)
        self.block = positive_int("block", block)
        self.line_search_steps, self.wolfe, self.max_memory = _options(
            line_search_steps, wolfe, max_memory
        )
        self.dtype = _dtype(dtype)

    @property
    def rule(self) -> Rule:
        return "broyden"


def dense_memory(params: Any) -> int:
    """Bytes of the dense inverse Hessian of `params` (for `max_memory`).

    Args:
        params: the trainable arrays.

    Returns:
        $P^2$ times the item size of their dtype.

    Example:
        >>> import jax.numpy as jnp
        >>> dense_memory({"w": jnp.zeros((10, 10), jnp.float32)})
        40000
    """
    flat, _ = ravel_pytree(params)
    return int(np.int64(flat.size) ** 2 * flat.dtype.itemsize)
