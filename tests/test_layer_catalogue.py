"""The layers of Keras 3's catalogue added with issue 15 (padding, cropping, up-sampling,
permute/repeat, noise, activity regularization, Identity, Lambda, Wrapper, EinsumDense,
SpectralNormalization) and the einsum op: values against NumPy, gradients against central
differences in float64, shapes, configs and errors."""

import numpy as np
import pytest
from _opcheck import draw

import profond
from profond import layers, ops
from profond.testing import gradcheck


# --- einsum -------------------------------------------------------------------------------
@pytest.mark.parametrize("equation, shapes", [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bqhd,bkhd->bhqk", [(2, 3, 2, 4), (2, 5, 2, 4)]),
    ("...i,ij->...j", [(2, 3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),                   # implicit output
    ("i,i->", [(6,), (6,)]),                       # a dot product
    ("ij->j", [(3, 4)]),                           # one operand: a sum
    ("abc,cd,de->abe", [(2, 3, 4), (4, 5), (5, 2)]),  # three operands
    ("ijk,j->i", [(3, 4, 2), (4,)]),               # k only in the first: broadcast back
    ("ab...,bc->ac...", [(2, 3, 4, 5), (3, 6)]),   # trailing ellipsis
])
def test_einsum_matches_numpy_and_finite_differences(equation, shapes):
    arrays = [draw(s, seed=i) for i, s in enumerate(shapes)]
    out = ops.einsum(equation, *[profond.tensor(a) for a in arrays])
    np.testing.assert_allclose(out.numpy(), np.einsum(equation, *arrays), rtol=1e-5, atol=1e-6)
    assert gradcheck(lambda *ts: ops.einsum(equation, *ts), *arrays)


@pytest.mark.parametrize("equation, shapes, match", [
    ("ii->i", [(3, 3)], "diagonals"),
    ("ij,jk->ik", [(3, 4), (5, 6)], "sizes 4 and 5"),
    ("ij,jk->ik", [(3, 4)], "2 input terms for 1 operands"),
    ("ij->ik", [(3, 4)], "output"),
    ("i1,j->ij", [(3, 4), (2,)], "letters"),
    ("ijk->i", [(3, 4)], "term 'ijk'"),
])
def test_einsum_refuses_what_it_cannot_do(equation, shapes, match):
    with pytest.raises(ValueError, match="The 'subscripts' parameter of einsum must be"):
        ops.einsum(equation, *[np.ones(s) for s in shapes])
    with pytest.raises(ValueError, match=match):
        ops.einsum(equation, *[np.ones(s) for s in shapes])


# --- padding, cropping, up-sampling -------------------------------------------------------
@pytest.mark.parametrize("name, arg, shape, expected", [
    ("ZeroPadding1D", 2, (2, 3, 2), ((2, 2),)),
    ("ZeroPadding1D", (1, 0), (2, 3, 2), ((1, 0),)),
    ("ZeroPadding3D", 1, (1, 2, 3, 2, 2), ((1, 1),) * 3),
    ("ZeroPadding3D", (1, 0, 2), (1, 2, 3, 2, 2), ((1, 1), (0, 0), (2, 2))),
    ("ZeroPadding3D", ((1, 0), (0, 2), (1, 1)), (1, 2, 3, 2, 2), ((1, 0), (0, 2), (1, 1))),
])
def test_zero_padding(name, arg, shape, expected):
    x = draw(shape)
    layer = getattr(layers, name)(arg)
    y = layer(x)
    np.testing.assert_array_equal(y.numpy(), np.pad(x.astype("float32"),
                                                    ((0, 0),) + expected + ((0, 0),)))
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + y.shape[1:]
    assert type(layer).from_config(layer.get_config()).padding == expected
    assert gradcheck(lambda t: getattr(layers, name)(arg)(t), x)


@pytest.mark.parametrize("name, arg, shape, index", [
    ("Cropping1D", 1, (2, 5, 3), np.s_[:, 1:4]),
    ("Cropping1D", (0, 2), (2, 5, 3), np.s_[:, 0:3]),
    ("Cropping2D", ((1, 0), (2, 1)), (2, 4, 5, 3), np.s_[:, 1:4, 2:4]),
    ("Cropping2D", 1, (2, 4, 5, 3), np.s_[:, 1:3, 1:4]),
    ("Cropping3D", (1, 0, 2), (1, 4, 3, 6, 2), np.s_[:, 1:3, 0:3, 2:4]),
])
def test_cropping(name, arg, shape, index):
    x = draw(shape)
    layer = getattr(layers, name)(arg)
    y = layer(x)
    np.testing.assert_array_equal(y.numpy(), x.astype("float32")[index])
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + y.shape[1:]
    assert layer.compute_output_shape((None, None) + shape[2:])[1] is None
    clone = type(layer).from_config(layer.get_config())
    assert clone.cropping == layer.cropping
    assert gradcheck(lambda t: getattr(layers, name)(arg)(t), x)


def test_cropping_everything_is_refused_with_the_shapes():
    with pytest.raises(ValueError, match=r"'cropping' parameter of Cropping2D .* must leave at "
                                         r"least one row .* \(2, 4, 4, 1\)"):
        layers.Cropping2D(2)(np.ones((2, 4, 4, 1)))


@pytest.mark.parametrize("layer, shape, match", [
    (layers.ZeroPadding1D(), (2, 3), r"rank 3 \(batch, steps, channels\).*\(2, 3\)"),
    (layers.Cropping3D(), (2, 3, 3, 3), r"rank 5 .*\(2, 3, 3, 3\)"),
    (layers.UpSampling3D(), (2, 3, 3, 3), r"rank 5 .*\(2, 3, 3, 3\)"),
    (layers.UpSampling1D(), (2, 3), r"rank 3 .*\(2, 3\)"),
    (layers.Permute((2, 1)), (2, 3, 4, 5), r"rank 3 .*dims \(2, 1\).*\(2, 3, 4, 5\)"),
    (layers.RepeatVector(2), (2, 3, 4), r"rank 2 \(batch, features\).*\(2, 3, 4\)"),
])
def test_wrong_ranks_name_the_layer_and_shape(layer, shape, match):
    with pytest.raises(ValueError, match=match):
        layer(np.ones(shape))


@pytest.mark.parametrize("make, match", [
    (lambda: layers.ZeroPadding1D((1, 2, 3)), "'padding' parameter of ZeroPadding1D"),
    (lambda: layers.ZeroPadding3D((1, 2)), "'padding' parameter of ZeroPadding3D"),
    (lambda: layers.Cropping2D(-1), "'cropping' parameter of Cropping2D"),
    (lambda: layers.UpSampling1D(0), "'size' parameter of UpSampling1D"),
    (lambda: layers.UpSampling3D((2, 2)), "'size' parameter of UpSampling3D"),
    (lambda: layers.Permute((1, 3)), "'dims' parameter of Permute"),
    (lambda: layers.RepeatVector(0), "'n' parameter of RepeatVector"),
    (lambda: layers.GaussianNoise(-0.1), "'stddev' parameter of GaussianNoise"),
    (lambda: layers.GaussianDropout(1.0), "'rate' parameter of GaussianDropout"),
    (lambda: layers.AlphaDropout(1.5), "'rate' parameter of AlphaDropout"),
    (lambda: layers.ActivityRegularization(l1=-1.0), "'l1' parameter of ActivityRegularization"),
    (lambda: layers.SpectralNormalization(layers.Dense(2), power_iterations=0),
     "'power_iterations' parameter of SpectralNormalization"),
    (lambda: layers.Lambda(3), "'function' parameter of Lambda"),
    (lambda: layers.EinsumDense("ab,bc", 4), "'equation' parameter of EinsumDense must have"),
    (lambda: layers.EinsumDense("ab,bc->ac", 4, lora_rank=2), "'lora_rank' parameter"),
])
def test_bad_arguments_are_refused(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_up_sampling_1d_and_3d_repeat_nearest():
    x = draw((2, 3, 2))
    np.testing.assert_array_equal(layers.UpSampling1D(3)(x).numpy(),
                                  np.repeat(x.astype("float32"), 3, axis=1))
    v = draw((1, 2, 3, 2, 2))
    y = layers.UpSampling3D((2, 1, 3))(v).numpy()
    np.testing.assert_array_equal(
        y, np.repeat(np.repeat(v.astype("float32"), 2, axis=1), 3, axis=3))
    assert layers.UpSampling3D((2, 1, 3)).compute_output_shape((None, 2, None, 2, 2)) == \
        (None, 4, None, 6, 2)
    assert gradcheck(lambda t: layers.UpSampling3D((2, 1, 2))(t), v)
    assert gradcheck(lambda t: layers.UpSampling1D(2)(t), x)


def test_permute_and_repeat_vector():
    x = draw((2, 3, 4, 5))
    layer = layers.Permute((3, 1, 2))
    np.testing.assert_array_equal(layer(x).numpy(), x.astype("float32").transpose(0, 3, 1, 2))
    assert layer.compute_output_shape((None, 3, 4, 5)) == (None, 5, 3, 4)
    assert layers.Permute.from_config(layer.get_config()).dims == (3, 1, 2)
    assert gradcheck(lambda t: layers.Permute((2, 1, 3))(t), draw((2, 3, 2, 2)))
    v = draw((3, 4))
    np.testing.assert_array_equal(layers.RepeatVector(2)(v).numpy(),
                                  np.repeat(v.astype("float32")[:, None], 2, axis=1))
    assert gradcheck(lambda t: layers.RepeatVector(3)(t), v)


# --- noise --------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", [layers.GaussianNoise(0.5, seed=1),
                                   layers.GaussianDropout(0.3, seed=1),
                                   layers.AlphaDropout(0.3, seed=1)])
def test_noise_layers_are_identity_at_inference_and_reproducible(layer):
    x = draw((64, 8))
    np.testing.assert_array_equal(layer(x).numpy(), x.astype("float32"))
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x.astype("float32"))
    noisy = layer(x, training=True).numpy()
    assert not np.allclose(noisy, x)
    twin = type(layer).from_config(layer.get_config())
    np.testing.assert_array_equal(twin(x, training=True).numpy(), noisy)  # same seed, same draw


