"""keras.io example scripts run on profond with only ``import keras`` changed.

Each file in ``tests/keras_scripts/`` is a keras.io example or guide (its header names it, its
address and what was changed: offline data of the same shapes, fewer epochs). Each test runs
one script as a user would (``runpy``) and checks what the script computed: the loss falls,
history holds the keys Keras logs, outputs have the right shapes, files were written.
"""

import os
import re
import runpy
from pathlib import Path

import numpy as np
import pytest

import profond

pytest.importorskip("sklearn")  # the bundled datasets several scripts read

SCRIPTS = Path(__file__).parent / "keras_scripts"

# The scripts define and register their own classes (Antirectifier, RecommenderNet).
pytestmark = pytest.mark.usefixtures("fresh_registry")


def run_script(name):
    """The script's globals after running it, from a fixed seed."""
    profond.utils.set_random_seed(0)
    return runpy.run_path(str(SCRIPTS / f"{name}.py"), run_name="keras_script")


def test_every_script_has_a_test_and_a_header():
    names = {p.stem for p in SCRIPTS.glob("*.py")}
    tested = {n[len("test_"):] for n in globals() if n.startswith("test_")}
    assert names <= tested, f"scripts without a test: {sorted(names - tested)}"
    assert len(names) >= 10
    for path in SCRIPTS.glob("*.py"):
        text = path.read_text()
        assert "Source: https://" in text and "Changed:" in text, path.name
        assert not re.search(r"^\s*(import keras|from keras)\b", text, re.M), path.name


def test_mnist_convnet():
    g = run_script("mnist_convnet")
    history = g["history"].history
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history["loss"][-1] < history["loss"][0]
    test_loss, test_accuracy = g["score"]
    assert np.isfinite(test_loss) and test_accuracy > 0.2  # chance is 0.1
    assert g["y_train"].shape == (600, 10)  # keras.utils.to_categorical
    assert g["model"].predict(g["x_test"][:5], verbose=0).shape == (5, 10)


def test_bidirectional_lstm_imdb():
    g = run_script("bidirectional_lstm_imdb")
    assert g["x_train"].shape == (256, 40) and g["x_val"].shape == (64, 40)
    assert set(g["history"].history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    model = g["model"]
    assert model.input_shape == (None, None)
    # shape=(None,): any sequence length runs through the same model
    for length in (40, 25):
        out = model.predict(g["x_val"][:3, :length], verbose=0)
        assert out.shape == (3, 1) and np.all((out > 0) & (out < 1))


def test_text_classification_from_scratch():
    g = run_script("text_classification_from_scratch")
    assert g["x_train"].shape == (192, 100) and g["x_train"].dtype == np.int64
    history = g["history"].history
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history["loss"]) == 2 and all(np.isfinite(history["loss"]))
    loss, accuracy = g["results"]
    assert np.isfinite(loss) and 0 <= accuracy <= 1
    assert tuple(g["predictions"].shape) == (None, 1)
    assert g["model"].predict(g["x_test"][:3], verbose=0).shape == (3, 1)


def test_timeseries_classification_from_scratch():
    g = run_script("timeseries_classification_from_scratch")
    history = g["history"].history
    assert {"loss", "sparse_categorical_accuracy", "val_loss",
            "val_sparse_categorical_accuracy"} <= set(history)
    assert history["loss"][-1] < history["loss"][0]
    assert os.path.isfile(g["checkpoint_path"])
    # the model read back from the best checkpoint scores what evaluate printed
    model, x_test = g["model"], g["x_test"]
    probabilities = model.predict(x_test, verbose=0)
    assert probabilities.shape == (40, 2)
    accuracy = np.mean(probabilities.argmax(axis=1) == g["y_test"])
    assert accuracy == pytest.approx(g["test_acc"])
    assert len(g["train_curve"]) == len(g["val_curve"]) == 3


def test_imbalanced_classification():
    g = run_script("imbalanced_classification")
    history = g["history"].history
    names = ["fn", "fp", "tn", "tp", "precision", "recall"]
    assert set(history) == {"loss", "val_loss", *names, *(f"val_{n}" for n in names)}
    counts = g["counts"]
    for epoch in range(3):  # the confusion counts add up to the training set, every epoch
        assert history["tp"][epoch] + history["fn"][epoch] == counts[1]
        assert history["tn"][epoch] + history["fp"][epoch] == counts[0]
        assert history["val_tp"][epoch] + history["val_fn"][epoch] == g["val_targets"].sum()
    written = sorted(os.listdir(g["checkpoint_dir"]))
    assert written == [f"fraud_model_at_epoch_{e}.keras" for e in (1, 2, 3)]


