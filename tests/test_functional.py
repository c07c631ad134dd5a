"""The functional API: Input, symbolic calls, Model(inputs, outputs), merge layers."""

import json

import numpy as np
import pytest

import profond
from profond import layers
from profond.testing import gradcheck


def _rng(seed=0):
    return np.random.default_rng(seed)


def _dense(x, layer):
    kernel, bias = layer.get_weights()
    return x @ kernel + bias


# --- Input and symbolic calls ---------------------------------------------------------------
def test_input_is_a_symbolic_tensor_with_batch_none_dtype_and_name():
    x = layers.Input((3, 2), name="pixels")
    assert (x.shape, x.dtype, x.name, x.ndim) == ((None, 3, 2), "float32", "pixels", 3)
    assert layers.Input((4,), batch_size=8, dtype="int32").shape == (8, 4)
    assert layers.Input(batch_shape=(None, 5)).shape == (None, 5)
    assert isinstance(x._keras_history[0], layers.InputLayer)
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(x)


def test_a_layer_call_on_symbolic_tensors_infers_shapes_and_records_a_node():
    x = layers.Input((None, 5))
    seq = layers.LSTM(3, return_sequences=True)(x)
    assert seq.shape == (None, None, 3)
    out, h, c = layers.LSTM(2, return_state=True)(x)
    assert out.shape == h.shape == c.shape == (None, 2)
    flat = layers.Flatten()(layers.Input((4, 3)))  # no compute_output_shape override: probed
    assert flat.shape == (None, 12)
    dense = layers.Dense(4)
    y = dense(layers.Input((6,)))
    node = dense._inbound_nodes[0]
    assert node.layer is dense and node.output_tensors == [y] and y._keras_history[1:] == (0, 0)


def test_wrong_shapes_are_refused_when_the_graph_is_built_naming_layer_and_shapes():
    a, b = layers.Input((4,)), layers.Input((5,))
    with pytest.raises(ValueError, match=r"layer 'bad_add' \(Add\).*\(None, 4\), \(None, 5\)"):
        layers.Add(name="bad_add")([a, b])
    shared = layers.Dense(2, name="shared")
    shared(a)
    with pytest.raises(ValueError, match=r"The 'inputs' parameter of layer 'shared' \(Dense\) must "
                                         r"have shapes the layer can take \(it was built for "
                                         r"inputs of shape \(None, 4\)\)\. Got inputs of shape "
                                         r"\(None, 5\) instead"):
        shared(b)
    with pytest.raises(ValueError, match=r"Concatenate.*equal shapes except on axis -1"):
        layers.concatenate([layers.Input((2, 3)), layers.Input((4, 3))])
    with pytest.raises(ValueError, match="equal sizes on the axes"):
        layers.Dot(axes=1)([a, b])
    with pytest.raises(ValueError, match="all symbolic tensors"):
        layers.Add()([a, np.zeros((2, 4))])


# --- merge layers: forward against NumPy, backward against finite differences ---------------
MERGES = [
    (layers.Add, lambda xs: xs[0] + xs[1] + xs[2], 3),
    (layers.Subtract, lambda xs: xs[0] - xs[1], 2),
    (layers.Multiply, lambda xs: xs[0] * xs[1] * xs[2], 3),
    (layers.Average, lambda xs: (xs[0] + xs[1] + xs[2]) / 3, 3),
    (layers.Maximum, lambda xs: np.maximum(np.maximum(xs[0], xs[1]), xs[2]), 3),
    (layers.Minimum, lambda xs: np.minimum(np.minimum(xs[0], xs[1]), xs[2]), 3),
]