def test_noise_follows_the_global_seed_when_given_none():
    x = np.ones((4, 5))
    profond.random.seed(3)
    a = layers.GaussianNoise(0.2)(x, training=True).numpy()
    profond.random.seed(3)
    b = layers.GaussianNoise(0.2)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)


def test_noise_statistics():
    x = np.ones((200, 500))
    add = layers.GaussianNoise(0.3, seed=0)(x, training=True).numpy() - 1
    assert abs(add.mean()) < 0.005 and abs(add.std() - 0.3) < 0.005
    mul = layers.GaussianDropout(0.2, seed=0)(x, training=True).numpy()
    assert abs(mul.mean() - 1) < 0.005 and abs(mul.std() - 0.5) < 0.005  # sqrt(.2/.8)
    z = profond.random.generator(0).standard_normal((200, 500))
    alpha = layers.AlphaDropout(0.1, seed=0)(z, training=True).numpy()
    assert abs(alpha.mean()) < 0.01 and abs(alpha.std() - 1) < 0.01
    saturation = -1.6732632423543772 * 1.0507009873554805
    a = ((0.9) * (1 + 0.1 * saturation ** 2)) ** -0.5
    dropped = np.isclose(alpha, a * saturation + (-a * saturation * 0.1), atol=1e-6)
    assert abs(dropped.mean() - 0.1) < 0.005


