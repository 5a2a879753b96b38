"""Test set-up: 2 CPU devices (set before jax is imported) and strict dtype promotion, so an
accidental float64 or int/float mix is an error here rather than a silent upcast."""
import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_numpy_dtype_promotion", "strict")


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same graphnet seed and NumPy stream."""
    import graphnet
    graphnet.utils.set_random_seed(0)
    np.random.seed(0)
    yield
