"""Data tools with scikit-learn's conventions: splitting, scaling, batching, weighting,
time-series windows."""

from profond.data.scaling import MinMaxScaler, NotFittedError, Rescaler, StandardScaler
from profond.data.splits import KFold, StratifiedKFold, train_test_split, train_val_test_split
from profond.data.timeseries import timeseries_windows
from profond.data.class_weight import compute_class_weight

__all__: list[str] = ["train_test_split", "train_val_test_split", "KFold", "StratifiedKFold",
                      "MinMaxScaler", "StandardScaler", "Rescaler", "NotFittedError",
                      "compute_class_weight", "timeseries_windows"]
