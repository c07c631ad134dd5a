"""Weight constraints: Keras's formulas against NumPy transcriptions, look-up by name,
serialization, the constraint holding through training, and models saved with constraints."""

import json
import os

import numpy as np
import pytest

import profond
from profond import constraints, layers
from profond.constraints import MaxNorm, MinMaxNorm, NonNeg, UnitNorm

EPS = 1e-7  # Keras's backend.epsilon()


# --- formulas ----------------------------------------------------------------------------------
def _norms(w, axis):
    return np.sqrt(np.sum(w ** 2, axis=axis, keepdims=True))


def _max_norm(w, max_value, axis):
    norms = _norms(w, axis)
    return w * (np.clip(norms, 0, max_value) / (EPS + norms))


def _min_max_norm(w, min_value, max_value, rate, axis):
    norms = _norms(w, axis)
    desired = rate * np.clip(norms, min_value, max_value) + (1 - rate) * norms
    return w * (desired / (EPS + norms))


SHAPES_AND_AXES = [((7,), 0), ((4, 3), 0), ((4, 3), 1), ((4, 3), -1), ((3, 2, 5), (0, 1)),
                   ((2, 3, 2, 4), [0, 1, 2])]


def _weight(shape, dtype, seed=0, scale=2.0):
    w = np.random.default_rng(seed).normal(scale=scale, size=shape).astype(dtype)
    w.flat[0] = 0.0  # a zero entry, and below a zero slice: the epsilon keeps it finite
    return w


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,axis", SHAPES_AND_AXES)
def test_formulas_match_numpy(shape, axis, dtype):
    w = _weight(shape, dtype)
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    tol = {"rtol": 1e-5 if dtype == "float32" else 1e-12, "atol": 1e-7}
    cases = [(MaxNorm(1.5, axis=axis), _max_norm(w, 1.5, np_axis)),
             (UnitNorm(axis=axis), w / (EPS + _norms(w, np_axis))),
             (MinMaxNorm(0.5, 1.2, rate=1.0, axis=axis), _min_max_norm(w, 0.5, 1.2, 1.0, np_axis)),
             (MinMaxNorm(0.5, 1.2, rate=0.3, axis=axis), _min_max_norm(w, 0.5, 1.2, 0.3, np_axis)),
             (NonNeg(), w * (w >= 0))]
    for constraint, expected in cases:
        out = constraint(w)
        assert out.dtype == w.dtype and out.shape == w.shape, constraint
        np.testing.assert_allclose(out, expected, **tol, err_msg=repr(constraint))


def test_norm_constraints_keep_a_zero_slice_at_zero_and_short_slices_as_they_are():
    w = np.array([[0.0, 0.3, 3.0], [0.0, 0.4, 4.0]])
    np.testing.assert_array_equal(MaxNorm(1.0)(w)[:, 0], 0.0)
    np.testing.assert_array_equal(UnitNorm()(w)[:, 0], 0.0)
    np.testing.assert_allclose(MaxNorm(1.0)(w), [[0, 0.3, 0.6], [0, 0.4, 0.8]], rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(UnitNorm()(w)[:, 1:], axis=0), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(MinMaxNorm(1.0, 2.0)(w)[:, 1:], axis=0),
                               [1.0, 2.0], rtol=1e-6)
    np.testing.assert_array_equal(NonNeg()(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])
    w32 = w.astype("float32")
    assert constraints.Constraint()(w32) is w32  # the base class is the identity


def test_invalid_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="'max_value' parameter of MaxNorm must be a float in "
                                         r"\[0, inf\). Got -1 instead"):
        MaxNorm(-1)
    with pytest.raises(ValueError, match="'axis' parameter of UnitNorm must be an int or a "
                                         "non-empty list of ints. Got 'rows' instead"):
        UnitNorm(axis="rows")
    with pytest.raises(ValueError, match="'axis' parameter of MaxNorm"):
        MaxNorm(axis=[])
    with pytest.raises(ValueError, match=r"'max_value' parameter of MinMaxNorm must be a float "
                                         r"in \[2.0, inf\). Got 1.0 instead"):
        MinMaxNorm(2.0, 1.0)
    with pytest.raises(ValueError, match=r"'rate' parameter of MinMaxNorm must be a float in "
                                         r"\[0, 1\]. Got 1.5 instead"):
        MinMaxNorm(rate=1.5)
    with pytest.raises(ValueError, match=r"The 'axis' parameter of MaxNorm must be in range for a "
                                         r"weight of shape \(4, 3\)\. Got 2 instead"):
        MaxNorm(axis=2)(np.ones((4, 3)))


