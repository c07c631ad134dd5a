import numpy as np
import pytest

import profond
from profond import layers
from profond.training.batching import ArrayBatches, is_batch_source


def _data(n=100, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return x, y


def _model(seed=0):
    profond.random.seed(seed)
    m = profond.Sequential([layers.Input((6,)), layers.Dense(8, activation="tanh"),
                            layers.Dense(2, activation="softmax")])
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def test_batches_keep_the_last_partial_batch_and_cover_every_sample():
    x = np.arange(10)[:, None]
    sizes = [len(b[0]) for b in ArrayBatches((x,), batch_size=4)]
    assert sizes == [4, 4, 2]
    profond.random.seed(0)
    seen = np.concatenate([b[0][:, 0] for b in ArrayBatches((x,), batch_size=3, shuffle=True)])
    assert sorted(seen.tolist()) == list(range(10))
    assert len(ArrayBatches((x,), batch_size=3)) == 4


def test_shuffle_changes_each_epoch_and_is_seeded():
    x = np.arange(40)[:, None]
    # indices are sorted within a batch (sequential reads), so compare batch memberships
    small = ArrayBatches((x,), batch_size=8, shuffle=True)
    profond.random.seed(5)
    e1 = [b[0][:, 0].tolist() for b in small]
    e2 = [b[0][:, 0].tolist() for b in small]
    assert e1 != e2  # a new order at each epoch
    profond.random.seed(5)
    assert [b[0][:, 0].tolist() for b in small] == e1  # the same order from the same seed
    seeded = ArrayBatches((x,), batch_size=8, shuffle=True, seed=3)
    assert [b[0].tolist() for b in seeded] == [b[0].tolist() for b in seeded]


def test_structures_stay_aligned():
    x = {"a": np.arange(7.0)[:, None], "b": np.arange(7.0)[:, None] * 10}
    y = [np.arange(7), np.arange(7) * 2]
    for xb, yb in ArrayBatches((x, y), batch_size=3, shuffle=True, seed=0):
        np.testing.assert_array_equal(xb["b"][:, 0], xb["a"][:, 0] * 10)
        np.testing.assert_array_equal(yb[0], xb["a"][:, 0])
        np.testing.assert_array_equal(yb[1], 2 * yb[0])
    with pytest.raises(ValueError, match="different numbers of samples"):
        ArrayBatches((np.zeros(3), np.zeros(4)))


def test_memmap_training_gives_bitwise_the_same_weights(tmp_path):
    x, y = _data(103)
    xm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=x.dtype, shape=x.shape)
    ym = np.lib.format.open_memmap(tmp_path / "y.npy", mode="w+", dtype=y.dtype, shape=y.shape)
    xm[:], ym[:] = x, y
    xm.flush(), ym.flush()
    xm = np.load(tmp_path / "x.npy", mmap_mode="r")
    ym = np.load(tmp_path / "y.npy", mmap_mode="r")
    a = _model()
    profond.random.seed(11)
    a.fit(x, y, batch_size=16, epochs=3, verbose=0, validation_split=0.2, class_weight="balanced")
    b = _model()
    profond.random.seed(11)
    b.fit(xm, ym, batch_size=16, epochs=3, verbose=0, validation_split=0.2,
          class_weight="balanced")
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert a.history.history == b.history.history


class _Guarded:
    """An on-disk array that refuses to be read whole: ``np.asarray`` on it raises, and every
    read is recorded."""

    def __init__(self, mm):
        self.mm, self.reads = mm, []
        self.shape, self.dtype, self.ndim = mm.shape, mm.dtype, mm.ndim

    def __len__(self):
        return len(self.mm)

    def __getitem__(self, idx):
        out = np.asarray(self.mm[idx])
        self.reads.append(len(out))
        return out

    def __array__(self, *args, **kwargs):
        raise AssertionError("the whole array was loaded")


def test_fit_reads_memmaps_in_pieces(tmp_path, monkeypatch):
    from profond.training import data_adapter as checks

    monkeypatch.setattr(checks, "_CHUNK_ELEMENTS", 6 * 25)  # 25 samples per check chunk
    x, y = _data(100)
    mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=x.dtype, shape=x.shape)
    mm[:] = x
    guarded = _Guarded(mm)
    model = _model()
    model.fit(guarded, y, batch_size=10, epochs=2, verbose=0)
    model.evaluate(guarded, y, batch_size=10, verbose=0)
    assert model.predict(guarded, batch_size=10, verbose=0).shape == (100, 2)
    assert max(guarded.reads) <= 25


def _loop(x, y, bs):
    while True:
        for i in range(0, len(x), bs):
            yield x[i:i + bs], y[i:i + bs]