@pytest.mark.parametrize("cls, reference, n", MERGES, ids=[m[0].__name__ for m in MERGES])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5)])
def test_elementwise_merges_match_numpy_and_gradcheck(cls, reference, n, shape):
    xs = [_rng(i).normal(size=shape) for i in range(n)]
    out = cls()(xs).numpy()
    np.testing.assert_allclose(out, reference(xs), rtol=1e-5, atol=1e-6)
    assert gradcheck(lambda *ts: cls()(list(ts)), *xs)
    fn = getattr(layers, cls.__name__.lower())
    np.testing.assert_allclose(fn(xs).numpy(), out)


def test_elementwise_merges_broadcast_an_axis_of_size_one():
    a, b = _rng(0).normal(size=(4, 3)), _rng(1).normal(size=(4, 1))
    np.testing.assert_allclose(layers.add([a, b]).numpy(), a + b, rtol=1e-6)
    assert layers.Add()([layers.Input((3,)), layers.Input((1,))]).shape == (None, 3)


@pytest.mark.parametrize("axis", [-1, 1])
def test_concatenate_matches_numpy_and_gradchecks(axis):
    a, b = _rng(0).normal(size=(2, 3, 4)), _rng(1).normal(size=(2, 3, 4))
    np.testing.assert_allclose(layers.concatenate([a, b], axis=axis).numpy(),
                               np.concatenate([a, b], axis=axis), rtol=1e-6)
    assert gradcheck(lambda x, y: layers.Concatenate(axis=axis)([x, y]), a, b)
    sym = layers.Concatenate(axis=axis)([layers.Input((3, 4)), layers.Input((3, 4))])
    assert sym.shape == ((None, 3, 8) if axis == -1 else (None, 6, 4))


@pytest.mark.parametrize("axes, shapes", [(1, [(3, 4), (3, 4)]), ((2, 2), [(2, 3, 4), (2, 5, 4)]),
                                          ((1, 2), [(2, 3, 4), (2, 5, 3)])])
@pytest.mark.parametrize("normalize", [False, True])
def test_dot_matches_numpy_batch_dot_and_gradchecks(axes, shapes, normalize):
    x, y = _rng(0).normal(size=shapes[0]), _rng(1).normal(size=shapes[1])
    a1, a2 = (axes, axes) if isinstance(axes, int) else axes
    xr, yr = x, y
    if normalize:
        xr = x / np.linalg.norm(x, axis=a1, keepdims=True)
        yr = y / np.linalg.norm(y, axis=a2, keepdims=True)
    expected = np.stack([np.tensordot(xr[i], yr[i], axes=(a1 - 1, a2 - 1))
                         for i in range(len(x))])
    if expected.ndim == 1:
        expected = expected[:, None]
    out = layers.Dot(axes=axes, normalize=normalize)([x, y]).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    assert gradcheck(lambda a, b: layers.Dot(axes=axes, normalize=normalize)([a, b]), x, y)
    sym = layers.dot([layers.Input(shapes[0][1:]), layers.Input(shapes[1][1:])], axes=axes,
                     normalize=normalize)
    assert sym.shape == (None,) + expected.shape[1:]


def test_merge_layers_refuse_bad_arguments():
    with pytest.raises(ValueError, match="exactly 2"):
        layers.Subtract()([np.ones((2, 2))] * 3)
    with pytest.raises(ValueError, match="list of tensors"):
        layers.Add()(np.ones((2, 2)))
    with pytest.raises(ValueError, match="The 'axes' parameter of Dot"):
        layers.Dot(axes="last")
    with pytest.raises(ValueError, match="The 'axis' parameter of Concatenate"):
        layers.Concatenate(axis=1.5)


def test_merges_combine_masks():
    seq = np.array([[1, 2, 0], [3, 0, 0]])
    x = layers.Input((None,), dtype="int32")
    e1 = layers.Embedding(5, 2, mask_zero=True)(x)
    e2 = layers.Embedding(5, 2)(x)
    out = layers.LSTM(2)(layers.add([e1, e2]))
    model = profond.Model(x, out)
    # the mask of e1 reaches the LSTM through Add: the padded steps change nothing
    padded = np.array([[1, 2, 0, 0, 0], [3, 0, 0, 0, 0]])
    np.testing.assert_allclose(model.predict(seq, verbose=0), model.predict(padded, verbose=0),
                               rtol=1e-5, atol=1e-6)


