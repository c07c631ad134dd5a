"""ONNX export: every model kind passes onnx's full check and onnxruntime gives predict's
output at batch sizes 1, 3 and 17; layers without an ONNX form are named."""

import numpy as np
import pytest

import profond
from profond import layers

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from profond.io.onnx import ExportError, layers_with_onnx_form

L = layers


def _seq(*stack):
    return profond.Sequential(list(stack))


def _perturb_batchnorm(model):
    """Give BatchNormalization layers non-trivial statistics, as after training."""
    rng = np.random.default_rng(3)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            n = layer.moving_mean.shape
            layer.moving_mean.assign(rng.normal(size=n).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 2, size=n).astype("float32"))
            layer.gamma.assign(rng.uniform(0.5, 1.5, size=n).astype("float32"))
            layer.beta.assign(rng.normal(size=n).astype("float32"))


MODELS = {
    "dense": lambda: _seq(L.Input((7,)), L.Dense(16, activation="relu"), L.Dropout(0.3),
                          L.Dense(8, activation="tanh"), L.Dense(4, activation="softmax")),
    "activations": lambda: _seq(
        L.Input((6,)), L.Dense(6, activation="sigmoid"), L.Activation("elu"),
        L.Activation("selu"), L.Activation("leaky_relu"), L.Activation("softplus"),
        L.Activation("softsign"), L.Activation("hard_sigmoid"), L.Activation("silu"),
        L.Activation("gelu"), L.Dense(5, use_bias=False), L.Activation("log_softmax")),
    "step": lambda: _seq(L.Input((6,)), L.Dense(8, activation="step"), L.Dense(3)),
    "conv2d": lambda: _seq(
        L.Input((12, 11, 3)), L.Conv2D(4, 3, padding="same", activation="relu"),
        L.Conv2D(5, (3, 2), strides=(2, 1), padding="same"),
        L.Conv2D(4, 3, dilation_rate=2, padding="same"), L.BatchNormalization(),
        L.MaxPooling2D(2, padding="same"), L.Conv2D(3, 2, strides=2, padding="valid"),
        L.AveragePooling2D((2, 1), strides=1, padding="same"), L.Flatten(), L.Dense(3)),
    "padding_upsampling": lambda: _seq(
        L.Input((5, 4, 2)), L.ZeroPadding2D(((1, 2), (0, 3))), L.Conv2D(3, 2),
        L.UpSampling2D((2, 3)), L.Conv2D(2, 3, strides=2), L.Flatten()),
    "conv2d_global": lambda: _seq(
        L.Input((9, 9, 2)), L.Conv2D(4, 3, dilation_rate=(2, 1)), L.AveragePooling2D(2),
        L.GlobalMaxPooling2D(), L.Dense(2)),
    "conv2d_gap": lambda: _seq(L.Input((8, 8, 2)), L.Conv2D(3, 3, strides=2, padding="same"),
                               L.GlobalAveragePooling2D(keepdims=True), L.Reshape((3,))),
    "conv1d": lambda: _seq(
        L.Input((20, 3)), L.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu"),
        L.Conv1D(5, 4, strides=3, padding="same"), L.Conv1D(4, 2, padding="valid"),
        L.MaxPooling1D(2, padding="same"), L.AveragePooling1D(2, strides=1, padding="same"),
        L.BatchNormalization(), L.GlobalAveragePooling1D(), L.Dense(2)),
    "conv1d_gmp": lambda: _seq(L.Input((10, 3)), L.Conv1D(4, 3), L.AveragePooling1D(2),
                               L.GlobalMaxPooling1D(), L.Dense(2)),
    "time_distributed": lambda: _seq(
        L.Input((5, 6, 4, 2)), L.TimeDistributed(L.Conv2D(3, 3, padding="same",
                                                           activation="relu")),
        L.TimeDistributed(L.MaxPooling2D(2)), L.TimeDistributed(L.Flatten()),
        L.TimeDistributed(L.Dense(4)), L.LSTM(3), L.Dense(2)),
    "conv_transpose_depthwise": lambda: _seq(
        L.Input((6, 5, 3)), L.Conv2DTranspose(4, 3, strides=2, padding="same",
                                               activation="relu"),
        L.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
        L.SeparableConv2D(3, 3, depth_multiplier=2, strides=2),
        L.Conv2DTranspose(2, 2, strides=3), L.Conv2DTranspose(2, 3, strides=2, output_padding=1),
        L.Conv2D(4, 3, groups=2), L.GlobalAveragePooling2D(), L.Dense(2)),
    "conv1d_transpose_depthwise": lambda: _seq(
        L.Input((9, 2)), L.Conv1DTranspose(4, 4, strides=2, padding="same"),
        L.DepthwiseConv1D(3, strides=2), L.SeparableConv1D(3, 2, padding="same"),
        L.Flatten(), L.Dense(2)),
    "conv3d": lambda: _seq(
        L.Input((6, 5, 4, 2)), L.Conv3D(4, 3, padding="same", activation="relu"),
        L.MaxPooling3D(2, padding="same"), L.Conv3DTranspose(3, 2, strides=2, padding="same"),
        L.AveragePooling3D((2, 1, 2), strides=1, padding="same"), L.GlobalMaxPooling3D(),
        L.Dense(2)),
    "reshape": lambda: _seq(L.Input((12,)), L.Reshape((4, 3)), L.Dense(2), L.Reshape((-1,)),
                            L.BatchNormalization(), L.Dense(3)),
    "embedding": lambda: _seq(L.Input((9,), dtype="int64"), L.Embedding(30, 5),
                              L.Flatten(), L.Dense(2)),
    "simple_rnn": lambda: _seq(L.Input((6, 3)), L.SimpleRNN(5, return_sequences=True),
                               L.SimpleRNN(4, activation="relu"), L.Dense(2)),
    "gru": lambda: _seq(L.Input((6, 3)), L.GRU(5, return_sequences=True),
                        L.GRU(4, reset_after=False), L.Dense(2)),
    "gru_backwards": lambda: _seq(L.Input((6, 3)), L.GRU(4, go_backwards=True,
                                                         return_sequences=True),
                                  L.Flatten(), L.Dense(2)),
    "lstm": lambda: _seq(L.Input((7, 3)), L.LSTM(5, return_sequences=True),
                         L.LSTM(4, go_backwards=True), L.Dense(2)),
    "bidirectional": lambda: _seq(
        L.Input((6, 3)), L.Bidirectional(L.LSTM(4, return_sequences=True)),
        L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode="sum"),
        L.Bidirectional(L.SimpleRNN(3, return_sequences=True), merge_mode="mul"),
        L.Bidirectional(L.LSTM(3), merge_mode="ave"), L.Dense(2)),
    "masking": lambda: _seq(L.Input((7, 3)), L.Masking(0.0), L.LSTM(4, return_sequences=True,
                                                                    zero_output_for_mask=True),
                            L.GRU(3), L.Dense(2)),
    "masking_bidirectional": lambda: _seq(L.Input((7, 3)), L.Masking(0.0),
                                          L.Bidirectional(L.GRU(3)), L.Dense(2)),
    "embedding_mask": lambda: _seq(L.Input((8,), dtype="int64"),
                                   L.Embedding(20, 4, mask_zero=True),
                                   L.Bidirectional(L.LSTM(3, return_sequences=True)),
                                   L.SimpleRNN(3), L.Dense(2)),
}