def test_collaborative_filtering_movielens():
    g = run_script("collaborative_filtering_movielens")
    assert set(g["history"].history) == {"loss", "val_loss"}
    model, x_val = g["model"], g["x_val"]
    out = model.predict(x_val, verbose=0)
    assert out.shape == (len(x_val), 1) and np.all((out > 0) & (out < 1))
    # ops.tensordot(u, m, 2) contracts both axes of (batch, 50) x (batch, 50): one number for
    # the whole batch, as in Keras (the example's way of writing it)
    user_emb, user_bias, movie_emb, movie_bias = (
        model.user_embedding.get_weights()[0], model.user_bias.get_weights()[0],
        model.movie_embedding.get_weights()[0], model.movie_bias.get_weights()[0])
    batch = x_val[:7]
    dot = np.sum(user_emb[batch[:, 0]] * movie_emb[batch[:, 1]])
    expected = 1 / (1 + np.exp(-(dot + user_bias[batch[:, 0]] + movie_bias[batch[:, 1]])))
    np.testing.assert_allclose(model.predict(batch, verbose=0), expected, rtol=1e-5)
    assert len(g["recommended_movie_ids"]) == 10


def test_antirectifier():
    g = run_script("antirectifier")
    history = g["history"].history
    assert set(history) == {"loss", "sparse_categorical_accuracy", "val_loss",
                            "val_sparse_categorical_accuracy"}
    assert history["loss"][-1] < history["loss"][0]
    assert g["results"][1] > 0.3
    layer = g["model"].layers[1]
    assert layer.kernel.shape == (512, 256)  # add_weight in build, from the input's width
    config = layer.get_config()
    assert config["initializer"]["class_name"] == "HeNormal"
    assert type(g["Antirectifier"].from_config(config).initializer).__name__ == "HeNormal"


def test_writing_your_own_callbacks():
    g = run_script("writing_your_own_callbacks")
    events = g["events"]
    hooks = [hook for hook, _ in events]
    fit_end = hooks.index("on_train_end")
    # fit's validation runs the test hooks (within the epoch), as in Keras
    assert hooks.index("on_test_begin") < hooks.index("on_epoch_end") < fit_end
    keys = dict(events)
    assert keys["on_train_begin"] == [] and keys["on_train_batch_begin"] == []
    assert keys["on_train_batch_end"] == ["loss", "mean_absolute_error"]
    assert keys["on_test_batch_end"] == ["loss", "mean_absolute_error"]
    assert keys["on_epoch_end"] == ["loss", "mean_absolute_error", "val_loss",
                                    "val_mean_absolute_error"]
    assert keys["on_predict_batch_end"] == ["outputs"]
    assert hooks[-1] == "on_predict_end"
    assert hooks.count("on_predict_batch_end") == 7  # 797 samples in batches of 128
    # the custom scheduler's rates reached the optimizer
    assert g["lr_seen"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.01, 0.01])
    assert float(np.array(g["model"].optimizer.learning_rate)) == pytest.approx(0.01)
    stopper = g["early_stopping"]
    ran = len(g["history"].history["loss"])
    assert ran == (stopper.stopped_epoch + 1 if stopper.stopped_epoch else 8)


def test_functional_api():
    g = run_script("functional_api")
    assert set(g["ticket_history"].history) == {"loss", "department_loss", "priority_loss"}
    model = g["ticket_model"]
    out = model.predict({"title": g["title_data"][:4], "body": g["body_data"][:4],
                         "tags": g["tags_data"][:4]}, verbose=0)
    assert out["priority"].shape == (4, 1) and out["department"].shape == (4, 4)
    resnet = g["resnet_model"]
    assert set(g["resnet_history"].history) == {"loss", "acc", "val_loss", "val_acc"}
    assert resnet.name == "toy_resnet" and resnet.count_params() == 223_242  # as in the guide
    assert resnet.predict(g["x_train"][:2], verbose=0).shape == (2, 10)


