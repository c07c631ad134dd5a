import numpy as np
import pytest
from sklearn import preprocessing as skp

import profond
from profond import layers
from profond.data import MinMaxScaler, NotFittedError, Rescaler, StandardScaler


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, [1.0, 10.0, 0.01, 5.0], size=(200, 4))
    x[:, 2] = 7.5  # a constant column
    return x


def test_minmax_matches_scikit_learn(table):
    ours = MinMaxScaler(feature_range=(-1, 2)).fit(table)
    ref = skp.MinMaxScaler(feature_range=(-1, 2)).fit(table)
    for attr in ("data_min_", "data_max_", "data_range_", "scale_", "min_"):
        np.testing.assert_allclose(getattr(ours, attr), getattr(ref, attr), rtol=1e-12)
    np.testing.assert_allclose(ours.transform(table), ref.transform(table), rtol=1e-12,
                               atol=1e-12)
    assert ours.n_samples_seen_ == 200 and ours.n_features_in_ == 4


def test_standard_matches_scikit_learn(table):
    for kwargs in ({}, {"with_mean": False}, {"with_std": False}):
        ours = StandardScaler(**kwargs).fit(table)
        ref = skp.StandardScaler(**kwargs).fit(table)
        np.testing.assert_allclose(ours.transform(table), ref.transform(table), rtol=1e-10,
                                   atol=1e-10)
    ours, ref = StandardScaler().fit(table), skp.StandardScaler().fit(table)
    np.testing.assert_allclose(ours.mean_, ref.mean_, rtol=1e-12)
    np.testing.assert_allclose(ours.var_, ref.var_, rtol=1e-10)
    np.testing.assert_allclose(ours.scale_, ref.scale_, rtol=1e-10)
    assert ours.scale_[2] == 1.0  # constant column left unscaled
    assert np.isfinite(ours.transform(table)).all()


def test_chunked_and_partial_fit_equal_one_pass(table, monkeypatch):
    from profond.data import scaling

    whole = StandardScaler().fit(table)
    monkeypatch.setattr(scaling, "_CHUNK_ELEMENTS", 28)  # 7 samples per chunk
    chunked = StandardScaler().fit(table)
    partial = StandardScaler()
    for i in range(0, 200, 33):
        partial.partial_fit(table[i:i + 33])
    for s in (chunked, partial):
        np.testing.assert_allclose(s.mean_, whole.mean_, rtol=1e-12)
        np.testing.assert_allclose(s.var_, whole.var_, rtol=1e-9)
    mm = MinMaxScaler().fit(table)
    np.testing.assert_array_equal(mm.data_min_, table.min(axis=0))


@pytest.mark.parametrize("scaler", [MinMaxScaler(), MinMaxScaler((-3, 3), clip=False),
                                    StandardScaler(), StandardScaler(with_mean=False),
                                    Rescaler(1 / 255), Rescaler(2.0, -1.0)])
def test_inverse_transform_round_trips(scaler, table):
    z = scaler.fit(table).transform(table)
    np.testing.assert_allclose(scaler.inverse_transform(z), table, rtol=1e-12, atol=1e-12)


def test_per_channel_images_and_axis_options():
    rng = np.random.default_rng(1)
    img = rng.uniform(0, 255, size=(10, 4, 4, 3)) * np.array([1.0, 0.5, 0.1])
    s = StandardScaler().fit(img)  # axis=-1: per channel
    assert s.mean_.shape == (3,)
    np.testing.assert_allclose(s.mean_, img.mean(axis=(0, 1, 2)))
    z = s.transform(img)
    np.testing.assert_allclose(z.mean(axis=(0, 1, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=(0, 1, 2)), 1, atol=1e-12)
    per_pixel = MinMaxScaler(axis=(1, 2, 3)).fit(img)
    assert per_pixel.data_min_.shape == (4, 4, 3)
    glob = MinMaxScaler(axis=None).fit(img)
    assert glob.data_min_.shape == () and glob.data_min_ == img.min()
    assert MinMaxScaler(axis=None).fit_transform(img).max() == 1.0
    with pytest.raises(ValueError, match="sample axis 0 cannot keep"):
        StandardScaler(axis=0).fit(img)
    with pytest.raises(ValueError, match="feature shape"):
        s.transform(img[..., :2])


def test_memmap_is_fitted_in_chunks(tmp_path, table, monkeypatch):
    from profond.data import scaling

    mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float64,
                                   shape=table.shape)
    mm[:] = table
    monkeypatch.setattr(scaling, "_CHUNK_ELEMENTS", 40)
    np.testing.assert_allclose(StandardScaler().fit(mm).mean_, table.mean(axis=0))