MODELS.update({  # the catalogue's layers with an ONNX form (issue 15)
    "activation_layers": lambda: _seq(
        L.Input((6,)), L.Dense(6), L.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2),
        L.Dense(6), L.LeakyReLU(0.3), L.Dense(6), L.ELU(0.7), L.Dense(6), L.ReLU(), L.Dense(6),
        L.Softmax()),
    "prelu": lambda: _seq(L.Input((5, 4)), L.Dense(4), L.PReLU(alpha_initializer="random_normal",
                                                                shared_axes=[1])),
    "layer_norm_einsum": lambda: _seq(
        L.Input((5, 4)), L.LayerNormalization(), L.EinsumDense("abc,cd->abd", (None, 3),
                                                               bias_axes="d", activation="tanh"),
        L.LayerNormalization(center=False), L.Flatten(), L.Dense(2)),
    "reshaping": lambda: _seq(
        L.Input((6, 4)), L.Permute((2, 1)), L.ZeroPadding1D((1, 2)), L.Cropping1D((2, 1)),
        L.UpSampling1D(2), L.Conv1D(3, 2), L.GlobalAveragePooling1D(), L.RepeatVector(3),
        L.Flatten(), L.Rescaling(0.5, offset=1.0), L.Dense(2)),
    "volumes": lambda: _seq(
        L.Input((3, 4, 4, 2)), L.ZeroPadding3D(((1, 0), (0, 1), (1, 1))), L.Cropping3D(1),
        L.UpSampling3D((2, 1, 1)), L.Conv3D(2, 2), L.Flatten()),
    "crop2d_noise_augment": lambda: _seq(
        L.Input((8, 8, 2)), L.RandomFlip(), L.RandomRotation(0.1), L.RandomZoom(0.1),
        L.RandomTranslation(0.1, 0.1), L.RandomContrast(0.2), L.Cropping2D(((1, 2), (0, 1))),
        L.GaussianNoise(0.1), L.Conv2D(2, 3), L.GaussianDropout(0.2), L.AlphaDropout(0.1),
        L.ActivityRegularization(0.01), L.Identity(), L.Flatten(), L.Dense(2)),
})


