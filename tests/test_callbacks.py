"""Each callback's behaviour: History, EarlyStopping, ModelCheckpoint, CSVLogger,
TerminateOnNaN, LambdaCallback, the progress bar and the Callback contract."""

import csv
import io
import os

import numpy as np
import pytest

import profond
from profond import layers
from profond.callbacks import (Callback, CallbackList, CSVLogger, EarlyStopping, LambdaCallback,
                               ModelCheckpoint, ProgressBar, ReduceLROnPlateau, TerminateOnNaN)
from profond.optimizers import SGD


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = (x @ np.array([1.0, -1.0, 0.5], dtype="float32"))[:, None]
    return x, y


def _model(lr=0.05):
    model = profond.Sequential([layers.Input((3,)), layers.Dense(4, activation="tanh"),
                                layers.Dense(1)])
    model.compile(optimizer=SGD(learning_rate=lr), loss="mse")
    return model


class Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("batch_end", batch, sorted(logs)))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, sorted(logs)))

    def on_train_end(self, logs=None):
        self.calls.append("train_end")


def test_hook_order_and_logs():
    x, y = _data(20)
    rec = Recorder()
    _model().fit(x, y, epochs=2, batch_size=10, verbose=0, callbacks=[rec],
                 validation_data=(x, y))
    assert rec.calls[0] == "train_begin" and rec.calls[-1] == "train_end"
    assert rec.calls[1] == ("epoch_begin", 0)
    assert rec.calls[2] == ("batch_end", 0, ["loss"])
    assert rec.calls[4] == ("epoch_end", 0, ["loss", "val_loss"])
    assert [c for c in rec.calls if c[0] == "epoch_begin"] == [("epoch_begin", 0),
                                                               ("epoch_begin", 1)]


def test_stop_training_from_a_batch_hook_ends_the_epoch_and_the_run():
    x, y = _data(64)

    class StopAt3(Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                self.model.stop_training = True

    seen = []
    history = _model().fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[
        StopAt3(), LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))])
    assert seen == [0, 1, 2]
    assert history.epoch == [0]


def test_history_records_every_epoch_from_initial_epoch():
    x, y = _data()
    history = _model().fit(x, y, epochs=4, initial_epoch=1, verbose=0, validation_split=0.25)
    assert history.epoch == [1, 2, 3]
    assert set(history.history) == {"loss", "val_loss"}  # no learning_rate, as in Keras 3
    assert all(len(v) == 3 for v in history.history.values())


def test_history_to_csv_and_plot(tmp_path):
    x, y = _data()
    # ReduceLROnPlateau logs the rate (fit does not, as in Keras), which the plot draws.
    history = _model().fit(x, y, epochs=3, verbose=0, validation_split=0.25,
                           callbacks=[ReduceLROnPlateau()])
    history.to_csv(tmp_path / "h.csv")
    rows = list(csv.reader(open(tmp_path / "h.csv")))
    assert rows[0] == ["epoch", "loss", "val_loss", "learning_rate"]
    assert float(rows[2][1]) == history.history["loss"][1]
    fig = history.plot(tmp_path / "h.png")
    assert os.path.getsize(tmp_path / "h.png") > 1000
    assert [ax.get_title() for ax in fig.axes] == ["loss", "learning_rate"]


# --- EarlyStopping ---------------------------------------------------------------------------------
def _feed(callback, values, key="val_loss", model=None):
    """Drive a callback with a synthetic sequence of epoch logs; returns the epochs run."""
    model = model or _model()
    callback.set_model(model)
    model.stop_training = False
    callback.on_train_begin()
    ran = []
    for epoch, v in enumerate(values):
        ran.append(epoch)
        callback.on_epoch_end(epoch, {key: v})
        if model.stop_training:
            break
    callback.on_train_end()
    return ran


def test_early_stopping_patience_and_min_delta():
    values = [1.0, 0.9, 0.89, 0.895, 0.88, 0.87, 0.86]
    assert _feed(EarlyStopping(patience=2), values) == [0, 1, 2, 3, 4, 5, 6]
    # With min_delta 0.05 nothing after epoch 1 counts as an improvement.
    stop = EarlyStopping(patience=2, min_delta=0.05)
    assert _feed(stop, values) == [0, 1, 2, 3]
    assert stop.stopped_epoch == 3 and stop.best == 0.9 and stop.best_epoch == 1


def test_early_stopping_mode_auto_and_max():
    assert EarlyStopping(monitor="val_accuracy").mode == "max"
    assert EarlyStopping(monitor="val_loss").mode == "min"
    ran = _feed(EarlyStopping(monitor="accuracy", patience=1), [0.5, 0.6, 0.55, 0.58, 0.9],
                key="accuracy")
    assert ran == [0, 1, 2]  # patience=1: one epoch without improvement ends training
    with pytest.raises(ValueError, match="'mode' parameter of EarlyStopping"):
        EarlyStopping(mode="up")


