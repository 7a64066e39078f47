"""How a training run ended: an enumeration with a message per outcome (as diffrax's `RESULTS`)."""

from typing import final

import equinox as eqx


@final
class RESULTS(eqx.Enumeration):
    """The status of a training state: one item per outcome, each with its message.

    An item is a JAX array under the hood, so a status lives inside compiled code and in
    vmapped ensembles (one item per member); ``RESULTS[item]`` is its message and
    `status_label` its short name (the ``status`` of a `FitResult`).

    Example:
        >>> import jax.numpy as jnp
        >>> status_label(RESULTS.diverged), RESULTS[RESULTS.nonfinite].startswith("the loss")
        ('diverged', True)
        >>> bool(RESULTS.where(jnp.array(False), RESULTS.diverged, RESULTS.running)
        ...      == RESULTS.running)
        True
    """

    running = "every step it was given ran"
    nonfinite = "the loss or its gradient became non-finite"
    diverged = "the loss diverged (above divergence_factor x the best loss so far)"
    no_descent = "the optimiser produced no descent direction"
    line_search_failed = "the line search found no acceptable step"
    nonfinite_step = "the optimiser produced a non-finite step"


_LABELS = {
    "completed": RESULTS.running,
    "nan": RESULTS.nonfinite,
    "diverged": RESULTS.diverged,
    "no_descent": RESULTS.no_descent,
    "line_search_failed": RESULTS.line_search_failed,
    "nonfinite_step": RESULTS.nonfinite_step,
}


def status_label(item) -> str:
    """The short name of one (unbatched) `RESULTS` item: ``"completed"``, ``"nan"``, ..."""
    for label, candidate in _LABELS.items():
        if bool(item == candidate):
            return label
    raise ValueError(f"not a RESULTS item: {item!r}")