def test_noise_gradients_flow_through_the_drawn_noise():
    x = draw((3, 4))
    for make in (lambda: layers.GaussianNoise(0.5, seed=2),
                 lambda: layers.GaussianDropout(0.4, seed=2),
                 lambda: layers.AlphaDropout(0.4, seed=2)):
        # a fresh layer per evaluation: the same draw each time, so the function is fixed
        assert gradcheck(lambda t: make()(t, training=True), x)


def test_alpha_dropout_noise_shape_shares_draws():
    y = layers.AlphaDropout(0.5, noise_shape=(None, 1), seed=0)(
        np.zeros((6, 5)), training=True).numpy()
    assert (y == y[:, :1]).all()
    with pytest.raises(ValueError, match=r"'noise_shape' parameter of AlphaDropout .* \(6, 5\)"):
        layers.AlphaDropout(0.5, noise_shape=(None, 3))(np.zeros((6, 5)), training=True)


def test_spatial_dropout_3d_drops_whole_volumes():
    y = layers.SpatialDropout3D(0.5, seed=0)(np.ones((4, 2, 3, 2, 6)), training=True).numpy()
    assert (y == y[:, :1, :1, :1]).all() and {0.0, 2.0} == set(np.unique(y))
    with pytest.raises(ValueError, match="rank 5"):
        layers.SpatialDropout3D(0.5)(np.ones((2, 3, 3, 2)), training=True)