def test_early_stopping_baseline_and_start_from_epoch():
    # Improvements that never beat the baseline do not reset the count (Keras's rule).
    values = [1.0, 0.9, 0.9, 0.9, 0.9]
    assert _feed(EarlyStopping(patience=2, baseline=0.5), values) == [0, 1, 2]
    assert _feed(EarlyStopping(patience=2), values) == [0, 1, 2, 3]
    # Warm-up epochs are not watched.
    ran = _feed(EarlyStopping(patience=0, start_from_epoch=3), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert ran == [0, 1, 2, 3, 4]


def test_early_stopping_restores_best_weights_in_a_real_run():
    x, y = _data()
    model = _model()
    marks = []

    # A callback after EarlyStopping sees each epoch's weights; we make the loss rise by
    # making val_loss a fixed sequence instead of real values.
    class FakeVal(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = [1.0, 0.5, 0.7, 0.8, 0.9][epoch]
            marks.append(self.model.get_weights())

    stop = EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=5, verbose=0, callbacks=[FakeVal(), stop])
    assert history.epoch == [0, 1, 2, 3]
    for got, want in zip(model.get_weights(), marks[1]):
        np.testing.assert_array_equal(got, want)


def test_early_stopping_warns_on_missing_monitor():
    with pytest.warns(UserWarning, match="val_loss.*Available metrics are: loss"):
        _feed(EarlyStopping(), [1.0], key="loss")


# --- ModelCheckpoint -------------------------------------------------------------------------------
def test_checkpoint_formats_filepath_and_saves_every_epoch(tmp_path):
    x, y = _data()
    model = _model()
    ckpt = ModelCheckpoint(str(tmp_path / "m-{epoch:02d}-{val_loss:.3f}.safetensors"))
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25, callbacks=[ckpt])
    names = sorted(os.listdir(tmp_path))
    assert names == [f"m-{e + 1:02d}-{v:.3f}.safetensors"
                     for e, v in enumerate(history.history["val_loss"])]
    restored = profond.load_model(tmp_path / names[-1])
    for a, b in zip(restored.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_save_best_only(tmp_path):
    model = _model()
    model.build((None, 3))
    path = str(tmp_path / "best-{epoch}.safetensors")
    ckpt = ModelCheckpoint(path, save_best_only=True)
    _feed(ckpt, [1.0, 0.8, 0.9, 0.7, float("nan"), 0.75], model=model)
    assert sorted(os.listdir(tmp_path)) == ["best-1.safetensors", "best-2.safetensors",
                                            "best-4.safetensors"]
    assert ckpt.best == 0.7


def test_checkpoint_weights_only_and_bad_arguments(tmp_path):
    x, y = _data()
    model = _model()
    path = tmp_path / "w.safetensors"
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[ModelCheckpoint(str(path), save_weights_only=True)])
    other = _model()
    other.build((None, 3))
    other.load_weights(path)
    for a, b in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="must end in '.safetensors'"):
        ModelCheckpoint(str(tmp_path / "m.h5"))
    with pytest.raises(ValueError, match="'save_freq' parameter"):
        ModelCheckpoint(str(path), save_freq=10)
    with pytest.raises(KeyError, match="val_acc"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[
            ModelCheckpoint(str(tmp_path / "{val_acc}.safetensors"))])


def test_checkpoint_leaves_no_temporary_files(tmp_path):
    x, y = _data()
    # What a SIGKILL in the middle of a write leaves behind; the next run clears it.
    (tmp_path / ".tmp-m-3.safetensors-k1ll3d").write_bytes(b"half a file")
    (tmp_path / ".tmp-unrelated.txt-x").write_bytes(b"not ours")
    _model().fit(x, y, epochs=2, verbose=0,
                 callbacks=[ModelCheckpoint(str(tmp_path / "m-{epoch}.safetensors"))])
    assert sorted(os.listdir(tmp_path)) == [".tmp-unrelated.txt-x", "m-1.safetensors",
                                            "m-2.safetensors"]


# --- CSVLogger -------------------------------------------------------------------------------------
def test_csv_logger_writes_and_appends(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    model = _model()
    h1 = model.fit(x, y, epochs=2, verbose=0, validation_split=0.25,
                   callbacks=[CSVLogger(path)])
    model.fit(x, y, epochs=3, initial_epoch=2, verbose=0, validation_split=0.25,
              callbacks=[CSVLogger(path, append=True)])
    rows = list(csv.reader(open(path)))
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    assert float(rows[1][1]) == h1.history["loss"][0]
    CSVLogger(path, separator=";").set_model(model)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(path, separator=";")])
    assert open(path).read().splitlines()[0] == "epoch;loss"


# --- TerminateOnNaN --------------------------------------------------------------------------------
def test_terminate_on_nan_stops_at_the_bad_batch():
    x = np.full((64, 3), 100.0, dtype="float32")
    y = np.ones((64, 1), dtype="float32")
    stop = TerminateOnNaN()
    with np.errstate(all="ignore"):
        history = _model(lr=1e12).fit(x, y, epochs=4, batch_size=8, verbose=0,
                                      callbacks=[stop])
    assert stop.stopped_batch is not None and stop.stopped_batch < 7
    assert history.epoch == [0]
    with np.errstate(all="ignore"), pytest.raises(RuntimeError, match="invalid loss"):
        _model(lr=1e12).fit(x, y, epochs=4, batch_size=8, verbose=0,
                            callbacks=[TerminateOnNaN(raise_error=True)])


