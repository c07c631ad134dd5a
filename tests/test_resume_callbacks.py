"""Exact resumption whatever the callbacks: a run with EarlyStopping(restore_best_weights),
ReduceLROnPlateau, LearningRateScheduler, a save-best ModelCheckpoint, CSVLogger,
GradientHealth and the divergence guard, SIGKILLed at several points and resumed each time
(from ModelCheckpoint + load_checkpoint, or through BackupAndRestore), ends bit for bit where
the unbroken run ends: weights, history, CSV log, best-model file and test results."""

import json
import multiprocessing
import os
import signal
import sys
import warnings

import numpy as np
import pytest

import profond
from profond import layers
from profond.callbacks import (BackupAndRestore, Callback, CallbackList, CSVLogger,
                               EarlyStopping, ModelCheckpoint, ReduceLROnPlateau,
                               load_checkpoint)
from profond.io.model_file import read_training_state
from profond.io.weights_file import read_weights_list

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import _resume_callbacks_script as script  # noqa: E402

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL") or
                                "fork" not in multiprocessing.get_all_start_methods(),
                                reason="needs SIGKILL and fork")


def _run(folder, mode, kill=None):
    """Run the script's ``run`` in a forked process (profond already imported: a run takes
    a fraction of a second); returns its exit code."""
    proc = multiprocessing.get_context("fork").Process(target=script.run,
                                                      args=(str(folder), mode, kill))
    proc.start()
    proc.join(120)
    assert proc.exitcode is not None, "the run hung"
    return proc.exitcode


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("unbroken")
    assert _run(folder, "checkpoint") == 0
    with open(folder / "results.json", encoding="utf-8") as fh:
        results = json.load(fh)
    # The run must go through what the kills test: an early stop, learning-rate changes.
    assert 5 < results["stopped_epoch"] < script.EPOCHS - 1
    assert results["learning_rate"] < 0.02
    return folder, results


def _files(folder):
    with open(folder / "results.json", encoding="utf-8") as fh:
        results = json.load(fh)
    return (read_weights_list(folder / "final.safetensors"), results,
            (folder / "log.csv").read_bytes(), read_weights_list(folder / "best.safetensors"))


def _assert_same(folder, reference, with_history):
    weights, results, log, best = _files(folder)
    ref_weights, ref_results, ref_log, ref_best = _files(reference)
    assert len(weights) == len(ref_weights)
    for a, b in zip(weights, ref_weights):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(best, ref_best):
        np.testing.assert_array_equal(a, b)
    if not with_history:
        ref_results.pop("history")
    assert results == ref_results
    assert log == ref_log  # one row per epoch: none lost, none twice


@pytest.mark.parametrize("mode, kills, starts", [
    # Epochs 0-7 improve (except 4), 8-10 do not: the early stop at 10. Kills after epochs
    # 8 and 9 resume with counters and best values that decide what comes next; the last
    # kill comes after the stop, before the end: the last run trains no epoch.
    ("checkpoint", ["epoch_end:1", "epoch_begin:4", "batch:6:4", "epoch_begin:9",
                    "train_end"], [0, 1, 4, 6, 9, None]),
    ("backup", ["epoch_begin:2", "epoch_end:5", "batch:8:2", "epoch_begin:10", "train_end"],
     [0, 2, 5, 8, 10, None]),
])
def test_killed_and_resumed_runs_end_bit_identical(tmp_path, reference, mode, kills, starts):
    folder = tmp_path / mode
    folder.mkdir()
    for kill in kills:
        assert _run(folder, mode, kill) == -signal.SIGKILL, kill
        assert not (folder / "results.json").exists()
    assert _run(folder, mode) == 0
    assert (folder / "starts.txt").read_text().split() == [str(s) for s in starts]
    _assert_same(folder, reference[0], with_history=mode == "checkpoint")
    if mode == "backup":
        assert not (folder / "backup").exists()  # deleted at the end of training
    assert not [f for f in os.listdir(folder) if f.startswith(".tmp")]


