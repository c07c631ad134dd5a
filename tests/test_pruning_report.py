"""The pruning report: parameters, FLOPs, file size, predict time, accuracy."""

import numpy as np
import pytest

import profond
from profond import layers as L
from profond.pruning import count_flops, prune_neurons, report, weights_file_size


def test_flops_of_dense_conv_recurrent_batchnorm():
    mlp = profond.Sequential([L.Input((20,)), L.Dense(8), L.Dense(3, use_bias=False)])
    assert count_flops(mlp) == 8 * (2 * 20 + 1) + 3 * 2 * 8
    conv = profond.Sequential([L.Input((6, 6, 2)), L.Conv2D(4, 3), L.BatchNormalization(),
                               L.MaxPooling2D(2), L.Flatten(), L.Dense(5)])
    assert count_flops(conv) == 4 * 4 * 4 * (2 * 9 * 2 + 1) + 2 * 4 * 4 * 4 + 5 * (2 * 16 + 1)
    rnn = profond.Sequential([L.Input((None, 3)), L.LSTM(4), L.Dense(1)])
    per_step = 2 * (3 + 4) * 16 + 2 * 16
    assert count_flops(rnn, input_shape=(7, 3)) == 7 * per_step + (2 * 4 + 1)


def test_report_rows_and_table(rng):
    model = profond.Sequential([L.Input((10,)), L.Dense(32, activation="relu"),
                                L.Dense(4, activation="softmax")])
    small = prune_neurons(model, amount=0.75)
    x = rng.normal(size=(50, 10)).astype("float32")
    y = rng.integers(0, 4, size=50)
    r = report(model, small, x, y, repeats=2)
    d = r.to_dict()
    assert d["parameters"] == {"before": 32 * 11 + 4 * 33, "after": 8 * 11 + 4 * 9}
    assert d["FLOPs per sample"]["after"] < d["FLOPs per sample"]["before"]
    assert d["weights file (KiB)"]["after"] < d["weights file (KiB)"]["before"]
    assert d["weights file (KiB)"]["before"] == weights_file_size(model) / 1024
    timing = next(k for k in d if k.startswith("predict"))
    assert timing == "predict (ms, 50 samples)" and d[timing]["before"] > 0
    expected = [float(np.mean(m.predict(x, verbose=0).argmax(axis=1) == y)) for m in (model, small)]
    assert [d["accuracy"]["before"], d["accuracy"]["after"]] == expected
    text = str(r)
    for row in ("parameters", "FLOPs per sample", "weights file (KiB)", "accuracy", "faster"):
        assert row in text
    assert f"{32 * 11 + 4 * 33:,}" in text


def test_report_binary_and_one_hot_accuracy_and_no_labels(rng):
    model = profond.Sequential([L.Input((3,)), L.Dense(1, activation="sigmoid")])
    x = rng.normal(size=(40, 3))
    p = model.predict(x, verbose=0).ravel()
    y = (rng.random(40) > 0.5).astype(int)
    r = report(model, model, x, y, repeats=1)
    assert r["accuracy"]["before"] == pytest.approx(np.mean((p > 0.5) == y))
    multi = profond.Sequential([L.Input((3,)), L.Dense(3)])
    labels = rng.integers(0, 3, size=40)
    onehot = np.eye(3)[labels]
    r1 = report(multi, multi, x, onehot, repeats=1)
    r2 = report(multi, multi, x, labels, repeats=1)
    assert r1["accuracy"] == r2["accuracy"]
    assert "accuracy" not in report(multi, multi, x, repeats=1).to_dict()
    with pytest.raises(ValueError, match="The 'repeats' parameter of report"):
        report(multi, multi, x, repeats=0)


def test_cli_prune_prints_the_report_and_saves(rng, tmp_path, capsys):
    from profond.cli.main import main

    model = profond.Sequential([L.Input((6,)), L.Dense(12, activation="relu", name="h"),
                                L.Dense(3, activation="softmax", name="out")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.save(str(tmp_path / "m.safetensors"))
    x = rng.normal(size=(40, 6)).astype("float32")
    y = rng.integers(0, 3, size=40)
    np.savez(tmp_path / "d.npz", x=x, y=y, x_train=x, y_train=y)
    out = tmp_path / "small.safetensors"
    code = main(["prune", str(tmp_path / "m.safetensors"), "--data", str(tmp_path / "d.npz"),
                 "--amount", "0.25", "--fine-tune-epochs", "1", "--repeats", "1",
                 "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert "pruned: h 12->9" in text and "fine-tuned for 1 epoch" in text
    assert "parameters" in text and "accuracy" in text
    assert profond.load_model(str(out)).layers[0].units == 9
    assert main(["prune", str(tmp_path / "m.safetensors"), "--data", str(tmp_path / "d.npz"),
                 "--layers", "out", "--repeats", "1"]) == 2
    assert "Layer 'out' (Dense) gives the model's outputs" in capsys.readouterr().err
