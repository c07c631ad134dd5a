import numpy as np
import pytest

from profond.data import KFold, StratifiedKFold, train_test_split, train_val_test_split


def _exact(part_labels, all_labels, size):
    """Each class's count in a part of ``size`` is its exact share rounded down or up."""
    classes = np.unique(all_labels)
    for c in classes:
        share = np.sum(all_labels == c) * size / len(all_labels)
        got = np.sum(part_labels == c)
        assert np.floor(share) <= got <= np.ceil(share), (c, got, share)


@pytest.mark.parametrize("seed", range(12))
def test_three_way_stratified_proportions_are_exact(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 400))
    y = rng.choice(int(rng.integers(2, 7)), size=n, p=None)
    x = np.arange(n)
    x_tr, x_va, x_te, y_tr, y_va, y_te = train_val_test_split(
        x, y, val_size=float(rng.uniform(0.05, 0.3)), test_size=float(rng.uniform(0.05, 0.3)),
        stratify=y, seed=seed)
    # no sample in two parts, none lost, labels still aligned with samples
    assert sorted(np.concatenate([x_tr, x_va, x_te]).tolist()) == list(range(n))
    for xs, ys in ((x_tr, y_tr), (x_va, y_va), (x_te, y_te)):
        np.testing.assert_array_equal(y[xs], ys)
        _exact(ys, y, len(ys))


def test_sizes_follow_scikit_learn_rounding():
    x = np.arange(101)
    tr, va, te = train_val_test_split(x, val_size=0.15, test_size=0.2, seed=0)
    assert (len(tr), len(va), len(te)) == (101 - 16 - 21, 16, 21)
    a, b = train_test_split(x, test_size=0.25, seed=0)
    from sklearn.model_selection import train_test_split as sk_split

    sa, sb = sk_split(x, test_size=0.25, random_state=0)
    assert (len(a), len(b)) == (len(sa), len(sb))
    tr, te = train_test_split(x, train_size=0.5, test_size=10, seed=0)
    assert (len(tr), len(te)) == (50, 10)
    assert not set(tr) & set(te)


def test_one_hot_stratify_and_several_arrays():
    y = np.repeat(np.arange(3), [50, 30, 20])
    onehot = np.eye(3)[y]
    w = np.linspace(0, 1, 100)
    parts = train_test_split(np.arange(100), onehot, w, test_size=0.3, stratify=onehot, seed=1)
    assert len(parts) == 6
    x_tr, x_te, oh_tr, oh_te, w_tr, w_te = parts
    np.testing.assert_array_equal(oh_te.argmax(1), y[x_te])
    np.testing.assert_array_equal(w_te, w[x_te])
    assert np.bincount(oh_te.argmax(1)).tolist() == [15, 9, 6]


def test_reproducible_with_seed_and_global_seed():
    import profond

    x = np.arange(50)
    a = train_test_split(x, seed=3)
    b = train_test_split(x, seed=3)
    np.testing.assert_array_equal(a[1], b[1])
    profond.random.seed(7)
    c = train_test_split(x)
    profond.random.seed(7)
    d = train_test_split(x)
    np.testing.assert_array_equal(c[1], d[1])


def test_no_shuffle_keeps_order():
    y = np.array([0, 1] * 5)
    tr, va, te = train_val_test_split(np.arange(10), val_size=2, test_size=2, shuffle=False)
    assert tr.tolist() == list(range(6)) and va.tolist() == [6, 7] and te.tolist() == [8, 9]
    tr, te = train_test_split(np.arange(10), test_size=4, stratify=y, shuffle=False)
    assert np.bincount(y[te]).tolist() == [2, 2]
    assert tr.tolist() == sorted(tr.tolist())


@pytest.mark.parametrize("kwargs, match", [
    (dict(val_size=0.5, test_size=0.5), "empty training set"),
    (dict(val_size=5, test_size=5), "empty training set"),
    (dict(val_size=0.0, test_size=0.2), "'val_size' parameter of train_val_test_split"),
    (dict(val_size=0.2, test_size=1.5), "'test_size' parameter of train_val_test_split"),
    (dict(val_size=0.2, test_size=11), r"int in \[1, 10\]"),
    (dict(val_size="a", test_size=0.2), "Got 'a' instead"),
])
def test_bad_sizes_give_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train_val_test_split(np.arange(10), **kwargs)


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        train_test_split(np.arange(10), np.arange(9))
    with pytest.raises(TypeError, match="keyword-only"):
        train_val_test_split(np.arange(10), np.arange(10), 0.1, 0.2)
    with pytest.raises(ValueError, match="training set would be empty"):
        train_test_split(np.arange(3), test_size=3)
    with pytest.raises(ValueError, match=r"The 'stratify' parameter of train_test_split must hold "
                                         r"one label per sample \(10\)\. Got 4 labels instead\."):
        train_test_split(np.arange(10), stratify=np.arange(4))


def test_kfold_partitions_samples():
    folds = list(KFold(n_splits=4, shuffle=True, seed=0).split(np.zeros((10, 2))))
    tests = np.concatenate([te for _, te in folds])
    assert sorted(tests.tolist()) == list(range(10))
    assert sorted(len(te) for _, te in folds) == [2, 2, 3, 3]
    for tr, te in folds:
        assert not set(tr) & set(te) and len(tr) + len(te) == 10
    with pytest.raises(ValueError, match=r"The 'n_splits' parameter of KFold must be at most the "
                                         r"number of samples \(n_samples=10\)\. Got 11 instead"):
        list(KFold(11).split(np.zeros(10)))
    with pytest.raises(ValueError, match="'n_splits' parameter of KFold"):
        KFold(1)


def test_stratified_kfold_balances_classes():
    rng = np.random.default_rng(0)
    y = rng.choice(3, size=103, p=[0.6, 0.3, 0.1])
    folds = list(StratifiedKFold(5, shuffle=True, seed=1).split(np.zeros(103), y))
    counts = np.array([np.bincount(y[te], minlength=3) for _, te in folds])
    assert (counts.max(axis=0) - counts.min(axis=0) <= 1).all()
    sizes = [len(te) for _, te in folds]
    assert max(sizes) - min(sizes) <= 1
    assert sorted(np.concatenate([te for _, te in folds]).tolist()) == list(range(103))
    with pytest.warns(UserWarning, match="least populated class"):
        list(StratifiedKFold(3).split(np.zeros(7), np.array([0] * 5 + [1] * 2)))
    with pytest.raises(ValueError, match="needs the labels"):
        list(StratifiedKFold(3).split(np.zeros(7)))
