"""Data tools with scikit-learn's conventions: splitting, scaling, batching, weighting,
time-series windows."""

__all__: list[str] = []
