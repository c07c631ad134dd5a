"""Fashion-MNIST loader: IDX parsing, directory resolution, clear errors; the real files."""

import gzip
import os

import numpy as np
import pytest

from profond.datasets import load_fashion_mnist
from profond.datasets.fashion_mnist import DEFAULT_DIRECTORY, read_idx

FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def idx_bytes(array):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write_fake(directory, n_train=6, n_test=4):
    rng = np.random.default_rng(0)
    arrays = {FILES[0]: rng.integers(0, 256, (n_train, 28, 28)),
              FILES[1]: rng.integers(0, 10, n_train),
              FILES[2]: rng.integers(0, 256, (n_test, 28, 28)),
              FILES[3]: rng.integers(0, 10, n_test)}
    for name, array in arrays.items():
        with gzip.open(directory / name, "wb") as f:
            f.write(idx_bytes(array))
    return arrays


def test_reads_a_directory_given_as_argument(tmp_path):
    arrays = write_fake(tmp_path)
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist(tmp_path)
    assert x_train.shape == (6, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (4, 28, 28)
    assert y_train.dtype.kind == "i"
    np.testing.assert_array_equal(x_train, arrays[FILES[0]])
    np.testing.assert_array_equal(y_test, arrays[FILES[3]])


def test_profond_data_environment_variable(tmp_path, monkeypatch):
    (tmp_path / "fashion-mnist").mkdir()
    write_fake(tmp_path / "fashion-mnist", n_train=3)
    monkeypatch.setenv("PROFOND_DATA", str(tmp_path))
    assert load_fashion_mnist()[0][0].shape == (3, 28, 28)
    flat = tmp_path / "flat"  # the files directly in PROFOND_DATA also work
    flat.mkdir()
    write_fake(flat, n_train=2)
    monkeypatch.setenv("PROFOND_DATA", str(flat))
    assert load_fashion_mnist()[0][0].shape == (2, 28, 28)
    assert load_fashion_mnist(tmp_path / "fashion-mnist")[0][0].shape == (3, 28, 28)  # argument wins


def test_missing_file_says_how_to_get_it(tmp_path):
    write_fake(tmp_path)
    os.remove(tmp_path / FILES[2])
    with pytest.raises(FileNotFoundError) as err:
        load_fashion_mnist(tmp_path)
    text = str(err.value)
    assert FILES[2] in text and "apt-get install dataset-fashion-mnist" in text
    assert "PROFOND_DATA" in text


def test_corrupted_gzip_gives_a_clear_error(tmp_path):
    write_fake(tmp_path)
    raw = (tmp_path / FILES[1]).read_bytes()
    (tmp_path / FILES[1]).write_bytes(raw[: len(raw) // 2])  # truncated download
    with pytest.raises(ValueError, match="corrupted or truncated"):
        load_fashion_mnist(tmp_path)
    (tmp_path / FILES[1]).write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match=f"Cannot decompress .*{FILES[1]}"):
        load_fashion_mnist(tmp_path)


@pytest.mark.parametrize("content,message", [
    (bytes([1, 2, 8, 1, 0, 0, 0, 1, 5]), "not an IDX file"),
    (bytes([0, 0, 13, 1, 0, 0, 0, 1, 5]), "type code 0x0d"),
    (bytes([0, 0, 8, 3, 0, 0]), "truncated IDX header"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]), "announces shape (5,)"),
    (b"", "not an IDX file"),
])
def test_bad_idx_content(tmp_path, content, message):
    path = tmp_path / "bad-idx1-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(content)
    with pytest.raises(ValueError) as err:
        read_idx(path)
    assert message in str(err.value)


def test_images_and_labels_must_match(tmp_path):
    write_fake(tmp_path)
    with gzip.open(tmp_path / FILES[1], "wb") as f:
        f.write(idx_bytes(np.zeros(5)))
    with pytest.raises(ValueError, match="train files .* do not match"):
        load_fashion_mnist(tmp_path)
    with gzip.open(tmp_path / FILES[1], "wb") as f:
        f.write(idx_bytes(np.full(6, 12)))
    with pytest.raises(ValueError, match="outside 0..9"):
        load_fashion_mnist(tmp_path)


def test_uncompressed_idx(tmp_path):
    path = tmp_path / "plain-idx2-ubyte"
    path.write_bytes(idx_bytes(np.arange(6).reshape(2, 3)))
    np.testing.assert_array_equal(read_idx(path), np.arange(6).reshape(2, 3))


@pytest.mark.skipif(not os.path.isfile(os.path.join(DEFAULT_DIRECTORY, FILES[0])),
                    reason="dataset-fashion-mnist is not installed")
def test_the_real_files(monkeypatch):
    monkeypatch.delenv("PROFOND_DATA", raising=False)
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and int(x_train.max()) == 255
    np.testing.assert_array_equal(np.bincount(y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [1000] * 10)
    np.testing.assert_array_equal(y_test[:5], [9, 2, 1, 1, 6])