def test_a_finished_run_resumed_changes_nothing(tmp_path, reference):
    folder = tmp_path / "finished"
    folder.mkdir()
    assert _run(folder, "checkpoint") == 0
    before = {name: (folder / name).read_bytes() for name in os.listdir(folder)}
    os.remove(folder / "results.json")
    os.remove(folder / "final.safetensors")
    assert _run(folder, "checkpoint") == 0  # resumes from the stopped run's checkpoint
    after = {name: (folder / name).read_bytes() for name in os.listdir(folder)}
    assert after.pop("starts.txt") == before.pop("starts.txt") + b"None\n"  # no epoch ran
    assert after == before
    _assert_same(folder, reference[0], with_history=True)


# --- the contract, piece by piece ------------------------------------------------------------
class Counter(Callback):
    """A user's callback with state."""

    def __init__(self):
        super().__init__()
        self.count = 0
        self.table = None

    def on_train_begin(self, logs=None):
        self.count = 0

    def on_epoch_end(self, epoch, logs=None):
        self.count += 1
        self.table = np.arange(self.count, dtype="float64") / 3

    def get_state(self):
        return {"count": self.count, "table": self.table}

    def set_state(self, state):
        self.count, self.table = state["count"], state["table"]


def _small_model():
    profond.random.seed(1)
    model = profond.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    return model


def test_a_users_callback_takes_part(tmp_path):
    x, y = np.ones((8, 3), "float32"), np.zeros((8, 2), "float32")
    path = tmp_path / "ckpt.safetensors"
    model = _small_model()
    model.fit(x, y, epochs=3, verbose=0, callbacks=[Counter(), ModelCheckpoint(path)])
    state = read_training_state(path)
    saved = {entry["key"]: entry["state"] for entry in state["callbacks"]}
    assert saved["Counter:0"]["count"] == 3
    np.testing.assert_array_equal(saved["Counter:0"]["table"], np.arange(3) / 3)
    assert set(saved) == {"Counter:0", "ModelCheckpoint:0"}

    model, initial_epoch, _ = load_checkpoint(path)
    counter = Counter()
    seen = []
    probe = profond.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.append((epoch, counter.count)))
    with pytest.warns(RuntimeWarning, match=r"does not have: \['ModelCheckpoint:0'\]"):
        history = model.fit(x, y, epochs=5, initial_epoch=initial_epoch, verbose=0,
                            callbacks=[probe, counter])
    assert history.epoch == [3, 4]
    assert seen == [(3, 3), (4, 4)] and counter.count == 5


def test_states_are_matched_by_class_and_position():
    first, second = EarlyStopping(patience=4), EarlyStopping(patience=9)
    callbacks = CallbackList([Counter(), first, second])
    first.wait, second.wait = 1, 2
    states = callbacks.get_state()
    assert [s["key"] for s in states] == ["Counter:0", "EarlyStopping:0", "EarlyStopping:1"]
    again = [EarlyStopping(), EarlyStopping()]
    other = CallbackList([profond.callbacks.TerminateOnNaN()] + again)
    with pytest.warns(RuntimeWarning, match=r"\['Counter:0'\]"):
        other.set_state(states)
    assert [cb.wait for cb in again] == [1, 2]


def test_each_builtin_state_round_trips():
    stop = EarlyStopping(restore_best_weights=True)
    stop.wait, stop.best, stop.best_epoch, stop.stopped_epoch = 2, 0.25, 4, 0
    stop.best_weights = [np.ones((2, 2), "float32")]
    plateau = ReduceLROnPlateau(cooldown=3)
    plateau.wait, plateau.best, plateau.cooldown_counter = 1, 0.5, 2
    for cb in (stop, plateau):
        fresh = type(cb)(restore_best_weights=True) if cb is stop else type(cb)(cooldown=3)
        fresh.set_state(cb.get_state())
        state = fresh.get_state()
        for key, value in cb.get_state().items():
            if key == "best_weights":
                np.testing.assert_array_equal(state[key][0], value[0])
            else:
                assert state[key] == value


def test_csv_logger_drops_the_row_written_after_its_checkpoint(tmp_path):
    path = tmp_path / "log.csv"
    logger = CSVLogger(path)
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 1.0})
    state = logger.get_state()
    logger.on_epoch_end(1, {"loss": 0.5})  # then killed before the checkpoint of epoch 1
    logger._close()
    resumed = CSVLogger(path)  # append=False: a resumed run still appends
    resumed.on_train_begin()
    resumed.set_state(state)
    resumed.on_epoch_end(1, {"loss": 0.75})
    resumed.on_train_end()
    assert path.read_text().splitlines() == ["epoch,loss", "0,1.0", "1,0.75"]