# --- activity regularization ----------------------------------------------------------------
def test_activity_regularization_adds_its_penalty_per_sample():
    x = draw((4, 3))
    model = profond.Sequential([layers.Input((3,)), layers.ActivityRegularization(l1=0.1,
                                                                                  l2=0.5)])
    model.compile(optimizer="sgd", loss="mse")
    y = np.zeros((4, 3))
    expected = np.mean(x ** 2) + (0.1 * np.abs(x).sum() + 0.5 * (x ** 2).sum()) / 4
    assert model.evaluate(x, y, batch_size=4, verbose=0) == pytest.approx(expected, rel=1e-5)
    config = layers.ActivityRegularization(l1=0.1, l2=0.5).get_config()
    assert (config["l1"], config["l2"]) == (0.1, 0.5) and "activity_regularizer" not in config


# --- Identity, Lambda, Wrapper ----------------------------------------------------------------
def test_identity_keeps_values_and_masks():
    inputs = layers.Input((4,), dtype="int64")
    embedded = layers.Embedding(10, 3, mask_zero=True)(inputs)
    model = profond.Model(inputs, layers.LSTM(2)(layers.Identity()(embedded)))
    reference = profond.Model(inputs, model.layers[-1](embedded))
    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    np.testing.assert_allclose(model.predict(ids, verbose=0),
                               reference.predict(ids, verbose=0), rtol=1e-6)


def test_lambda_calls_its_function_with_arguments_mask_and_training():
    seen = {}

    def fn(x, scale, mask=None, training=None):
        seen.update(mask=mask, training=training)
        return x * scale

    layer = layers.Lambda(fn, arguments={"scale": 3.0})
    np.testing.assert_array_equal(layer(np.ones((2, 2)), training=True).numpy(), 3.0)
    assert seen == {"mask": None, "training": True}
    assert gradcheck(lambda t: layers.Lambda(lambda x: ops.tanh(x) * x)(t), draw((2, 3)))


def test_lambda_output_shapes():
    inputs = layers.Input((3, 4))
    assert layers.Lambda(lambda x: ops.sum(x, axis=-1))(inputs).shape == (None, 3)
    assert layers.Lambda(lambda x: x, output_shape=(12,)).compute_output_shape((None, 3, 4)) \
        == (None, 12)
    assert layers.Lambda(lambda x: x, output_shape=lambda s: s[:2]).compute_output_shape(
        (None, 3, 4)) == (None, 3)


def test_lambda_is_saved_only_when_its_function_is_registered(tmp_path, fresh_registry):
    def halve(x):
        return x * 0.5

    model = profond.Sequential([layers.Input((2,)), layers.Lambda(halve), layers.Dense(1)])
    with pytest.raises(ValueError, match="halve"):
        model.save(tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()
    profond.saving.register_keras_serializable(package="test")(halve)
    model.save(tmp_path / "m.safetensors")
    loaded = profond.load_model(tmp_path / "m.safetensors")
    x = draw((3, 2))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_wrapper_serializes_its_layer():
    class Twice(layers.Wrapper):
        def call(self, inputs):
            return self.layer(self.layer(inputs))

    layer = Twice(layers.Dense(3, name="inner"))
    layer(np.ones((2, 3)))
    config = layer.get_config()
    assert config["layer"]["class_name"] == "Dense"
    clone = Twice.from_config(config)
    assert clone.layer.name == "inner" and clone.layer.units == 3
    with pytest.raises(TypeError, match="'layer' parameter of Wrapper must be a Layer"):
        layers.Wrapper("dense")


# --- EinsumDense --------------------------------------------------------------------------
@pytest.mark.parametrize("equation, out, bias, shape, kernel, bias_shape", [
    ("ab,bc->ac", 4, "c", (3, 5), (5, 4), (4,)),
    ("abc,cd->abd", (None, 4), "d", (2, 3, 5), (5, 4), (4,)),
    ("abc,cde->abde", (None, 2, 4), "de", (2, 3, 5), (5, 2, 4), (2, 4)),
    ("abcd,cde->abe", (3, 6), "e", (2, 3, 4, 5), (4, 5, 6), (6,)),
    ("...b,bc->...c", 4, None, (2, 3, 5), (5, 4), None),
    ("ab...,bc->ac...", (6,), "c", (2, 5, 3), (5, 6), (6, 1)),
])
def test_einsum_dense_shapes_values_and_gradients(equation, out, bias, shape, kernel,
                                                  bias_shape):
    layer = layers.EinsumDense(equation, out, bias_axes=bias, bias_initializer="ones")
    x = draw(shape)
    y = layer(x)
    weights = layer.get_weights()
    assert weights[0].shape == kernel
    assert (weights[1].shape if bias else None) == bias_shape
    expected = np.einsum(equation, x, weights[0].astype(np.float64))
    if bias:
        expected = expected + weights[1]
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + y.shape[1:]
    clone = layers.EinsumDense.from_config(layer.get_config())
    clone.build((None,) + shape[1:])
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in weights]

    def run(t, k, *b):
        layer.kernel, saved = k, layer.kernel
        try:
            y = ops.einsum(equation, t, k)
            return y + b[0] if b else y
        finally:
            layer.kernel = saved
    assert gradcheck(run, x, weights[0].astype(np.float64),
                     *([weights[1].astype(np.float64)] if bias else []))