def test_fit_from_a_generator_matches_fit_on_arrays():
    x, y = _data(96)
    a = _model()
    a.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    b = _model()
    hist = b.fit(_loop(x, y, 16), steps_per_epoch=6, epochs=2, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert hist.history["loss"] == a.history.history["loss"]


def test_sequence_iterable_and_weights_from_batches():
    x, y = _data(40)

    class Seq:
        epochs_ended = 0

        def __len__(self):
            return 4

        def __getitem__(self, i):
            s = slice(10 * i, 10 * i + 10)
            return x[s], y[s], np.full(10, 2.0)

        def on_epoch_end(self):
            Seq.epochs_ended += 1

    m = _model()
    h = m.fit(Seq(), epochs=3, verbose=0, validation_data=Seq())
    assert Seq.epochs_ended == 3 + 3  # training passes and validation passes
    assert len(h.history["loss"]) == 3 and "val_loss" in h.history

    class Again:  # an iterable restarts at each epoch
        def __iter__(self):
            return ((x[i:i + 8], y[i:i + 8]) for i in range(0, 40, 8))

    h = _model().fit(Again(), epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2
    # the sample weights that a sequence yields reach the loss: doubled weights, doubled loss
    m = _model()
    plain = m.evaluate(x, y, verbose=0)
    weighted = m.evaluate(Seq(), verbose=0)
    assert weighted[0] == pytest.approx(2 * plain[0], rel=1e-6)


def test_generator_that_runs_out_stops_training_with_a_warning():
    x, y = _data(40)
    gen = ((x[i:i + 10], y[i:i + 10]) for i in range(0, 40, 10))
    with pytest.warns(UserWarning, match="ran out during epoch 1 of 3"):
        h = _model().fit(gen, epochs=3, verbose=0)
    assert len(h.history["loss"]) == 1


def test_evaluate_and_predict_take_generators():
    x, y = _data(30)
    m = _model()
    ref = m.evaluate(x, y, batch_size=10, verbose=0)
    got = m.evaluate(_loop(x, y, 10), steps=3, verbose=0)
    assert got == pytest.approx(ref)
    pred = m.predict((x[i:i + 10] for i in range(0, 30, 10)), verbose=0)
    np.testing.assert_allclose(pred, m.predict(x, verbose=0))


def test_bad_batch_sources_give_clear_errors():
    x, y = _data(20)
    m = _model()
    with pytest.raises(ValueError, match="y, sample_weight and validation_split must be left"):
        m.fit(_loop(x, y, 10), y, steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match="must carry targets"):
        m.fit((x[i:i + 5] for i in range(0, 20, 5)), verbose=0)
    with pytest.raises(ValueError, match="'balanced' needs all the labels"):
        m.fit(_loop(x, y, 10), steps_per_epoch=2, class_weight="balanced", verbose=0)
    with pytest.raises(ValueError, match="yielded no batches"):
        m.fit(iter([]), verbose=0)
    with pytest.raises(ValueError, match="contains NaN"):
        bad = x.copy()
        bad[3, 2] = np.nan
        m.fit(_loop(bad, y, 10), steps_per_epoch=2, verbose=0)
    assert is_batch_source(_loop(x, y, 1)) and not is_batch_source(x)
    assert not is_batch_source([x, x]) and not is_batch_source({"a": x})


def test_steps_per_epoch_with_arrays_streams_over_shuffled_passes():
    """With arrays, ``steps_per_epoch`` makes each epoch that many batches of a continuing
    stream: the next epoch resumes where the last one stopped, a new pass begins when the
    data are used up, and no sample comes twice before all have come once."""
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.zeros((10, 1), dtype=np.float32)
    seen = []
    m = profond.Sequential([layers.Input((1,)), layers.Dense(1)])
    m.compile(optimizer="sgd", loss="mse")
    original = m.train_step

    def spy(xb, yb, swb=None):
        seen.append(np.asarray(xb).ravel().tolist())
        return original(xb, yb, swb)

    m.train_step = spy
    hist = m.fit(x, y, batch_size=4, steps_per_epoch=2, epochs=3, verbose=0)
    assert len(hist.history["loss"]) == 3 and m.optimizer.iterations == 6
    assert [len(b) for b in seen] == [4, 4, 2, 4, 4, 2]  # pass 1: 4 + 4 + 2, then pass 2
    assert sorted(sum(seen[:3], [])) == list(range(10))
    assert sorted(sum(seen[3:], [])) == list(range(10))
    with pytest.raises(ValueError, match="'steps_per_epoch'"):
        m.fit(x, y, steps_per_epoch=0, verbose=0)