def test_backup_and_restore_arguments(tmp_path):
    with pytest.raises(ValueError, match="'save_freq' parameter of BackupAndRestore"):
        BackupAndRestore(tmp_path, save_freq=100)
    with pytest.raises(ValueError, match="'backup_dir' parameter of BackupAndRestore"):
        BackupAndRestore("")
    keep = BackupAndRestore(tmp_path / "keep", delete_checkpoint=False)
    model = _small_model()
    x = np.ones((8, 3), "float32")
    model.fit(x, x[:, :2], epochs=2, verbose=0, callbacks=[keep])
    assert read_training_state(keep.backup_path)["epoch"] == 1
    other = profond.Sequential([layers.Input((3,)), layers.Dense(5)])
    other.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="not of this model"):
        other.fit(x, np.zeros((8, 5)), epochs=3, verbose=0, callbacks=[keep])


def test_training_state_arrays_are_tensors_not_weights(tmp_path):
    model = _small_model()
    model.fit(np.ones((4, 3)), np.zeros((4, 2)), epochs=1, verbose=0)
    path = tmp_path / "m.safetensors"
    table = np.linspace(0, 1, 7).astype("float32")
    from profond.io.model_file import save_model

    save_model(model, path, training_state={"epoch": 0, "extra": [table, {"t": table[:2]}]})
    state = read_training_state(path)
    np.testing.assert_array_equal(state["extra"][0], table)
    assert state["extra"][0].dtype == np.float32
    np.testing.assert_array_equal(state["extra"][1]["t"], table[:2])
    assert len(read_weights_list(path)) == len(model.get_weights())
    restored = profond.load_model(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        restored.load_weights(path)


def test_neuron_pruning_gradient_health_and_the_guard_resume_exactly(tmp_path):
    from profond.callbacks import GradientHealth
    from profond.pruning import NeuronPruning

    x, y, *_ = script.data()

    def run(folder, epochs):
        profond.random.seed(2)
        path = folder / "ckpt.safetensors"
        cbs = [NeuronPruning(final_amount=0.5, steps=3, start_epoch=1), GradientHealth(),
               ModelCheckpoint(path)]
        if path.exists():
            model, initial_epoch, _ = load_checkpoint(path)
        else:
            model, initial_epoch = script.build(), 0
        model.fit(x, y, epochs=epochs, initial_epoch=initial_epoch, batch_size=64, verbose=0,
                  callbacks=cbs, divergence_guard={"verbose": 0},
                  validation_split=0.2)
        return model, cbs

    whole, whole_cbs = run(tmp_path, 5)
    (tmp_path / "broken").mkdir()
    run(tmp_path / "broken", 2)
    model, cbs = run(tmp_path / "broken", 5)
    assert [layer.units for layer in model.layers if hasattr(layer, "units")] == \
        [layer.units for layer in whole.layers if hasattr(layer, "units")] == [12, 10]
    for a, b in zip(model.get_weights(), whole.get_weights()):
        np.testing.assert_array_equal(a, b)
    # (layer names differ: both runs build their model in this process)
    def steps(events):
        return [(e["epoch"], list(e["units"].values()), e["params"]) for e in events]

    assert steps(cbs[0].events) == steps(whole_cbs[0].events)
    assert len(cbs[0].events) == 3
    assert list(cbs[1].norms.values()) == list(whole_cbs[1].norms.values())
    assert cbs[1].ratios == whole_cbs[1].ratios and len(cbs[1].ratios) == 5


def test_a_fit_that_does_not_continue_the_checkpoint_gets_fresh_callbacks(tmp_path):
    x, y = np.ones((8, 3), "float32"), np.zeros((8, 2), "float32")
    path = tmp_path / "ckpt.safetensors"
    model = _small_model()
    model.fit(x, y, epochs=3, verbose=0, callbacks=[Counter(), ModelCheckpoint(path)])
    model, _, _ = load_checkpoint(path)
    counter = Counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = model.fit(x, y, epochs=2, verbose=0, callbacks=[counter])  # from epoch 0
    assert history.epoch == [0, 1] and counter.count == 2