def test_terminate_on_nan_leaves_a_healthy_run_alone():
    x, y = _data()
    stop = TerminateOnNaN()
    history = _model().fit(x, y, epochs=3, verbose=0, callbacks=[stop])
    assert stop.stopped_batch is None and history.epoch == [0, 1, 2]


# --- LambdaCallback --------------------------------------------------------------------------------
def test_lambda_callback_hooks():
    x, y = _data(32)
    log = []
    cb = LambdaCallback(on_train_begin=lambda logs: log.append("begin"),
                        on_epoch_end=lambda e, logs: log.append(("epoch", e, round(logs["loss"],
                                                                                   6) > 0)),
                        on_batch_end=lambda b, logs: log.append(("batch", b)),
                        on_train_end=lambda logs: log.append("end"))
    _model().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[cb])
    assert log == ["begin", ("batch", 0), ("batch", 1), ("epoch", 0, True), ("batch", 0),
                   ("batch", 1), ("epoch", 1, True), "end"]
    with pytest.raises(TypeError, match="unknown hook 'on_epoch_middle'"):
        LambdaCallback(on_epoch_middle=print)
    with pytest.raises(ValueError, match="'on_epoch_end' parameter of LambdaCallback"):
        LambdaCallback(on_epoch_end=3)


def test_lambda_callback_for_evaluate_and_predict():
    x, y = _data(32)
    model = _model()
    model.fit(x, y, epochs=1, verbose=0)
    seen = []
    model.evaluate(x, y, verbose=0, callbacks=[LambdaCallback(
        on_test_end=lambda logs: seen.append(("test", sorted(logs))))])
    model.predict(x, verbose=0, callbacks=[LambdaCallback(
        on_predict_begin=lambda logs: seen.append("predict"))])
    assert seen == [("test", ["loss"]), "predict"]


# --- progress bar ----------------------------------------------------------------------------------
def test_progress_bar_plain_lines_when_not_a_terminal():
    x, y = _data()
    stream = io.StringIO()
    bar = ProgressBar(verbose=1, stream=stream)
    _model().fit(x, y, epochs=2, verbose=0, callbacks=[bar])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Epoch 1/2") and "loss: " in lines[0]


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_an_80_column_terminal_shows_every_figure(monkeypatch):
    # Issue 17: the bar's line was cut after "loss: 1.706 - accuracy: ", so validation
    # figures never showed.
    pytest.importorskip("tqdm")
    monkeypatch.setenv("COLUMNS", "80")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = profond.Sequential([layers.Input((4,)), layers.Dense(8, activation="relu"),
                                layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", "sparse_categorical_accuracy"])
    stream = _Terminal()
    history = model.fit(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[ProgressBar(verbose=1, stream=stream)])
    screen = [line.split("\r")[-1] for line in stream.getvalue().split("\n")]  # what stays
    assert screen and all(len(line) <= 80 for line in screen), screen
    text = "\n".join(screen)
    assert len(history.history) >= 6 and len(" - ".join(history.history)) > 80  # needs wrapping
    for key, values in history.history.items():
        assert f"{key}: {values[-1]:.4g}" in text, (key, text)
    assert text.count("Epoch ") == 2


def test_progress_bar_hides_detail_series():
    stream = io.StringIO()
    bar = ProgressBar(verbose=2, stream=stream)
    bar.set_params({"epochs": 1})
    bar.on_epoch_begin(0)
    bar.on_epoch_end(0, {"loss": 0.5, "grad_norm/dense": 0.1})
    assert "grad_norm" not in stream.getvalue() and "loss: 0.5" in stream.getvalue()


def test_batch_gradients_hook_sees_each_batch_before_the_update():
    """``on_train_batch_gradients`` gets the batch index, the gradients and the variables
    after the backward pass and before the optimizer's update (plain SGD: the weights then
    move by exactly ``-lr * gradient``)."""
    x, y = _data(40)

    class Watch(Callback):
        def __init__(self):
            super().__init__()
            self.calls, self.before = [], None

        def on_train_batch_gradients(self, batch, gradients, variables):
            assert [g.shape for g in gradients] == [v.shape for v in variables]
            self.calls.append(batch)
            self.before = [v.numpy().copy() for v in variables]
            self.grads = [np.array(g) for g in gradients]
            self.variables = variables

        def on_train_batch_end(self, batch, logs=None):
            for v, w, g in zip(self.variables, self.before, self.grads):
                np.testing.assert_allclose(v.numpy(), w - 0.05 * g, rtol=1e-6, atol=1e-7)

    watch = Watch()
    model = _model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[watch])
    assert watch.calls == [0, 1, 2, 0, 1, 2]
    seen = []
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[LambdaCallback(
        on_train_batch_gradients=lambda batch, grads, variables: seen.append(batch))])
    assert seen == [0, 1]
    # Only callbacks that override the hook are called for it.
    assert not CallbackList([Callback(), EarlyStopping()]).has("on_train_batch_gradients")
    assert CallbackList([watch]).has("on_train_batch_gradients")