def test_building_autoencoders():
    g = run_script("building_autoencoders")
    dense = g["dense_history"].history
    assert set(dense) == {"loss", "val_loss"}
    assert dense["loss"][-1] < dense["loss"][0] and dense["val_loss"][-1] < dense["val_loss"][0]
    assert g["encoded_imgs"].shape == (100, 32)
    # the decoder model reuses the autoencoder's last layer: same weights, same reconstruction
    np.testing.assert_allclose(
        g["decoder"].predict(g["encoded_imgs"], verbose=0),
        g["dense_autoencoder"].predict(g["x_test"].reshape(100, 784), verbose=0), rtol=1e-5,
        atol=1e-6)
    assert g["decoded_imgs"].shape == (100, 28, 28, 1)
    assert tuple(g["encoded"].shape) == (None, 4, 4, 8)  # "(4, 4, 8) i.e. 128-dimensional"


def test_timeseries_weather_forecasting():
    g = run_script("timeseries_weather_forecasting")
    history = g["history"].history
    assert set(history) == {"loss", "val_loss"}
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_loss"][-1] < 0.5  # the temperature's variance is 1 after normalising
    assert tuple(g["inputs"].shape) == (None, 20, 7)  # keras.layers.Input of the batch's shape
    assert os.path.isfile(g["path_checkpoint"])
    assert g["prediction"].shape == (1,)


def test_training_with_built_in_methods():
    g = run_script("training_with_built_in_methods")
    history = g["history"].history
    assert set(history) == {"loss", "sparse_categorical_accuracy", "val_loss",
                            "val_sparse_categorical_accuracy"}
    assert history["loss"][1] < history["loss"][0]
    assert len(g["results"]) == 2 and g["predictions"].shape == (3, 10)
    for name in ("custom_loss_history", "custom_mse_history"):  # a function, a Loss subclass
        assert np.isfinite(g[name].history["loss"][0])
    # the Metric subclass with add_variable: logged each epoch, and its state resets
    assert len(g["custom_metric_history"].history["categorical_true_positives"]) == 3
    metric = g["CategoricalTruePositives"]()
    metric.update_state(np.array([[2.0], [1.0]]), np.array([[0, 0, 1.0], [0, 0, 1.0]]))
    assert float(metric.result()) == 1.0  # labels 2, 1 against argmaxes 2, 2
    metric.reset_state()
    assert float(metric.result()) == 0.0
    assert {"val_loss", "val_sparse_categorical_accuracy"} <= set(
        g["py_dataset_history"].history)
    # the layer's add_loss (0.1 * the sum of a batch's activations) outweighs the cross-entropy
    assert g["add_loss_history"].history["loss"][0] > 3 * g["history"].history["loss"][0]
    assert len(g["py_dataset_results"]) == 2
    assert set(g["multi_output_history"].history) == {
        "loss", "score_output_loss", "class_output_loss",
        "score_output_mean_absolute_percentage_error", "score_output_mean_absolute_error",
        "class_output_categorical_accuracy"}
    assert 1 <= len(g["early_stopping_history"].history["loss"]) <= 4
    assert len(g["loss_history"].per_batch_losses) == 16  # on_batch_end: 1,000 / 64 batches
    work_dir = g["work_dir"]
    assert {"mymodel_1.keras", "mymodel_2.keras"} <= set(os.listdir(work_dir))
    assert len(os.listdir(os.path.join(work_dir, "ckpt"))) == 2  # the second run restored
    assert float(g["lr_schedule"](0)) == pytest.approx(0.1)


def test_making_new_layers_and_models_via_subclassing():
    g = run_script("making_new_layers_and_models_via_subclassing")
    np.testing.assert_array_equal(g["sum_after_two_calls"], [4.0, 4.0])  # assign_add, twice
    my_sum = g["my_sum"]
    assert len(my_sum.weights) == 1 and len(my_sum.non_trainable_weights) == 1
    assert my_sum.trainable_weights == []
    mlp = g["mlp"]
    assert len(mlp.weights) == 6 and len(mlp.trainable_weights) == 6  # nested layers tracked
    assert g["config"]["units"] == 64 and g["new_layer"].units == 64
    history = g["history"].history["loss"]
    assert history[-1] < history[0]
    dropout = g["CustomDropout"](0.5)
    x = g["ops"].ones((100, 10))
    assert np.array_equal(dropout(x).numpy(), x.numpy())  # inference: the identity
    dropped = dropout(x, training=True).numpy()
    assert 0 < np.mean(dropped == 0) < 1 and set(np.unique(dropped)) <= {0.0, 2.0}
