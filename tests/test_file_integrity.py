"""profond's own files detect damage, follow the umask and leave no temporary file; files of
other formats are named for what they are."""

import errno
import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import warnings
import zipfile

import numpy as np
import pytest

import profond
import profond._files
from profond import layers
from profond.callbacks import ModelCheckpoint, load_checkpoint
from profond.io.model_file import ModelFileError

SRC = os.path.join(os.path.dirname(__file__), os.pardir, "src")


def _model():
    model = profond.Sequential([layers.Input((6,)), layers.Dense(16, activation="relu"),
                                layers.Dense(3)])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(32, 6)).astype("float32"),
              rng.normal(size=(32, 3)).astype("float32"), epochs=1, verbose=0)
    return model


def test_200_damaged_copies_are_all_refused(tmp_path):
    # The experiment: truncations, header corruptions and bytes overwritten inside the
    # tensor data; before the checksum, all 35 overwritten-data copies loaded.
    path = tmp_path / "m.safetensors"
    _model().save(path)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    rng = np.random.default_rng(16)
    copies = []
    for size in rng.integers(0, len(raw), size=60):
        copies.append(("truncated", raw[:int(size)]))
    for _ in range(70):
        data = bytearray(raw)
        pos = int(rng.integers(0, 8 + n))
        data[pos] = (data[pos] + int(rng.integers(1, 256))) % 256
        copies.append(("header", bytes(data)))
    for _ in range(70):
        data = bytearray(raw)
        for pos in rng.integers(8 + n, len(raw), size=int(rng.integers(1, 4))):
            data[int(pos)] = (data[int(pos)] + int(rng.integers(1, 256))) % 256
        copies.append(("tensors", bytes(data)))
    loaded = {"truncated": 0, "header": 0, "tensors": 0}
    bad = tmp_path / "bad.safetensors"
    for kind, data in copies:
        bad.write_bytes(data)
        try:
            profond.load_model(bad)
        except ValueError as err:
            assert repr(str(bad)) in str(err)
        else:
            loaded[kind] += 1
    assert len(copies) == 200
    assert loaded == {"truncated": 0, "header": 0, "tensors": 0}


def test_overwritten_tensor_bytes_name_the_file_for_every_reader(tmp_path):
    model = _model()
    for name, save, load in [
            ("m.safetensors", model.save, profond.load_model),
            ("w.safetensors", model.save_weights, _model().load_weights)]:
        path = tmp_path / name
        save(path)
        data = bytearray(path.read_bytes())
        data[-5] ^= 0x40
        path.write_bytes(bytes(data))
        with pytest.raises(ModelFileError, match=f"{name}' is damaged.*SHA-256"):
            load(path)


def test_checkpoints_are_verified(tmp_path):
    model = _model()
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(16, 6)).astype("float32"), rng.normal(size=(16, 3)).astype("float32")
    path = tmp_path / "ckpt.safetensors"
    model.fit(x, y, epochs=1, verbose=0, callbacks=[ModelCheckpoint(str(path))])
    assert load_checkpoint(path).initial_epoch == 1
    data = bytearray(path.read_bytes())
    (n,) = struct.unpack("<Q", data[:8])
    data[8 + n + (len(data) - 8 - n) // 2] ^= 1  # inside the tensor data, past the header
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="damaged"):
        load_checkpoint(path)


def test_files_without_a_checksum_load_with_a_warning(tmp_path):
    model = _model()
    path = tmp_path / "old.safetensors"
    model.save(path)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    del header["__metadata__"]["sha256"]  # as profond wrote it before the checksum
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + n:])
    with pytest.warns(UserWarning, match="no checksum.*Save it again"):
        restored = profond.load_model(path)
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        restored.save(path)
        profond.load_model(path)


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_files_follow_the_umask(tmp_path, umask):
    model = _model()
    old = os.umask(umask)
    try:
        model.save(tmp_path / "m.safetensors")
        model.save_weights(tmp_path / "w.safetensors")
        profond._files.atomic_write_text(tmp_path / "r.json", "{}")
        with profond._files.atomic_path(tmp_path / "p.bin") as tmp, open(tmp, "wb") as fh:
            fh.write(b"x")
    finally:
        os.umask(old)
    for name in ("m.safetensors", "w.safetensors", "r.json", "p.bin"):
        assert os.stat(tmp_path / name).st_mode & 0o777 == 0o666 & ~umask, name
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors", "p.bin", "r.json", "w.safetensors"]


