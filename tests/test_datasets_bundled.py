import numpy as np
import pytest

from profond import datasets

CASES = [
    ("load_digits", (1797, 64), 10),
    ("load_iris", (150, 4), 3),
    ("load_wine", (178, 13), 3),
    ("load_breast_cancer", (569, 30), 2),
]


@pytest.mark.parametrize("name, shape, n_classes", CASES)
def test_classification_datasets(name, shape, n_classes):
    x, y = getattr(datasets, name)()
    assert x.shape == shape and x.dtype == np.float64 and x.flags.c_contiguous
    assert y.shape == (shape[0],) and y.dtype == np.int64
    assert np.unique(y).tolist() == list(range(n_classes))
    assert np.isfinite(x).all()


def test_digits_as_images_and_diabetes():
    x, y = datasets.load_digits(images=True)
    assert x.shape == (1797, 8, 8, 1) and x.min() == 0 and x.max() == 16
    flat, _ = datasets.load_digits()
    np.testing.assert_array_equal(x.reshape(1797, 64), flat)
    x, y = datasets.load_diabetes()
    assert x.shape == (442, 10) and y.shape == (442,) and y.dtype == np.float64


def test_bundled_data_go_through_the_data_layer():
    """Split, scale and weigh a real dataset the way the deck says: fit on the training part."""
    from profond.data import StandardScaler, compute_class_weight, train_val_test_split

    x, y = datasets.load_breast_cancer()
    x_tr, x_va, x_te, y_tr, y_va, y_te = train_val_test_split(
        x, y, val_size=0.15, test_size=0.15, stratify=y, seed=0)
    scaler = StandardScaler().fit(x_tr)
    assert np.allclose(scaler.transform(x_tr).mean(axis=0), 0, atol=1e-10)
    assert abs(scaler.transform(x_te).mean()) < 0.5
    cw = compute_class_weight(y_tr, "balanced")
    counts = np.bincount(y_tr)
    assert cw[0] * counts[0] == pytest.approx(cw[1] * counts[1])
    for part in (y_tr, y_va, y_te):
        assert abs(part.mean() - y.mean()) < 1.0 / len(part) + 1e-12
