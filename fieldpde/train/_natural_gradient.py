r"""Energy natural gradient (Gauss-Newton) on the stacked residuals of a problem.

For the Eq. 3 loss with squared norms, $L(\theta) = \lVert r(\theta) \rVert^2$ with the
weighted residual vector $r$ of all constraints (`ProblemObjective.residuals`). With the
Jacobian $J = \partial r / \partial \theta$ (rows: residuals, columns: parameters), the
energy natural gradient of Müller & Zeinhofer (ICML 2023) for a linear PDE operator is the
Gauss-Newton direction

$$d = -(J^\top J + \lambda I)^{-1} J^\top r,$$

preconditioning the gradient $2 J^\top r$ by the Gramian $J^\top J$ of the residuals'
tangent functions. When there are fewer residuals $N$ than parameters $P$, the same
direction comes from the $N \times N$ system (the Woodbury identity)

$$d = -J^\top (J J^\top + \lambda I)^{-1} r.$$

A step then tries the sizes $\eta \in \{1, 1/2, \dots, 2^{1-K}\}$ and takes the one with the
lowest loss (the grid line search of Müller & Zeinhofer). The damping $\lambda$ is relative
to the mean diagonal of the Gramian, $\lambda = \mu\,\lVert J \rVert_F^2 / P$; when no step of
the grid lowers the loss, the step is refused and $\mu$ grows tenfold (a Levenberg-Marquardt
safeguard), and after a success it falls back tenfold towards the phase's `damping`.

Breakdowns stop the phase with the last good parameters: a non-finite direction (the
factorisation failed) with ``RESULTS.nonfinite_step``; a step refused at $\mu \ge 1$ (a
short, heavily damped step that still does not lower the loss) with ``RESULTS.no_descent``
when the direction does not descend ($g^\top d \ge 0$, rounding in the solve) and
``RESULTS.line_search_failed`` when it does. A refused step whose predicted decrease
$|g^\top d|$ is below 100 ulps of the loss is no breakdown: the fit has reached the
precision of its arithmetic, and the phase goes on refusing steps, its status running.

A step costs the Jacobian (a few forward passes' worth when the constraints' rows are
independent, see `AbstractConstraint.independent_rows`), the Gramian
($\min(N, P)^2 \max(N, P)$ multiply-adds), a Cholesky factorisation ($\min(N, P)^3 / 3$)
and $K$ evaluations of the loss. The Gramian squares the condition number of $J$, so
float64 is recommended (``dtype="float64"``): in float32 the factorisation breaks down
once the loss falls a few orders of magnitude.
"""

from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
from jax.flatten_util import ravel_pytree

from .._checks import positive_float, positive_int
from ._phases import AbstractPhase, Points, _dtype, _points
from ._results import RESULTS

# relative damping above which a refused step counts as a failed line search: the
# direction is then close to a short gradient step, and still no grid step lowers the loss
_MAX_DAMPING = 1.0
_CAP = 1e6  # refused steps stop raising the damping here
_RESOLUTION = 100.0  # ulps of the loss a predicted decrease must exceed to count