def _inputs(name, model, batch, rng):
    shape = (batch,) + tuple(model.input_shape[1:])
    if "embedding" in name:
        x = rng.integers(1, 20, size=shape).astype("int64")
        if name == "embedding_mask":  # padded at the end, as ONNX's sequence lengths assume
            for i, n in enumerate(rng.integers(1, shape[1] + 1, size=batch)):
                x[i, n:] = 0
        return x
    x = rng.normal(size=shape).astype("float32")
    if name.startswith("masking"):
        for i, n in enumerate(rng.integers(1, shape[1] + 1, size=batch)):
            x[i, n:] = 0.0
    return x


@pytest.mark.parametrize("name", sorted(MODELS))
def test_onnxruntime_gives_predicts_output(name, tmp_path):
    model = MODELS[name]()
    _perturb_batchnorm(model)
    path = tmp_path / "m.onnx"
    model.export(path, format="onnx")
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version >= 17
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for batch in (1, 3, 17):
        x = _inputs(name, model, batch, rng)
        expected = model.predict(x, verbose=0)
        (got,) = session.run(None, {"input": x})
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=name)


def test_a_layer_without_an_onnx_form_is_named(tmp_path):
    model = _seq(L.Input((4, 3)), L.Normalization(mean=0.5, variance=2.0), L.Flatten(),
                 L.Dense(2))
    with pytest.raises(ExportError, match=r"'normalization\w*' \(Normalization\)"):
        model.export(tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
    assert "Normalization" not in layers_with_onnx_form()
    wrapped = _seq(L.Input((4, 3)), L.TimeDistributed(L.Normalization(mean=0.5, variance=2.0)))
    with pytest.raises(ExportError, match=r"wraps, 'normalization\w*' \(Normalization\)"):
        wrapped.export(tmp_path / "m.onnx")
    assert {"Dense", "Conv2D", "LSTM", "Bidirectional", "Masking"} <= set(layers_with_onnx_form())


def test_settings_without_an_onnx_form_are_refused(tmp_path):
    cases = [
        (_seq(L.Input((5,)), L.Dense(3, activation="step_ste"), L.Dense(2,
              activation=lambda x: x * 2)), "activation .* of layer 'dense"),
        (_seq(L.Input((5, 2)), L.LSTM(3, activation="softsign")),
         "recurrent operators"),
        (_seq(L.Input((5, 2)), L.Masking(), L.LSTM(3, return_sequences=True)),
         "zero_output_for_mask=True"),
        (_seq(L.Input((5, 2)), L.Masking(), L.Flatten()), "mask reaches layer 'flatten"),
        (_seq(L.Input((5, 2)), L.Bidirectional(L.GRU(3), merge_mode=None)),
         "merge_mode=None"),
        (_seq(L.Input((None, None, 2)), L.Conv2D(3, 3, strides=(2, 1), dilation_rate=(1, 2),
                                                 padding="same")), "fixed size"),
    ]
    for model, message in cases:
        with pytest.raises(ExportError, match=message):
            model.export(tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="The 'format' parameter of export must be 'onnx'"):
        cases[0][0].export(tmp_path / "m.tflite", format="tflite")


def test_a_trained_classifier_exports(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = _seq(L.Input((8,)), L.Dense(8, activation="relu"), L.BatchNormalization(),
                 L.Dense(2, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    model.export(tmp_path / "c.onnx")
    (got,) = ort.InferenceSession(str(tmp_path / "c.onnx")).run(None, {"input": x})
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-4, atol=1e-5)


def test_the_export_command(tmp_path, capsys):
    from profond.cli.main import main

    model = MODELS["conv1d"]()
    model.save(tmp_path / "m.safetensors")
    assert main(["export", str(tmp_path / "m.safetensors"), "--format", "onnx"]) == 0
    assert "wrote" in capsys.readouterr().out
    x = np.random.default_rng(0).normal(size=(3, 20, 3)).astype("float32")
    (got,) = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"input": x})
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-4, atol=1e-5)
    out = tmp_path / "served" / "x.onnx"
    assert main(["export", str(tmp_path / "m.safetensors"), "--out", str(out)]) == 0
    assert out.exists()
    bad = _seq(L.Input((4, 3)), L.Normalization(mean=0.5, variance=2.0))
    bad.save(tmp_path / "bad.safetensors")
    assert main(["export", str(tmp_path / "bad.safetensors")]) == 2
    assert "(Normalization)" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing.safetensors")]) == 2