def test_einsum_dense_fans_come_from_the_kernel_axes():
    # He normal on a (64, 8, 16) kernel whose input axis is 0: variance 2 / 64
    layer = layers.EinsumDense("abc,cde->abde", (None, 8, 16), kernel_initializer="he_normal")
    layer.build((None, 10, 64))
    assert layer.get_weights()[0].var() * 64 / 2 == pytest.approx(1.0, abs=0.05)


def test_einsum_dense_refuses_shapes_that_do_not_fit():
    with pytest.raises(ValueError, match=r"axis 'b' has size 5 in the input \(None, 5, 3\) "
                                         r"and 7"):
        layers.EinsumDense("abc,cd->abd", (7, 4)).build((None, 5, 3))
    with pytest.raises(ValueError, match="'bias_axes' parameter of EinsumDense"):
        layers.EinsumDense("ab,bc->ac", 4, bias_axes="z").build((None, 3))
    with pytest.raises(ValueError, match=r"input subscripts 'abc' for an input of shape"):
        layers.EinsumDense("abc,cd->abd", (None, 4)).build((None, 3))


def test_einsum_dense_trains():
    profond.random.seed(0)
    x = profond.random.generator(1).normal(size=(64, 4, 3)).astype("float32")
    y = x.sum(axis=-1, keepdims=True) * np.array([1.0, -1.0], "float32")
    model = profond.Sequential([layers.Input((4, 3)),
                                layers.EinsumDense("abc,cd->abd", (None, 2), bias_axes="d")])
    model.compile(optimizer=profond.optimizers.Adam(0.05), loss="mse")
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.01 * history.history["loss"][0]


# --- SpectralNormalization ----------------------------------------------------------------
def test_spectral_normalization_bounds_the_kernel_norm_in_training_only():
    profond.random.seed(0)
    layer = layers.SpectralNormalization(layers.Dense(5), power_iterations=50)
    x = draw((4, 7))
    before = layer(x).numpy()  # inference: the kernel is left alone
    kernel = layer.layer.kernel.numpy().copy()
    np.testing.assert_allclose(before, x.astype("float32") @ kernel, rtol=1e-5, atol=1e-6)
    layer(x, training=True)
    sigma = np.linalg.svd(kernel.astype(np.float64), compute_uv=False)[0]
    np.testing.assert_allclose(layer.layer.kernel.numpy(), kernel / sigma, rtol=1e-4)
    assert [w.name for w in layer.weights] == ["kernel", "vector_u", "bias"]
    assert [w.trainable for w in layer.weights] == [True, False, True]


def test_spectral_normalization_on_a_convolution_and_errors():
    layer = layers.SpectralNormalization(layers.Conv2D(4, 3), power_iterations=100)
    layer(np.ones((1, 5, 5, 2)), training=True)
    w = layer.layer.kernel.numpy().reshape(-1, 4)
    assert np.linalg.svd(w, compute_uv=False)[0] == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError, match="'layer' parameter of SpectralNormalization .* "
                                         "'kernel' or 'embeddings'.* Dropout"):
        layers.SpectralNormalization(layers.Dropout(0.5))(np.ones((2, 3)))