# --- look-up and serialization ------------------------------------------------------------------
@pytest.mark.parametrize("name,cls", [("max_norm", MaxNorm), ("MaxNorm", MaxNorm),
                                      ("non_neg", NonNeg), ("NonNeg", NonNeg),
                                      ("unit_norm", UnitNorm), ("UnitNorm", UnitNorm),
                                      ("min_max_norm", MinMaxNorm), ("MinMaxNorm", MinMaxNorm)])
def test_get_by_name(name, cls):
    assert constraints.get(name) == cls()
    assert type(constraints.get(name)) is cls


@pytest.mark.parametrize("constraint", [MaxNorm(3.0, axis=[0, 1, 2]), NonNeg(), UnitNorm(-1),
                                        MinMaxNorm(0.2, 0.9, rate=0.5, axis=1)])
def test_serialize_round_trips_through_json(constraint):
    spec = json.loads(json.dumps(constraints.serialize(constraint)))
    assert spec["class_name"] == type(constraint).__name__
    back = constraints.get(spec)
    assert back == constraint and back is not constraint
    assert type(constraint).from_config(constraint.get_config()) == constraint
    w = _weight((3, 4, 2, 5), "float32")
    np.testing.assert_array_equal(back(w), constraint(w))


def test_get_passes_through_none_instances_classes_and_callables():
    def clip(w):
        return w.clip(-1, 1)

    m = MaxNorm()
    assert constraints.get(None) is None and constraints.serialize(None) is None
    assert constraints.get(m) is m
    assert constraints.get(UnitNorm) == UnitNorm()
    assert constraints.get(clip) is clip
    assert constraints.serialize(clip) is clip  # no name: kept as it is (in-memory configs)
    assert MaxNorm(1) == MaxNorm(1.0) != MaxNorm(2.0)
    assert MaxNorm(1) != UnitNorm() and repr(MaxNorm(1)) == "MaxNorm(max_value=1.0, axis=0)"


def test_get_errors_list_the_valid_names():
    with pytest.raises(ValueError, match=r"Unknown constraint 'maxi_norm'. Valid names: \[.*"
                                         "'max_norm'.*'unit_norm'"):
        constraints.get("maxi_norm")
    with pytest.raises(ValueError, match="Could not interpret constraint 3: expected None, a "
                                         r"name \(\[.*'non_neg'"):
        constraints.get(3)
    with pytest.raises(ValueError, match="Unknown constraint 'Nope'"):
        constraints.get({"class_name": "Nope", "config": {}})


class _Clip(constraints.Constraint):
    def __init__(self, limit=1.0):
        self.limit = limit

    def __call__(self, w):
        return w.clip(-self.limit, self.limit)

    def get_config(self):
        return {"limit": self.limit}


def _unit_clip(w):
    return w.clip(-1.0, 1.0)


@pytest.fixture
def registry(fresh_registry):
    """Custom constraints registered in a test are gone after it."""
    return constraints


def test_custom_constraints_by_name(registry):
    clip = _Clip(0.5)
    assert constraints.serialize(clip) is clip  # not registered: no name yet
    constraints.register("clip_by", _Clip)
    constraints.register("unit_clip", _unit_clip)
    assert constraints.serialize(clip) == {"module": __name__, "class_name": "_Clip",
                                           "config": {"limit": 0.5},
                                           "registered_name": "Custom>clip_by"}
    assert constraints.get(constraints.serialize(clip)) == clip
    assert constraints.serialize(_unit_clip) == {
        "module": __name__, "class_name": "function", "config": "Custom>unit_clip",
        "registered_name": "Custom>unit_clip"}
    assert constraints.get("unit_clip") is _unit_clip
    with pytest.raises(ValueError, match="Valid names:.*'max_norm'.*register_keras_serializable"):
        constraints.get("unit_clop")
    with pytest.raises(ValueError, match="must be a class or a function. Got 3 instead"):
        constraints.register("three", 3)


# --- layers -------------------------------------------------------------------------------------
LAYER_CASES = [
    (lambda **kw: layers.Dense(3, **kw), (None, 4), ("kernel", "bias")),
    (lambda **kw: layers.Conv1D(3, 2, **kw), (None, 6, 2), ("kernel", "bias")),
    (lambda **kw: layers.Conv2D(3, 2, **kw), (None, 5, 5, 2), ("kernel", "bias")),
    (lambda **kw: layers.SimpleRNN(3, **kw), (None, 4, 2), ("kernel", "recurrent", "bias")),
    (lambda **kw: layers.GRU(3, **kw), (None, 4, 2), ("kernel", "recurrent", "bias")),
    (lambda **kw: layers.LSTM(3, **kw), (None, 4, 2), ("kernel", "recurrent", "bias")),
]