VARIABLE = {  # inputs of unknown size: the exported graph takes any
    "lstm": (lambda: _seq(L.Input((None, 3)), L.Masking(), L.Bidirectional(L.LSTM(4)),
                          L.Dense(2)),
             lambda rng, b, t: rng.normal(size=(b, t, 3)).astype("float32")),
    "conv2d": (lambda: _seq(L.Input((None, None, 2)), L.Conv2D(3, 3, strides=2, padding="same"),
                            L.MaxPooling2D(3, strides=2, padding="same"),
                            L.Conv2D(2, 3, dilation_rate=2, padding="same"),
                            L.GlobalAveragePooling2D()),
               lambda rng, b, t: rng.normal(size=(b, t, t + 3, 2)).astype("float32")),
    "conv1d": (lambda: _seq(L.Input((None, 2)), L.Conv1D(3, 4, strides=3, padding="same"),
                            L.AveragePooling1D(3, strides=2, padding="same"),
                            L.Conv1D(2, 3, padding="causal", dilation_rate=3),
                            L.GlobalMaxPooling1D()),
               lambda rng, b, t: rng.normal(size=(b, t, 2)).astype("float32")),
    "embedding": (lambda: _seq(L.Input((None,), dtype="int64"), L.Embedding(10, 3), L.GRU(3)),
                  lambda rng, b, t: rng.integers(0, 10, size=(b, t))),
}


@pytest.mark.parametrize("name", sorted(VARIABLE))
def test_inputs_of_unknown_size(name, tmp_path):
    build, draw = VARIABLE[name]
    model = build()
    model.export(tmp_path / "m.onnx")
    onnx.checker.check_model(onnx.load(tmp_path / "m.onnx"), full_check=True)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    rng = np.random.default_rng(2)
    for batch, steps in ((1, 5), (3, 8), (17, 13)):
        x = draw(rng, batch, steps)
        (got,) = session.run(None, {"input": x})
        np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-4, atol=1e-5)


# --- functional models and merge layers ----------------------------------------------------


def _residual_mlp():
    x = L.Input((6,), name="features")
    h = L.Dense(6, activation="relu", name="h1")(x)
    h = L.add([x, L.Dense(6, name="h2")(h)], name="skip1")
    h = L.add([h, L.Dense(6, activation="tanh", name="h3")(h)], name="skip2")
    return profond.Model(x, L.Dense(3, activation="softmax", name="probs")(h))


def _two_in_two_out():
    a, b = L.Input((5,), name="left"), L.Input((3,), name="right")
    joined = L.concatenate([L.Dense(4, name="da")(a), b], name="joined")
    h = L.Dense(8, activation="relu", name="trunk")(joined)
    return profond.Model([a, b], [L.Dense(2, name="score")(h),
                                  L.Dense(3, activation="softmax", name="klass")(h)])


def _merge(kind, **kwargs):
    def build():
        a, b, c = (L.Input((4, 5), name=n) for n in "abc")
        ins = [a, b] if kind in ("Subtract", "Dot") else [a, b, c]
        merged = getattr(L, kind)(name="merged", **kwargs)(ins)
        return profond.Model(ins, L.Flatten(name="flat")(merged))
    return build


def _broadcast():
    a, b = L.Input((4, 5), name="a"), L.Input((1, 5), name="b")
    return profond.Model([a, b], L.multiply([a, b], name="scaled"))


def _dot2():
    a, b = L.Input((6,), name="a"), L.Input((6,), name="b")
    return profond.Model([a, b], [L.Dot(axes=-1, name="dot")([a, b]),
                                  L.Dot(axes=1, normalize=True, name="cosine")([a, b])])


def _dot3(axes, normalize=False):
    def build():
        a = L.Input((4, 5), name="a")
        b = L.Input((4, 5) if axes[0] == axes[1] else (5, 4), name="b")
        return profond.Model([a, b], L.Dot(axes=axes, normalize=normalize, name="dot")([a, b]))
    return build