# --- image preprocessing ---------------------------------------------------------------------
def test_resizing_is_differentiable_and_checks_its_arguments():
    x = draw((1, 4, 5, 2))
    assert gradcheck(lambda t: layers.Resizing(3, 7)(t), x)
    assert gradcheck(lambda t: layers.Resizing(2, 2, antialias=True)(t), x)
    assert gradcheck(lambda t: layers.CenterCrop(2, 3)(t), x)
    assert gradcheck(lambda t: layers.Rescaling(0.5, 1.0)(t), x)
    with pytest.raises(ValueError, match="'interpolation' parameter of Resizing"):
        layers.Resizing(2, 2, interpolation="cubic-ish")
    with pytest.raises(ValueError, match="'height' parameter of CenterCrop"):
        layers.CenterCrop(0, 2)
    with pytest.raises(ValueError, match="must not both be True"):
        layers.Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match=r"rank 4 .* or 3 .*\(2, 3\)"):
        layers.Resizing(2, 2)(np.ones((2, 3)))


def test_rescaling_turns_integer_pixels_into_floats():
    y = layers.Rescaling(1 / 255)(np.array([[0, 255]], dtype="uint8"))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), [[0.0, 1.0]])


# --- augmentation -------------------------------------------------------------------------------
AUGMENTATIONS = [
    lambda: layers.RandomFlip(seed=1), lambda: layers.RandomCrop(4, 4, seed=1),
    lambda: layers.RandomContrast(0.5, seed=1), lambda: layers.RandomTranslation(0.2, 0.2, seed=1),
    lambda: layers.RandomRotation(0.2, seed=1), lambda: layers.RandomZoom(0.3, seed=1),
]


@pytest.mark.parametrize("make", AUGMENTATIONS)
def test_augmentation_only_in_training_and_reproducible(make):
    pytest.importorskip("scipy")
    x = np.random.default_rng(0).uniform(0, 255, (8, 6, 6, 3)).astype("float32")
    layer = make()
    off = layer(x, training=False).numpy()
    if not isinstance(layer, layers.RandomCrop):
        np.testing.assert_array_equal(off, x)
    on = layer(x).numpy()  # a direct call counts as training, as in Keras
    assert on.shape == off.shape and not np.allclose(on, off)
    np.testing.assert_array_equal(make()(x).numpy(), on)  # the same seed, the same draws
    model = profond.Sequential([layers.Input((6, 6, 3)), make(), layers.Flatten()])
    np.testing.assert_array_equal(model.predict(x, verbose=0), off.reshape(8, -1))


def test_random_flip_gives_originals_or_mirrors():
    x = np.random.default_rng(0).normal(size=(32, 3, 4, 1)).astype("float32")
    y = layers.RandomFlip("horizontal", seed=0)(x).numpy()
    same = [np.array_equal(a, b) for a, b in zip(y, x)]
    mirrored = [np.array_equal(a, b[:, ::-1]) for a, b in zip(y, x)]
    assert all(s or m for s, m in zip(same, mirrored)) and 4 < sum(mirrored) < 28


def test_random_contrast_keeps_means_and_range():
    x = np.random.default_rng(0).uniform(50, 200, (4, 8, 8, 3)).astype("float32")
    y = layers.RandomContrast((0.5, 0.5), seed=0)(x).numpy()
    np.testing.assert_allclose(y.mean(axis=(1, 2)), x.mean(axis=(1, 2)), rtol=1e-2)
    assert y.min() >= 0 and y.max() <= 255


@pytest.mark.parametrize("make, match", [
    (lambda: layers.RandomFlip("diagonal"), "'mode' parameter of RandomFlip"),
    (lambda: layers.RandomTranslation(1.5, 0.1), "'height_factor' parameter of RandomTranslation"),
    (lambda: layers.RandomRotation((0.3, 0.1)), "'factor' parameter of RandomRotation"),
    (lambda: layers.RandomZoom(0.1, fill_mode="mirror-ish"), "'fill_mode' parameter"),
    (lambda: layers.RandomContrast(1.5), "'factor' parameter of RandomContrast"),
    (lambda: layers.RandomCrop(0, 3), "'height' parameter of RandomCrop"),
])
def test_augmentation_arguments_are_checked(make, match):
    with pytest.raises(ValueError, match=match):
        make()
