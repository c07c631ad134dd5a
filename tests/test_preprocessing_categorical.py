"""CategoryEncoding, Discretization, StringLookup, IntegerLookup: Keras 3's documented
examples (Keras runs the lookups on TensorFlow, absent here, so its documentation is the
oracle), configs, masks and errors."""

import numpy as np
import pytest

import profond
from profond import layers

VOCAB = ["a", "b", "c", "d"]


def test_string_lookup_as_keras_documents_it():
    data = np.array([["a", "c", "d"], ["d", "z", "b"]])
    np.testing.assert_array_equal(layers.StringLookup(vocabulary=VOCAB)(data).numpy(),
                                  [[1, 3, 4], [4, 0, 2]])
    masked = layers.StringLookup(vocabulary=VOCAB, mask_token="")
    out = masked(np.array([["a", "c", "d"], ["d", "", "b"]]))
    np.testing.assert_array_equal(out.numpy(), [[2, 4, 5], [5, 0, 3]])
    np.testing.assert_array_equal(profond.layers.masks.get_mask(out),
                                  [[True, True, True], [True, False, True]])
    one_hot = layers.StringLookup(vocabulary=VOCAB, output_mode="one_hot")
    np.testing.assert_array_equal(one_hot(np.array(["a", "b", "c", "d", "z"])).numpy(),
                                  np.eye(5)[[1, 2, 3, 4, 0]])
    data = np.array([["a", "c", "d", "d"], ["d", "z", "b", "z"]])
    np.testing.assert_array_equal(
        layers.StringLookup(vocabulary=VOCAB, output_mode="multi_hot")(data).numpy(),
        [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    np.testing.assert_array_equal(
        layers.StringLookup(vocabulary=VOCAB, output_mode="count")(data).numpy(),
        [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])
    tf_idf = layers.StringLookup(output_mode="tf_idf", vocabulary=VOCAB,
                                 idf_weights=[0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(tf_idf(data).numpy(), [[0.0, 0.25, 0.0, 0.6, 0.8],
                                                      [1.0, 0.0, 0.75, 0.0, 0.4]], rtol=1e-6)
    inverse = layers.StringLookup(vocabulary=VOCAB, invert=True)
    np.testing.assert_array_equal(inverse(np.array([[1, 3, 4], [4, 0, 2]])),
                                  [["a", "c", "d"], ["d", "[UNK]", "b"]])


def test_string_lookup_adapt_orders_by_frequency_then_token():
    layer = layers.StringLookup()
    layer.adapt(np.array([["a", "c", "d"], ["d", "z", "b"]]))
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    assert layer.vocabulary_size() == 6
    small = layers.StringLookup(max_tokens=3)
    small.adapt(np.array([["a", "c", "d"], ["d", "z", "b"]]))
    assert small.get_vocabulary() == ["[UNK]", "d", "z"]
    assert small.get_vocabulary(include_special_tokens=False) == ["d", "z"]
    tf_idf = layers.StringLookup(output_mode="tf_idf")
    tf_idf.adapt(np.array([["a", "a"], ["a", "b"]]))
    # idf = log(1 + documents / (1 + documents holding the token))
    np.testing.assert_allclose(tf_idf(np.array([["a", "b"]])).numpy()[0, 1:],
                               [np.log(1 + 2 / 3), np.log(1 + 2 / 2)], rtol=1e-6)


def test_integer_lookup_as_keras_documents_it():
    vocab = [12, 36, 1138, 42]
    data = np.array([[12, 1138, 42], [42, 1000, 36]])
    np.testing.assert_array_equal(layers.IntegerLookup(vocabulary=vocab)(data).numpy(),
                                  [[1, 3, 4], [4, 0, 2]])
    layer = layers.IntegerLookup()
    layer.adapt(data)
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    inverse = layers.IntegerLookup(vocabulary=vocab, invert=True)
    np.testing.assert_array_equal(inverse(np.array([[1, 3, 4], [4, 0, 2]])),
                                  [[12, 1138, 42], [42, -1, 36]])
    masked = layers.IntegerLookup(vocabulary=vocab, mask_token=0)
    np.testing.assert_array_equal(masked(np.array([[12, 0, 42]])).numpy(), [[2, 0, 5]])


def test_lookup_configs_round_trip_with_the_vocabulary():
    layer = layers.StringLookup(vocabulary=VOCAB, mask_token="", output_mode="int")
    clone = layers.StringLookup.from_config(layer.get_config())
    data = np.array([["a", "", "q"]])
    np.testing.assert_array_equal(clone(data).numpy(), layer(data).numpy())
    tf_idf = layers.IntegerLookup(vocabulary=[5, 7], output_mode="tf_idf", idf_weights=[1., 2.])
    again = layers.IntegerLookup.from_config(tf_idf.get_config())
    np.testing.assert_allclose(again(np.array([[5, 7, 9]])).numpy(),
                               tf_idf(np.array([[5, 7, 9]])).numpy())


def test_lookup_feeds_an_embedding_in_a_model():
    words = np.array([["a", "b", "c"], ["d", "a", "a"], ["c", "c", "b"], ["b", "d", "d"]])
    y = np.array([0, 1, 0, 1])
    ids = layers.StringLookup(vocabulary=VOCAB)(words).numpy()
    model = profond.Sequential([layers.Input((3,), dtype="int64"), layers.Embedding(5, 4),
                                layers.GlobalAveragePooling1D(),
                                layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(ids, y, epochs=2, verbose=0)
    assert model.predict(ids, verbose=0).shape == (4, 1)


@pytest.mark.parametrize("make, match", [
    (lambda: layers.StringLookup(num_oov_indices=2), "'num_oov_indices' parameter"),
    (lambda: layers.StringLookup(max_tokens=1), "'max_tokens' parameter"),
    (lambda: layers.StringLookup(invert=True, output_mode="count"), "'output_mode' parameter"),
    (lambda: layers.StringLookup(pad_to_max_tokens=True), "'max_tokens' parameter"),
    (lambda: layers.StringLookup(vocabulary=["a", "a"]), "must not repeat a token"),
    (lambda: layers.StringLookup(vocabulary=["a", ""], mask_token=""), "mask token"),
    (lambda: layers.StringLookup(vocabulary=["a"], output_mode="tf_idf"), "'idf_weights'"),
    (lambda: layers.StringLookup(vocabulary=["a"], idf_weights=[1.0]), "'idf_weights'"),
    (lambda: layers.CategoryEncoding(0), "'num_tokens' parameter"),
    (lambda: layers.CategoryEncoding(3, output_mode="tf_idf"), "'output_mode' parameter"),
    (lambda: layers.Discretization(), "exactly one must be given"),
    (lambda: layers.Discretization(bin_boundaries=[1.0, 0.0]), "must be increasing"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"no vocabulary: give vocabulary= or call adapt"):
        layers.StringLookup()(np.array(["a"]))
    with pytest.raises(ValueError, match=r"met the token 'z', not in its vocabulary"):
        layers.StringLookup(vocabulary=VOCAB, num_oov_indices=0)(np.array(["a", "z"]))
    with pytest.raises(ValueError, match=r"integer ids in \[0, 3\)\. Got 5"):
        layers.CategoryEncoding(3)(np.array([[0, 5]]))
    with pytest.raises(ValueError, match="has no bin boundaries"):
        layers.Discretization(num_bins=3)(np.array([1.0]))
    with pytest.raises(ValueError, match="'count_weights' parameter of CategoryEncoding"):
        layers.CategoryEncoding(3)(np.array([[0, 1]]), count_weights=np.ones((1, 2)))


# --- TextVectorization ------------------------------------------------------------------------
def test_text_vectorization_as_keras_documents_it():
    layer = layers.TextVectorization(max_tokens=5000, output_mode="int",
                                     output_sequence_length=4,
                                     vocabulary=["earth", "wind", "and", "fire"])
    np.testing.assert_array_equal(layer(np.array([["earth wind and also fire"]])).numpy(),
                                  [[2, 3, 4, 1]])
    assert layer.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]


def test_text_vectorization_standardizes_splits_and_pads():
    layer = layers.TextVectorization()
    layer.adapt(np.array(["Hello, World!", "hello there", "THE world"]))
    assert layer.get_vocabulary()[:4] == ["", "[UNK]", "world", "hello"]
    out = layer(np.array(["hello world", "a b c hello"])).numpy()
    assert out.shape == (2, 4)  # padded to the longest
    np.testing.assert_array_equal(out[0], [3, 2, 0, 0])
    np.testing.assert_array_equal(out[1], [1, 1, 1, 3])
    chars = layers.TextVectorization(split="character", standardize="lower",
                                     vocabulary=["a", "b"])
    np.testing.assert_array_equal(chars(np.array(["AbC"])).numpy(), [[2, 3, 1]])


def test_text_vectorization_bags_of_words_and_ngrams():
    layer = layers.TextVectorization(output_mode="count", ngrams=2)
    layer.adapt(np.array(["a b a", "b c"]))
    vocab = layer.get_vocabulary()
    assert vocab[0] == "[UNK]" and {"a b", "b a", "b c"} <= set(vocab)
    counts = layer(np.array(["a b a z"])).numpy()[0]
    assert counts[vocab.index("a")] == 2 and counts[vocab.index("a b")] == 1
    assert counts[0] == 2  # "z" and "a z" are out of the vocabulary
    tf_idf = layers.TextVectorization(output_mode="tf_idf")
    tf_idf.adapt(np.array(["x y", "x"]))
    weights = tf_idf(np.array(["x x y"])).numpy()[0]
    vocab = tf_idf.get_vocabulary()
    assert weights[vocab.index("x")] == pytest.approx(2 * np.log(1 + 2 / 3))
    assert weights[vocab.index("y")] == pytest.approx(np.log(1 + 2 / 2))


def test_text_vectorization_trains_a_classifier_and_round_trips():
    texts = np.array(["good great fine", "bad awful", "great good", "awful bad poor",
                      "fine good", "poor bad"] * 8)
    y = np.array([1, 0, 1, 0, 1, 0] * 8)
    vectorize = layers.TextVectorization(output_mode="multi_hot")
    vectorize.adapt(texts)
    x = vectorize(texts).numpy()
    profond.random.seed(0)
    model = profond.Sequential([layers.Input((x.shape[1],)),
                                layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=profond.optimizers.Adam(0.1), loss="binary_crossentropy",
                  metrics=["accuracy"])
    assert model.fit(x, y, epochs=20, verbose=0).history["accuracy"][-1] == 1.0
    clone = layers.TextVectorization.from_config(vectorize.get_config())
    np.testing.assert_array_equal(clone(texts[:3]).numpy(), x[:3])
    with pytest.raises(ValueError, match="'output_sequence_length' parameter"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="'standardize' parameter of TextVectorization"):
        layers.TextVectorization(standardize="upper")