def test_disk_full_is_an_oserror_and_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    model = _model()
    model.save(path)
    before = path.read_bytes()

    def full(fd, view):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(profond._files, "_write", full)
    with pytest.raises(OSError) as info:
        model.save(path)
    assert info.value.errno == errno.ENOSPC
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_a_killed_save_leaves_a_temporary_the_next_save_removes(tmp_path):
    # SIGKILL gives no process a chance to clean up; the next write to the same path deletes
    # the temporaries of writers that are gone.
    path = tmp_path / "m.safetensors"
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {os.path.abspath(SRC)!r})
        import profond, profond._files
        from profond import layers
        model = profond.Sequential([layers.Input((4,)), layers.Dense(3)])
        def slow(fd, view):
            print("writing", flush=True)
            time.sleep(60)
        profond._files._write = slow
        model.save({str(path)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        left = [f for f in os.listdir(tmp_path) if f.startswith(".tmp-m.safetensors-")]
        assert len(left) == 1
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    assert len(os.listdir(tmp_path)) == 1 and not path.exists()
    model = profond.Sequential([layers.Input((4,)), layers.Dense(3)])
    model.save(path)
    assert os.listdir(tmp_path) == ["m.safetensors"]
    profond.load_model(path)


def test_temporaries_of_live_writers_are_left_alone(tmp_path):
    path = tmp_path / "m.safetensors"
    live = tmp_path / f".tmp-m.safetensors-{os.getpid()}-abcd1234"
    live.write_bytes(b"in progress")
    profond.Sequential([layers.Input((4,)), layers.Dense(3)]).save(path)
    assert live.exists()


# --- files of other formats ------------------------------------------------------------------------
def test_a_keras_file_is_named_where_a_profond_file_is_expected(tmp_path):
    # load_model and load_weights read Keras files (tests/parity/test_keras_files.py); what
    # reads profond's .safetensors files alone names them.
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    pytest.importorskip("h5py")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    path = tmp_path / "m.keras"
    model.save(path)
    with pytest.raises(ModelFileError, match="this is a Keras .keras file: read it with "
                                             "profond.load_model"):
        profond.io.model_file.read_metadata(path)
    weights = tmp_path / "m.weights.h5"
    model.save_weights(weights)
    with pytest.raises(ValueError, match="a Keras .weights.h5 file: it holds weights only"):
        profond.load_model(weights)


def test_an_hdf5_file_is_named(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "data.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(ModelFileError, match="is an HDF5 file"):
        profond.load_model(path)
    with h5py.File(tmp_path / "ub.h5", "w", userblock_size=512) as f:
        f["x"] = np.arange(3)
    with pytest.raises(ModelFileError, match="is an HDF5 file"):
        profond.load_model(tmp_path / "ub.h5")


def test_a_pytorch_checkpoint_is_named_and_never_unpickled(tmp_path):
    torch = pytest.importorskip("torch")
    marker = tmp_path / "ran"

    class Payload:  # unpickling this would create the marker file
        def __reduce__(self):
            return (open, (str(marker), "w"))

    torch.save({"w": torch.zeros(2), "evil": Payload()}, tmp_path / "m.pt")
    torch.save({"w": torch.zeros(2), "evil": Payload()}, tmp_path / "old.pt",
               _use_new_zipfile_serialization=False)
    for name in ("m.pt", "old.pt"):
        with pytest.raises(ModelFileError, match="PyTorch checkpoint, which profond does not "
                                                  "read"):
            profond.load_model(tmp_path / name)
        with pytest.raises(ValueError, match="PyTorch checkpoint"):
            profond.Sequential([layers.Input((2,)), layers.Dense(1)]).load_weights(
                tmp_path / name)
    assert not marker.exists()


def test_other_zips_and_folders(tmp_path):
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as z:
        z.writestr("notes.txt", "hi")
    with pytest.raises(ModelFileError, match="a zip archive, not a profond file"):
        profond.load_model(tmp_path / "a.zip")
    with pytest.raises(IsADirectoryError, match="a folder"):
        profond.load_model(tmp_path)


@pytest.mark.parametrize("units", range(1, 40))
def test_no_header_length_is_taken_for_a_foreign_signature(tmp_path, units):
    # Header lengths of 0x280..0x580 begin with a pickle's two bytes: still profond files.
    model = profond.Sequential([layers.Input((3,)), layers.Dense(units, name="d" * units)])
    model.save(tmp_path / "m.safetensors")
    profond.load_model(tmp_path / "m.safetensors")
