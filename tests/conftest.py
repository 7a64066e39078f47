import jax
import pytest

# Accuracy tests compare against exact derivatives, so run the suite in float64;
# tests that exercise float32 behaviour pass dtype explicitly.
jax.config.update("jax_enable_x64", True)


@pytest.fixture
def key():
    return jax.random.key(0)