# --- models --------------------------------------------------------------------------------
def test_single_input_output_model_computes_its_layers():
    x = layers.Input((3,))
    hidden = layers.Dense(4, activation="relu", name="hidden")
    out = layers.Dense(2, name="out")
    model = profond.Model(x, out(hidden(x)), name="mlp")
    assert isinstance(model, profond.Model) and type(model).__name__ == "Functional"
    assert [layer.name for layer in model.layers][1:] == ["hidden", "out"]
    assert model.input_shape == (None, 3) and model.output_shape == (None, 2)
    assert model.inputs == [x] and len(model.outputs) == 1
    data = _rng().normal(size=(5, 3)).astype("float32")
    expected = _dense(np.maximum(_dense(data, hidden), 0), out)
    np.testing.assert_allclose(model.predict(data, verbose=0), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"samples of shape \(3,\)"):
        model.predict(np.zeros((2, 4)), verbose=0)


def test_multi_input_multi_output_lists_and_dicts():
    a, b = layers.Input((3,), name="a"), layers.Input((2,), name="b")
    joined = layers.concatenate([a, b])
    y1 = layers.Dense(1, name="y1")(joined)
    y2 = layers.Dense(2, name="y2")(joined)
    xa, xb = _rng(0).normal(size=(4, 3)), _rng(1).normal(size=(4, 2))
    listed = profond.Model([a, b], [y1, y2])
    out = listed.predict([xa, xb], verbose=0)
    assert [o.shape for o in out] == [(4, 1), (4, 2)]
    by_name = listed.predict({"a": xa, "b": xb}, verbose=0)  # inputs found by their names
    np.testing.assert_allclose(by_name[1], out[1])
    dicts = profond.Model({"a": a, "b": b}, {"first": y1, "second": y2})
    out_d = dicts.predict({"a": xa, "b": xb}, verbose=0)
    assert sorted(out_d) == ["first", "second"]
    np.testing.assert_allclose(out_d["second"], out[1], rtol=1e-6)
    assert dicts.output_shape == {"first": (None, 1), "second": (None, 2)}
    with pytest.raises(ValueError, match="must map each input's name"):
        profond.Model({"wrong": a, "b": b}, y1)


def test_shared_layer_counts_its_weights_once_and_computes_both_calls():
    a, b = layers.Input((3,), name="a"), layers.Input((3,), name="b")
    shared = layers.Dense(2, name="shared")
    model = profond.Model([a, b], layers.subtract([shared(a), shared(b)]))
    assert len(model.weights) == 2 and model.count_params() == 8
    xa, xb = _rng(0).normal(size=(4, 3)), _rng(1).normal(size=(4, 3))
    expected = _dense(xa, shared) - _dense(xb, shared)
    np.testing.assert_allclose(model.predict([xa, xb], verbose=0), expected, rtol=1e-5,
                               atol=1e-6)


def _residual_mlp():
    x = layers.Input((4,), name="x")
    h = layers.Dense(8, activation="relu", name="h1")(x)
    r = layers.Dense(8, activation="relu", name="h2")(h)
    h = layers.add([h, r], name="skip")
    return profond.Model(x, layers.Dense(1, name="out")(h), name="residual")


