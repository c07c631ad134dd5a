"""Sliding windows over a time series, for forecasting with recurrent or dense models."""

from __future__ import annotations

import numpy as np

from profond._validation import check_int

__all__ = ["timeseries_windows"]


def timeseries_windows(series, window, horizon=1, stride=1):
    """Cut a series into (past window, future values) pairs for supervised forecasting.

    Window ``i`` holds the steps ``s, ..., s + window - 1`` with ``s = i * stride``; its target
    is the ``horizon`` steps that follow, ``s + window, ..., s + window + horizon - 1``.

    Parameters
    ----------
    series : array-like, shape (n_steps,) or (n_steps, n_features)
    window : int
        Length of each input window (>= 1).
    horizon : int, default 1
        Number of future steps to predict (>= 1).
    stride : int, default 1
        Steps between the starts of consecutive windows (>= 1).

    Returns
    -------
    x : ndarray, shape (n_windows, window, n_features)
        A 1-D series gets one feature, so ``x`` feeds recurrent layers directly.
    y : ndarray, shape (n_windows, horizon) for a 1-D series, else
        (n_windows, horizon, n_features)

    Raises
    ------
    ValueError
        If the series is shorter than ``window + horizon``, or not 1-D or 2-D.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.data import timeseries_windows
    >>> x, y = timeseries_windows(np.arange(6.0), window=3, horizon=2)
    >>> x[:, :, 0]
    array([[0., 1., 2.],
           [1., 2., 3.]])
    >>> y
    array([[3., 4.],
           [4., 5.]])
    """
    window = check_int(window, "window", "timeseries_windows", low=1)
    horizon = check_int(horizon, "horizon", "timeseries_windows", low=1)
    stride = check_int(stride, "stride", "timeseries_windows", low=1)
    data = np.asarray(series)
    if data.ndim not in (1, 2):
        raise ValueError(f"The 'series' parameter of timeseries_windows must be 1-D (n_steps,) "
                         f"or 2-D (n_steps, n_features). Got shape {data.shape} instead.")
    flat = data.ndim == 1
    data = data[:, None] if flat else data
    n_steps = data.shape[0]
    if n_steps < window + horizon:
        raise ValueError(f"The 'series' parameter of timeseries_windows must have at least "
                         f"window + horizon = {window + horizon} steps (window={window}, "
                         f"horizon={horizon}). Got {n_steps} steps instead.")
    starts = np.arange(0, n_steps - window - horizon + 1, stride)
    x = data[starts[:, None] + np.arange(window)]
    y = data[starts[:, None] + window + np.arange(horizon)]
    return x, (y[..., 0] if flat else y)