@pytest.mark.parametrize("make,input_shape,prefixes", LAYER_CASES)
def test_layer_config_round_trips_with_constraints(make, input_shape, prefixes):
    given = dict(zip(prefixes, ["max_norm", MinMaxNorm(0.1, 0.5, axis=[0]),
                                {"class_name": "NonNeg", "config": {}}]))
    layer = make(**{f"{p}_constraint": c for p, c in given.items()})
    config = json.loads(json.dumps(layer.get_config()))
    expected = {"kernel": MaxNorm(), "recurrent": MinMaxNorm(0.1, 0.5, axis=[0]), "bias": NonNeg()}
    if len(prefixes) == 2:
        expected["bias"] = expected["recurrent"]
    for p in prefixes:
        assert config[f"{p}_constraint"] == constraints.serialize(expected[p])
    clone = type(layer).from_config({**config, "name": layer.name + "_clone"})
    assert clone.get_config() == {**config, "name": layer.name + "_clone"}
    clone.build(input_shape)
    by_name = {v.name: v for v in clone.weights}
    for p in prefixes:
        assert getattr(clone, f"{p}_constraint") == expected[p]
        weight = by_name["recurrent_kernel" if p == "recurrent" else p]
        assert weight.constraint == expected[p]


@pytest.mark.parametrize("make,input_shape,prefixes", LAYER_CASES)
def test_layers_name_the_bad_constraint_argument(make, input_shape, prefixes):
    owner = type(make()).__name__
    with pytest.raises(ValueError, match=f"The 'kernel_constraint' parameter of {owner}: "
                                         "Unknown constraint 'max_nrom'. Valid names:"):
        make(kernel_constraint="max_nrom")
    with pytest.raises(ValueError, match=f"The 'bias_constraint' parameter of {owner} must be "
                                         "a constraint name, .* or None. Got 0.5 instead"):
        make(bias_constraint=0.5)


def test_fit_keeps_every_column_norm_within_max_norm():
    rng = np.random.default_rng(0)
    x = rng.normal(scale=3.0, size=(256, 6)).astype("float32")
    y = (x @ rng.normal(scale=4.0, size=(6, 2))).astype("float32")

    def train(constraint):
        profond.random.seed(1)
        model = profond.Sequential([layers.Input((6,)),
                                    layers.Dense(8, kernel_constraint=constraint),
                                    layers.Dense(2)])
        model.compile(optimizer=profond.optimizers.SGD(0.01), loss="mse")
        model.fit(x, y, epochs=3, batch_size=32, verbose=0)
        return np.linalg.norm(model.layers[0].get_weights()[0], axis=0)

    assert train(None).max() > 1.5  # the target needs larger weights: the constraint has work
    norms = train(MaxNorm(1.0))
    assert norms.max() <= 1.0 + 1e-6 and norms.max() > 0.9