def test_skip_connection_model_trains():
    profond.random.seed(0)
    model = _residual_mlp()
    x = _rng().normal(size=(256, 4))
    y = (x ** 2).sum(axis=1, keepdims=True)
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_nested_functional_and_sequential_models_are_layers():
    inner_in = layers.Input((3,))
    block = profond.Model(inner_in, layers.Dense(3, activation="tanh")(inner_in), name="block")
    head = profond.Sequential([layers.Input((3,)), layers.Dense(2)], name="head")
    x = layers.Input((3,))
    h = block(block(x))  # a whole model shared, called twice
    out = head(h)
    model = profond.Model(x, out)
    assert [layer.name for layer in model.layers][1:] == ["block", "head"]
    assert len(model.weights) == 4
    data = _rng().normal(size=(5, 3)).astype("float32")
    expected = head.predict(block.predict(block.predict(data, verbose=0), verbose=0), verbose=0)
    np.testing.assert_allclose(model.predict(data, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_training_given_in_a_call_is_kept_in_the_graph():
    x = layers.Input((200,))
    model = profond.Model(x, layers.Dropout(0.5)(x, training=True))
    out = model.predict(np.ones((2, 200)), verbose=0)
    assert (out == 0).any() and (out == 2).any()


def test_model_refuses_what_is_not_a_graph():
    x = layers.Input((3,))
    with pytest.raises(ValueError, match="The 'outputs' parameter of Model"):
        profond.Model(x, np.zeros(3))
    hidden = layers.Dense(2)(x)
    with pytest.raises(ValueError, match="made by Input"):
        profond.Model(hidden, layers.Dense(1)(hidden))
    other = layers.Input((2,))
    with pytest.raises(ValueError, match="every Input the outputs depend on"):
        profond.Model(x, layers.concatenate([x, other]))


def test_masks_flow_as_in_sequential():
    x = layers.Input((None,), dtype="int32")
    functional = profond.Model(x, layers.LSTM(2)(layers.Embedding(10, 3, mask_zero=True)(x)))
    sequential = profond.Sequential([layers.Input((None,), dtype="int32"),
                                     layers.Embedding(10, 3, mask_zero=True), layers.LSTM(2)])
    sequential.set_weights(functional.get_weights())
    data = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    np.testing.assert_allclose(functional.predict(data, verbose=0),
                               sequential.predict(data, verbose=0), rtol=1e-6)


# --- inspection ----------------------------------------------------------------------------
def test_summary_shows_each_layers_inbound_connections():
    a, b = layers.Input((4,), name="a"), layers.Input((4,), name="b")
    d = layers.Dense(4, name="d")
    model = profond.Model([a, b], layers.Dense(2, name="out")(layers.add([d(a), d(b)],
                                                                          name="sum")),
                          name="siamese")
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    assert 'Model: "siamese"' in text and "Connected to" in text
    rows = {line.split()[0]: line for line in text.splitlines()}
    assert rows["a"].rstrip().endswith("-")
    assert "(None, 4)" in rows["d"] and rows["d"].rstrip().endswith("a[0][0], b[0][0]")
    assert rows["sum"].rstrip().endswith("d[0][0], d[1][0]")
    assert rows["out"].rstrip().endswith("sum[0][0]") and " 10 " in rows["out"]
    assert "Total params: 30" in text


def test_get_layer_by_name_and_index_and_its_errors():
    model = _residual_mlp()
    assert model.get_layer("skip").name == "skip"
    assert model.get_layer(index=0).name == "x" and model.get_layer(index=-1).name == "out"
    with pytest.raises(ValueError, match=r"The 'name' parameter of get_layer must name a layer "
                                         r"of model 'residual' \(\['x', 'h1'"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match=r"The 'index' parameter of get_layer must be an int in "
                                         r"\[-5, 5\).*Got 5 instead"):
        model.get_layer(index=5)
    with pytest.raises(ValueError, match="one at a time"):
        model.get_layer("out", 1)
    with pytest.raises(ValueError, match="one at a time"):
        model.get_layer()
    seq = profond.Sequential([layers.Input((2,)), layers.Dense(1, name="only")])
    assert seq.get_layer("only") is seq.layers[0]
    assert seq.output_shape == (None, 1)


def test_structured_pruning_refuses_a_functional_model():
    from profond.pruning import prune_neurons

    with pytest.raises(TypeError, match="Got the functional model 'residual'"):
        prune_neurons(_residual_mlp(), amount=0.5)


# --- configuration and files ---------------------------------------------------------------
def _siamese_with_skip():
    a, b = layers.Input((3,), name="a"), layers.Input((3,), name="b")
    shared = layers.Dense(3, activation="tanh", name="shared")
    sa, sb = shared(a), shared(b)
    joined = layers.concatenate([layers.add([sa, a], name="skip_a"), sb], name="joined")
    return profond.Model({"a": a, "b": b}, [layers.Dense(1, name="value")(joined),
                                            layers.Dense(3, activation="softmax",
                                                         name="label")(joined)])


def test_get_config_has_keras_functional_shape():
    config = json.loads(json.dumps(_siamese_with_skip().get_config()))
    assert sorted(config) == ["input_layers", "layers", "name", "output_layers", "trainable"]
    first = config["layers"][0]
    assert {"module", "class_name", "config", "registered_name", "name",
            "inbound_nodes"} <= set(first)
    assert first["class_name"] == "InputLayer" and first["inbound_nodes"] == []
    shared = next(spec for spec in config["layers"] if spec["name"] == "shared")
    assert shared["build_config"] == {"input_shape": [None, 3]}
    assert [node["args"][0]["config"]["keras_history"] for node in shared["inbound_nodes"]] == \
        [["a", 0, 0], ["b", 0, 0]]
    assert shared["inbound_nodes"][0]["args"][0]["class_name"] == "__keras_tensor__"
    skip = next(spec for spec in config["layers"] if spec["name"] == "skip_a")
    assert [t["config"]["keras_history"] for t in skip["inbound_nodes"][0]["args"][0]] == \
        [["shared", 0, 0], ["a", 0, 0]]
    assert config["input_layers"] == {"a": ["a", 0, 0], "b": ["b", 0, 0]}
    assert config["output_layers"] == [["value", 0, 0], ["label", 0, 0]]


def test_save_and_load_round_trip_predictions_and_training(tmp_path):
    profond.random.seed(0)
    model = _siamese_with_skip()
    model.compile(optimizer="adam", loss={"value": "mse", "label": "sparse_categorical_crossentropy"},
                  loss_weights={"value": 0.5, "label": 1.0})
    rng = _rng()
    x = {"a": rng.normal(size=(64, 3)), "b": rng.normal(size=(64, 3))}
    y = {"value": rng.normal(size=(64, 1)), "label": rng.integers(0, 3, 64)}
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    path = tmp_path / "model.safetensors"
    model.save(path)
    loaded = profond.load_model(path)
    assert type(loaded).__name__ == "Functional"
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    for got, want in zip(loaded.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_array_equal(got, want)
    runs = []
    for m in (model, loaded):
        with profond.random.seeded(3):
            runs.append(m.fit(x, y, epochs=2, batch_size=16, verbose=0).history)
    assert runs[0] == runs[1]


def test_from_config_of_the_model_class_gives_a_functional_model():
    model = _residual_mlp()
    clone = profond.Model.from_config(json.loads(json.dumps(model.get_config())))
    clone.set_weights(model.get_weights())
    data = _rng().normal(size=(3, 4))
    np.testing.assert_allclose(clone.predict(data, verbose=0), model.predict(data, verbose=0))


# --- training with several outputs ---------------------------------------------------------
def test_fit_with_per_output_losses_and_loss_weights_named_by_output_layers():
    profond.random.seed(0)
    model = _siamese_with_skip()
    model.compile(optimizer=profond.optimizers.SGD(learning_rate=0.0),
                  loss={"value": "mse", "label": "sparse_categorical_crossentropy"},
                  loss_weights={"value": 0.5, "label": 2.0},
                  metrics={"label": ["accuracy"]})
    rng = _rng(1)
    x = {"a": rng.normal(size=(48, 3)), "b": rng.normal(size=(48, 3))}
    y_list = [rng.normal(size=(48, 1)), rng.integers(0, 3, 48)]
    history = model.fit(x, y_list, epochs=1, batch_size=48, verbose=0).history
    for key in ("loss", "value_loss", "label_loss", "label_accuracy"):
        assert key in history, sorted(history)
    value, label = model.predict(x, verbose=0)
    mse = np.mean((value - y_list[0]) ** 2)
    nll = np.mean(-np.log(label[np.arange(48), y_list[1]]))
    assert history["value_loss"][0] == pytest.approx(mse, rel=1e-4)
    assert history["label_loss"][0] == pytest.approx(nll, rel=1e-4)
    assert history["loss"][0] == pytest.approx(0.5 * mse + 2.0 * nll, rel=1e-4)
    by_name = model.evaluate(x, {"value": y_list[0], "label": y_list[1]}, verbose=0,
                             return_dict=True)
    assert by_name["loss"] == pytest.approx(history["loss"][0], rel=1e-4)


def test_class_weights_per_output_reach_a_functional_model():
    profond.random.seed(0)
    model = _siamese_with_skip()
    model.compile(optimizer=profond.optimizers.SGD(learning_rate=0.0),
                  loss={"value": "mse", "label": "sparse_categorical_crossentropy"})
    rng = _rng(2)
    x = {"a": rng.normal(size=(40, 3)), "b": rng.normal(size=(40, 3))}
    y = {"value": rng.normal(size=(40, 1)), "label": rng.integers(0, 3, 40)}
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    history = model.fit(x, y, epochs=1, batch_size=40, verbose=0,
                        class_weight={"label": cw}).history
    _, label = model.predict(x, verbose=0)
    nll = -np.log(label[np.arange(40), y["label"]])
    weights = np.vectorize(cw.get)(y["label"])
    assert history["label_loss"][0] == pytest.approx(np.mean(nll * weights), rel=1e-4)


def test_per_output_dicts_may_name_the_only_output():
    model = _residual_mlp()
    model.compile(optimizer="sgd", loss={"out": "mse"}, loss_weights={"out": 2.0},
                  metrics={"out": ["mae"]})
    x = _rng().normal(size=(16, 4))
    y = x.sum(axis=1, keepdims=True)
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    err = model.predict(x, verbose=0) - y
    assert results["loss"] == pytest.approx(2.0 * np.mean(err ** 2), rel=1e-4)
    assert results["mae"] == pytest.approx(np.mean(np.abs(err)), rel=1e-4)


def test_encoder_decoder_passes_states_as_keyword_tensors_and_round_trips(tmp_path):
    enc_in, dec_in = layers.Input((None, 3), name="enc"), layers.Input((None, 2), name="dec")
    _, h, c = layers.LSTM(4, return_state=True, name="encoder")(enc_in)
    decoded = layers.LSTM(4, return_sequences=True, name="decoder")(dec_in, initial_state=[h, c])
    model = profond.Model([enc_in, dec_in], layers.Dense(2, name="step")(decoded))
    assert model.output_shape == (None, None, 2)
    decoder = model.get_layer("decoder")
    assert [t._keras_history[0].name for t in decoder._inbound_nodes[0].input_tensors] == \
        ["dec", "encoder", "encoder"]
    rng = _rng()
    x = [rng.normal(size=(3, 5, 3)), rng.normal(size=(3, 4, 2))]
    out = model.predict(x, verbose=0)
    _, h_val, c_val = model.get_layer("encoder")(x[0])
    expected = model.get_layer("step")(decoder(x[1], initial_state=[h_val, c_val]))
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-5, atol=1e-6)
    model.compile(optimizer="sgd", loss="mse")
    path = tmp_path / "seq2seq.safetensors"
    model.save(path)
    np.testing.assert_array_equal(profond.load_model(path).predict(x, verbose=0), out)
