import numpy as np
import pytest

import profond


@pytest.fixture(autouse=True)
def _fresh_state():
    """Every test starts from the same seed, float32 and the NumPy backend."""
    profond.random.seed(1234)
    profond.backend.set_floatx("float32")
    profond.backend.set_backend("numpy")
    yield
    profond.backend.set_floatx("float32")
    profond.backend.set_backend("numpy")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def fresh_registry(monkeypatch):
    """Custom objects registered in a test (``register_keras_serializable``, the kinds'
    ``register``) are gone after it."""
    from profond.saving import object_registration as registration

    monkeypatch.setattr(registration, "_GLOBAL_CUSTOM_OBJECTS",
                        dict(registration._GLOBAL_CUSTOM_OBJECTS))
    monkeypatch.setattr(registration, "_GLOBAL_CUSTOM_NAMES",
                        dict(registration._GLOBAL_CUSTOM_NAMES))
    return registration