@final
class NaturalGradient(AbstractPhase):
    r"""Energy natural gradient / Gauss-Newton steps with a grid line search.

    Needs an objective with a residual vector: a `Problem` whose terms all use the squared
    norm (hard constraints, soft constraints and trainable PDE coefficients alike). See the
    module docstring for the step; float64 is recommended.

    Attributes:
        steps: natural-gradient steps.
        damping: the relative damping $\mu$ (the floor of its adaptation), a positive
            number.
        grid: the number $K$ of step sizes $1, 1/2, \dots, 2^{1-K}$ tried per step.
        points: collocation points per constraint (default: each constraint's own
            ``num_points``).
        block: steps per compiled block.
        resample: draw fresh points every block (default: one fixed batch for the phase).
        dtype: as for `AbstractPhase` (``"float64"`` recommended).

    Example:
        A linear least-squares fit: one step lands on the solution.

        >>> import jax, jax.numpy as jnp
        >>> from fieldpde import Problem
        >>> from fieldpde.constraints import Observations
        >>> from fieldpde.train import fit
        >>> x = jnp.linspace(0.0, 1.0, 8)[:, None]
        >>> problem = Problem({"data": Observations(x, 2.0 * x[:, 0] + 1.0)})
        >>> class Line(eqx.Module):
        ...     ab: jax.Array
        ...     def __call__(self, x):
        ...         return self.ab[0] * x + self.ab[1]
        >>> result = fit(problem, Line(jnp.zeros(2)), key=0, progress=False,
        ...              phases=[NaturalGradient(1, damping=1e-12)])
        >>> [round(float(v), 3) for v in result.field.ab]
        [2.0, 1.0]
    """

    steps: int = eqx.field(static=True)
    damping: float = eqx.field(static=True)
    grid: int = eqx.field(static=True)
    points: Points = eqx.field(static=True)
    block: int = eqx.field(static=True)
    resample: bool = eqx.field(static=True)
    dtype: str | None = eqx.field(static=True)

    def __init__(
        self,
        steps: int,
        *,
        damping: float = 1e-10,
        grid: int = 20,
        points: Any = None,
        block: int = 50,
        resample: bool = False,
        dtype: Any = None,
    ):
        self.steps = positive_int("steps", steps, minimum=0)
        self.damping = positive_float("damping", damping)
        self.grid = positive_int("grid", grid)
        self.points = _points(points)
        self.block = positive_int("block", block)
        if not isinstance(resample, bool):
            raise TypeError(f"`resample` must be True or False, got {resample!r}")
        self.resample = resample
        self.dtype = _dtype(dtype)

    @property
    def block_size(self) -> int:
        return self.block

    @property
    def resamples(self) -> bool:
        return self.resample

    def init(self, params: Any) -> Any:
        flat, _ = ravel_pytree(params)
        return jnp.asarray(self.damping, dtype=flat.dtype)

    def update(self, objective, params, opt_state, batch, x):
        loss, parts = objective(params, batch, x)
        residuals, jacobian = objective.residuals_and_jacobian(params, batch, x)
        flat, unravel = ravel_pytree(params)
        mu = opt_state
        direction = gauss_newton_direction(jacobian, residuals, mu)
        grad = 2.0 * (jacobian.T @ residuals)
        slope = grad @ direction

        sizes = 2.0 ** -jnp.arange(self.grid, dtype=flat.dtype)

        def trial(eta):
            return objective(unravel(flat + eta * direction), batch, x)[0]

        losses = jax.lax.map(trial, sizes, batch_size=min(self.grid, 8))
        losses = jnp.where(jnp.isnan(losses), jnp.inf, losses)
        best = jnp.argmin(losses)
        improved = losses[best] < loss
        new_flat = jnp.where(improved, flat + sizes[best] * direction, flat)
        raised = jnp.minimum(mu * 10.0, _CAP)
        # Levenberg-Marquardt: a full step earns less damping, a short one (eta < 1/4)
        # more, as a trust region would
        eta = sizes[best]
        kept = jnp.where(eta >= 1.0, jnp.maximum(mu / 10.0, self.damping), mu)
        kept = jnp.where(eta < 0.25, raised, kept)
        new_mu = jnp.where(improved, kept, raised)
        new_mu = new_mu.astype(mu.dtype)
        # a predicted decrease below the rounding of the loss cannot show on the grid:
        # the fit has reached the precision of its arithmetic, which is no failure
        resolvable = jnp.abs(slope) > _RESOLUTION * jnp.finfo(flat.dtype).eps * jnp.abs(loss)

        # a refused step only raises the damping, until it is heavy (mu >= 1) and the
        # predicted decrease is resolvable: then the direction is the culprit
        stuck = ~improved & (mu >= _MAX_DAMPING) & resolvable
        breakdown = RESULTS.where(
            ~jnp.all(jnp.isfinite(direction)),
            RESULTS.nonfinite_step,
            RESULTS.where(
                stuck & ~(slope < 0),
                RESULTS.no_descent,
                RESULTS.where(stuck, RESULTS.line_search_failed, RESULTS.running),
            ),
        )
        return loss, parts, unravel(grad), unravel(new_flat), new_mu, breakdown


def gauss_newton_direction(jacobian: jax.Array, residuals: jax.Array, mu: jax.Array) -> jax.Array:
    r"""$-(J^\top J + \lambda I)^{-1} J^\top r$, by the smaller of the two normal systems.

    Args:
        jacobian: $J$, shape ``(N, P)``.
        residuals: $r$, shape ``(N,)``.
        mu: the relative damping; $\lambda = \mu \lVert J \rVert_F^2 / P$.

    Returns:
        The direction, shape ``(P,)`` (non-finite if the factorisation broke down).

    Example:
        >>> import jax.numpy as jnp
        >>> J = jnp.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
        >>> d = gauss_newton_direction(J, jnp.array([1.0, 2.0, 3.0]), jnp.asarray(0.0))
        >>> bool(jnp.allclose(d, -jnp.linalg.lstsq(J, jnp.array([1.0, 2.0, 3.0]))[0]))
        True
    """
    n, p = jacobian.shape
    lam = mu * jnp.sum(jnp.square(jacobian)) / p
    if n >= p:
        gram = jacobian.T @ jacobian + lam * jnp.eye(p, dtype=jacobian.dtype)
        factor = jsl.cho_factor(gram, lower=True)
        return -jsl.cho_solve(factor, jacobian.T @ residuals)
    kernel = jacobian @ jacobian.T + lam * jnp.eye(n, dtype=jacobian.dtype)
    factor = jsl.cho_factor(kernel, lower=True)
    return -(jacobian.T @ jsl.cho_solve(factor, residuals))