def test_conv_kernel_per_filter_norm_through_training():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(32, 6, 6, 2)).astype("float32")
    y = rng.normal(scale=5.0, size=(32, 5, 5, 4)).astype("float32")
    model = profond.Sequential([layers.Input((6, 6, 2)),
                                layers.Conv2D(4, 2, kernel_constraint=UnitNorm([0, 1, 2]))])
    model.compile(optimizer=profond.optimizers.SGD(0.05), loss="mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    kernel = model.layers[0].get_weights()[0]
    np.testing.assert_allclose(np.linalg.norm(kernel.reshape(-1, 4), axis=0), 1.0, rtol=1e-5)


# --- model files --------------------------------------------------------------------------------
def _constrained_model():
    model = profond.Sequential([
        layers.Input((5, 3)),
        layers.LSTM(4, kernel_constraint=MaxNorm(1.5), recurrent_constraint="unit_norm",
                    bias_constraint=NonNeg()),
        layers.Dense(2, kernel_constraint=MinMaxNorm(0.5, 1.0, rate=0.5, axis=[0]))])
    model.compile(optimizer="adam", loss="mse")
    return model


def _assert_same_weights_and_training(model, loaded, x, y):
    """Same weights, and one more epoch keeps them the same: the constraints act alike."""
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    loaded.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_save_and_load_keep_the_constraints(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(16, 5, 3)).astype("float32")
    y = rng.normal(size=(16, 2)).astype("float32")
    model = _constrained_model()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = profond.load_model(path)
    for a, b in zip(model.layers, loaded.layers):
        for p in a._weight_prefixes:
            assert getattr(b, f"{p}_constraint") == getattr(a, f"{p}_constraint")
        assert [v.constraint for v in b.weights] == [v.constraint for v in a.weights]
    assert loaded.layers[0].recurrent_constraint == UnitNorm()
    assert loaded.layers[1].kernel_constraint == MinMaxNorm(0.5, 1.0, rate=0.5, axis=[0])
    _assert_same_weights_and_training(model, loaded, x, y)


def test_save_refuses_a_constraint_it_cannot_name(tmp_path):
    model = profond.Sequential([layers.Input((3,)), layers.Dense(2, name="head"),
                                layers.Dense(1, bias_constraint=_unit_clip, name="out")])
    path = tmp_path / "m.safetensors"
    with pytest.raises(ValueError, match="Cannot save layer 'out': its 'bias_constraint' is "
                                         "<function _unit_clip.*register_keras_serializable"
                                         r".*model.save_weights\(path\)"):
        model.save(path)
    assert not os.path.exists(path)
    model.save_weights(tmp_path / "w.safetensors")  # the way out for the weights alone

    recurrent = profond.Sequential([layers.Input((4, 2)), layers.Bidirectional(
        layers.GRU(3, recurrent_constraint=_Clip(), name="gru"))])
    with pytest.raises(ValueError, match=r"Cannot save layer '\w*gru': its "
                                         r"'recurrent_constraint' is _Clip \(module "):
        recurrent.save(path)


def test_registered_custom_constraints_save_and_load(tmp_path, registry):
    constraints.register("clip_by", _Clip)
    constraints.register("unit_clip", _unit_clip)
    model = profond.Sequential([layers.Input((3,)),
                                layers.Dense(2, kernel_constraint=_Clip(0.25),
                                             bias_constraint=_unit_clip)])
    model.save(tmp_path / "m.safetensors")
    loaded = profond.load_model(tmp_path / "m.safetensors")
    assert loaded.layers[0].kernel_constraint == _Clip(0.25)
    assert loaded.layers[0].bias_constraint is _unit_clip


# --- Embedding, BatchNormalization, add_weight --------------------------------------------------
def test_embedding_and_batchnorm_resolve_constraint_names():
    emb = layers.Embedding(10, 4, embeddings_constraint="unit_norm")
    assert emb.embeddings_constraint == UnitNorm()
    bn = layers.BatchNormalization(gamma_constraint="non_neg",
                                   beta_constraint={"class_name": "MaxNorm",
                                                    "config": {"max_value": 0.5, "axis": 0}})
    assert bn.gamma_constraint == NonNeg() and bn.beta_constraint == MaxNorm(0.5)
    emb.build((None, 3))
    bn.build((None, 4))
    assert emb.embeddings.constraint == UnitNorm()
    assert bn.gamma.constraint == NonNeg() and bn.beta.constraint == MaxNorm(0.5)
    assert bn.moving_mean.constraint is None and bn.moving_variance.constraint is None
    with pytest.raises(ValueError, match="The 'embeddings_constraint' parameter of Embedding: "
                                         "Unknown constraint 'unit_nrom'. Valid names:"):
        layers.Embedding(10, 4, embeddings_constraint="unit_nrom")
    with pytest.raises(ValueError, match="The 'gamma_constraint' parameter of "
                                         "BatchNormalization must be a constraint name, .* "
                                         "Got 2 instead"):
        layers.BatchNormalization(gamma_constraint=2)


def test_embedding_and_batchnorm_configs_keep_the_constraints():
    emb = layers.Embedding(10, 4, embeddings_constraint=UnitNorm(axis=1), mask_zero=True)
    bn = layers.BatchNormalization(gamma_constraint="non_neg", beta_constraint=MaxNorm(0.5))
    for layer, expected in ((emb, {"embeddings": UnitNorm(axis=1)}),
                            (bn, {"gamma": NonNeg(), "beta": MaxNorm(0.5)})):
        config = json.loads(json.dumps(layer.get_config()))
        for prefix, constraint in expected.items():
            assert config[f"{prefix}_constraint"] == constraints.serialize(constraint)
        clone = type(layer).from_config(config)
        assert clone.get_config() == config
        for prefix, constraint in expected.items():
            assert getattr(clone, f"{prefix}_constraint") == constraint
    # Keras's keys: Embedding takes an activity regularizer, BatchNormalization does not.
    emb_config, bn_config = emb.get_config(), bn.get_config()
    assert [k for k in emb_config if k in ("embeddings_initializer", "embeddings_regularizer",
                                           "activity_regularizer", "embeddings_constraint")] \
        == ["embeddings_initializer", "embeddings_regularizer", "activity_regularizer",
            "embeddings_constraint"]
    assert emb_config["embeddings_initializer"] == {
        "module": "keras.initializers", "class_name": "RandomUniform",
        "config": {"minval": -0.05, "maxval": 0.05, "seed": None}, "registered_name": None}
    assert "activity_regularizer" not in bn_config
    assert [k for k in bn_config if k.endswith(("_initializer", "_regularizer", "_constraint"))] \
        == ["beta_initializer", "gamma_initializer", "moving_mean_initializer",
            "moving_variance_initializer", "beta_regularizer", "gamma_regularizer",
            "beta_constraint", "gamma_constraint"]


def test_embedding_unit_norm_holds_through_training():
    rng = np.random.default_rng(4)
    ids = rng.integers(0, 12, size=(64, 5))
    y = rng.normal(scale=5.0, size=(64, 5, 3)).astype("float32")
    model = profond.Sequential([layers.Input((5,), dtype="int64"),
                                layers.Embedding(12, 3, embeddings_constraint=UnitNorm(axis=1))])
    model.compile(optimizer=profond.optimizers.SGD(0.1), loss="mse")
    model.fit(ids, y, epochs=2, batch_size=16, verbose=0)
    table = model.layers[0].get_weights()[0]
    np.testing.assert_allclose(np.linalg.norm(table, axis=1), 1.0, rtol=1e-5)


def test_batchnorm_non_neg_gamma_holds_through_training():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(128, 3)).astype("float32")
    y = -(x - x.mean(axis=0)) / x.std(axis=0)  # the best gamma is -1

    def train(**kwargs):
        model = profond.Sequential([layers.Input((3,)), layers.BatchNormalization(**kwargs)])
        model.compile(optimizer=profond.optimizers.SGD(0.5), loss="mse")
        model.fit(x, y, epochs=5, batch_size=32, verbose=0)
        return model.layers[0].get_weights()

    gamma, beta = train()[:2]  # unconstrained: gamma goes negative, beta wanders off 0
    assert gamma.max() < -0.5 and np.linalg.norm(beta) > 0.03
    gamma, beta = train(gamma_constraint="non_neg", beta_constraint=MaxNorm(0.01))[:2]
    assert gamma.min() >= 0.0
    assert np.linalg.norm(beta) <= 0.01 + 1e-6


