import sys

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is the parity oracle; install profond[test]")
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seeded_keras():
    """Keras draws initial weights from its own generators: seeded before each parity test, so
    a test sees the same weights on every run and in any order (a badly conditioned draw cannot
    come and go)."""
    keras = sys.modules.get("keras")
    if keras is not None:
        keras.utils.set_random_seed(0)
    yield
