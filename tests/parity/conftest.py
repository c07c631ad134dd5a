import pytest

torch = pytest.importorskip("torch", reason="PyTorch is the parity oracle; install profond[test]")
torch.set_num_threads(1)