def test_embedding_and_batchnorm_constraints_survive_save_and_load(tmp_path):
    rng = np.random.default_rng(6)
    ids = rng.integers(1, 9, size=(32, 4))
    y = rng.normal(size=(32, 4, 2)).astype("float32")
    model = profond.Sequential([
        layers.Input((4,), dtype="int64"),
        layers.Embedding(9, 3, embeddings_constraint=UnitNorm(axis=1), name="emb"),
        layers.BatchNormalization(gamma_constraint="non_neg",
                                  beta_constraint=MinMaxNorm(0.0, 0.5, axis=0), name="bn"),
        layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(ids, y, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = profond.load_model(path)
    assert loaded.layers[0].embeddings_constraint == UnitNorm(axis=1)
    assert loaded.layers[1].gamma_constraint == NonNeg()
    assert loaded.layers[1].beta_constraint == MinMaxNorm(0.0, 0.5, axis=0)
    assert [v.constraint for v in loaded.weights] == [v.constraint for v in model.weights]
    _assert_same_weights_and_training(model, loaded, ids, y)


def test_add_weight_resolves_its_constraint():
    layer = layers.Layer(name="custom")
    assert layer.add_weight((2, 3), constraint="non_neg").constraint == NonNeg()
    assert layer.add_weight((2,), constraint={"class_name": "UnitNorm",
                                              "config": {"axis": 0}}).constraint == UnitNorm()
    assert layer.add_weight((2,), constraint=_unit_clip).constraint is _unit_clip
    with pytest.raises(ValueError, match=r"The 'constraint' parameter of add_weight \(layer "
                                         "'custom'\\): Unknown constraint 'nonneg_'"):
        layer.add_weight((2,), constraint="nonneg_")
    with pytest.raises(ValueError, match=r"The 'constraint' parameter of add_weight \(layer "
                                         "'custom'\\) must be a constraint name.* Got 1.5 "
                                         "instead"):
        layer.add_weight((2,), constraint=1.5)