def _shared():
    a, b = L.Input((5,), name="a"), L.Input((5,), name="b")
    tower = L.Dense(4, activation="relu", name="tower")
    out = L.Dense(1, name="out")(L.subtract([tower(a), tower(b)], name="diff"))
    return profond.Model([a, b], out)


def _nested():
    inner = _seq(L.Input((6,)), L.Dense(5, activation="relu"), L.Dense(4))
    x = L.Input((6,), name="x")
    skip = L.Dense(4, name="project")(x)
    out = L.Dense(2, name="head")(L.add([inner(x), skip], name="join"))
    return profond.Model(x, out)


def _nested_functional():
    a, b = L.Input((3,), name="ia"), L.Input((3,), name="ib")
    inner = profond.Model([a, b], L.maximum([L.Dense(3, name="ga")(a), b], name="peak"),
                          name="inner")
    x, y = L.Input((3,), name="x"), L.Input((3,), name="y")
    return profond.Model([x, y], L.Dense(2, name="top")(inner([x, y])))


FUNCTIONAL = {
    "residual_mlp": _residual_mlp, "two_in_two_out": _two_in_two_out,
    **{kind.lower(): _merge(kind) for kind in ("Add", "Subtract", "Multiply", "Average",
                                                "Maximum", "Minimum")},
    "concatenate_time": _merge("Concatenate", axis=1),
    "concatenate_features": _merge("Concatenate"), "broadcast": _broadcast,
    "dot_rank2": _dot2, "dot_22": _dot3((2, 2)), "dot_12": _dot3((1, 2), normalize=True),
    "dot_11": _dot3((1, 1)), "shared_layer": _shared, "nested_sequential": _nested,
    "nested_functional": _nested_functional,
}


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_functional_models_export(name, tmp_path):
    model = FUNCTIONAL[name]()
    model.export(tmp_path / "m.onnx")
    proto = onnx.load(tmp_path / "m.onnx")
    onnx.checker.check_model(proto, full_check=True)
    assert [i.name for i in proto.graph.input] == [t.name for t in model.inputs]
    assert [o.name for o in proto.graph.output] == model.output_names
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(4)
    for batch in (1, 3, 17):
        xs = [rng.normal(size=(batch,) + tuple(t.shape[1:])).astype("float32")
              for t in model.inputs]
        expected = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        expected = expected if isinstance(expected, list) else [expected]
        got = session.run(None, {t.name: x for t, x in zip(model.inputs, xs)})
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.shape == e.shape
            np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5, err_msg=name)


def test_a_shared_layer_keeps_its_weights_once(tmp_path):
    model = _shared()
    model.export(tmp_path / "m.onnx")
    graph = onnx.load(tmp_path / "m.onnx").graph
    assert sum(1 for t in graph.initializer if t.name.startswith("tower")) == 2  # kernel, bias
    assert sum(1 for n in graph.node if n.op_type == "MatMul") == 3  # tower twice, then out


def test_functional_models_without_an_onnx_form_are_refused(tmp_path):
    x = L.Input((4, 3), name="x")
    h = L.Normalization(mean=0.5, variance=2.0, name="norm")(x)
    model = profond.Model(x, L.add([h, x], name="join"))
    with pytest.raises(ExportError, match=r"'norm' \(Normalization\)"):
        model.export(tmp_path / "m.onnx")
    a, b = L.Input((2, 3, 4), name="a"), L.Input((2, 3, 4), name="b")
    dot = profond.Model([a, b], L.Dot(axes=(3, 3), name="dot4")([a, b]))
    with pytest.raises(ExportError, match=r"'dot4' \(Dot\) with axes=\[3, 3\].*rank-3"):
        dot.export(tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
    assert {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
            "Dot"} <= set(layers_with_onnx_form())


def test_masks_join_through_a_merge(tmp_path):
    tokens = L.Input((7,), name="tokens")
    summed = L.add([L.Embedding(20, 4, mask_zero=True, name="e1")(tokens),
                    L.Embedding(20, 4, mask_zero=True, name="e2")(tokens)], name="sum")
    model = profond.Model(tokens, L.GRU(3, name="gru")(summed))
    model.export(tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    assert session.get_inputs()[0].type == "tensor(int64)"
    rng = np.random.default_rng(5)
    for batch in (1, 3, 17):
        x = rng.integers(1, 20, size=(batch, 7)).astype("int64")
        for i, n in enumerate(rng.integers(1, 8, size=batch)):
            x[i, n:] = 0  # padded at the end, as ONNX's sequence lengths assume
        (got,) = session.run(None, {"tokens": x})
        np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-4, atol=1e-5)