def test_dtypes():
    x32 = np.ones((3, 2), dtype=np.float32)
    assert StandardScaler().fit(x32).transform(x32).dtype == np.float32
    u8 = np.array([[0, 255]], dtype=np.uint8)
    out = Rescaler(1 / 255).transform(u8)
    assert out.dtype == np.float64 and out.tolist() == [[0.0, 1.0]]


def test_clear_errors():
    with pytest.raises(NotFittedError, match="not fitted yet.*'fit'"):
        StandardScaler().transform(np.ones((2, 2)))
    with pytest.raises(NotFittedError):
        MinMaxScaler().inverse_transform(np.ones((2, 2)))
    bad = np.ones((4, 3))
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"must hold finite numbers\. Got NaN at index \(2, 1\)"):
        StandardScaler().fit(bad)
    fitted = MinMaxScaler().fit(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"'x' parameter of MinMaxScaler\.transform "
                                         r"must hold finite"):
        fitted.transform(bad)
    with pytest.raises(ValueError, match="'feature_range' parameter of MinMaxScaler"):
        MinMaxScaler(feature_range=(1, 0))
    with pytest.raises(ValueError, match="'scale' parameter of Rescaler"):
        Rescaler(0)
    with pytest.raises(ValueError, match="empty"):
        StandardScaler().fit(np.ones((0, 3)))
    with pytest.raises(TypeError, match="must hold numbers"):
        StandardScaler().fit(np.array([["a"]]))


def test_normalization_layer_matches_standard_scaler_and_is_saved(tmp_path, table):
    x = table.astype(np.float32)
    norm = layers.Normalization()
    norm.adapt(x, batch_size=64)
    ref = StandardScaler().fit(x)
    np.testing.assert_allclose(norm.adapt_mean.numpy(), ref.mean_, rtol=1e-6)
    np.testing.assert_allclose(norm.adapt_variance.numpy(), ref.var_, rtol=1e-5)
    assert [v.trainable for v in norm.weights] == [False, False, False]  # mean, variance, count

    def make():
        return profond.Sequential([layers.Input((4,)), layers.Normalization(), layers.Dense(2)])

    model = make()
    [layer for layer in model.layers if isinstance(layer, layers.Normalization)][0].adapt(x)
    assert len(model.weights) == 5 and len(model.trainable_weights) == 2
    path = tmp_path / "m.safetensors"
    model.save_weights(path)
    fresh = make()
    fresh.load_weights(path)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))
    # the raw inputs are standardised inside the model
    inner = [layer for layer in fresh.layers if isinstance(layer, layers.Normalization)][0]
    z = inner(x).numpy()
    np.testing.assert_allclose(z[:, [0, 1, 3]].mean(axis=0), 0, atol=1e-4)


def test_normalization_invert_fixed_and_generator():
    norm = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0])
    assert norm.get_weights() == []
    np.testing.assert_allclose(norm(np.array([[3.0, 5.0]])).numpy(), [[1.0, 1.0]])
    inv = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], invert=True)
    np.testing.assert_allclose(inv(np.array([[1.0, 1.0]])).numpy(), [[3.0, 5.0]])
    rng = np.random.default_rng(0)
    x = rng.normal(5, 2, size=(300, 3))
    gen = layers.Normalization()
    gen.adapt((x[i:i + 50], None) for i in range(0, 300, 50))
    np.testing.assert_allclose(gen.adapt_mean.numpy(), x.mean(axis=0), rtol=1e-5)
    with pytest.raises(ValueError, match="fixed mean and variance"):
        norm.adapt(x)
    with pytest.raises(ValueError, match="'mean' and 'variance' parameters of Normalization "
                                         "must be both"):
        layers.Normalization(mean=1.0)
