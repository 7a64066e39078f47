"""Comparison helpers with explicit tolerances."""

import jax
import numpy as np


def tree_allclose(a, b, *, rtol: float, atol: float) -> bool:
    """True when two pytrees have the same structure and leaves equal within tolerances."""
    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    if ta != tb:
        return False
    return all(np.allclose(x, y, rtol=rtol, atol=atol) for x, y in zip(la, lb, strict=True))


def assert_close(actual, expected, *, rtol: float, atol: float, what: str = "value"):
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)
