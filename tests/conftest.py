"""Test configuration: float32 by default (the user's default), float64 where a test asks.

A test module that compares against exact derivatives or reference solutions to tight
tolerances opts into 64-bit floats with ``pytestmark = pytest.mark.x64`` (or a single test
with ``@pytest.mark.x64``); the test then runs inside ``jax.enable_x64(True)``. Everything
else, doctests included, runs in float32 as a user's code does.
"""

import jax
import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "x64: run the test with JAX's 64-bit floats enabled")


@pytest.fixture(autouse=True)
def _x64(request):
    # a test (or a documentation snippet it runs) may switch the global flag itself;
    # put it back afterwards so that no test sees another's precision
    before = jax.config.jax_enable_x64
    try:
        if request.node.get_closest_marker("x64") is None:
            yield
        else:
            with jax.enable_x64(True):
                yield
    finally:
        jax.config.update("jax_enable_x64", before)


@pytest.fixture
def key():
    return jax.random.key(0)
