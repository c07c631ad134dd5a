"""Real time series bundled with profond.

``load_sunspots``: the yearly mean number of sunspots, 1700-2008 (309 values), the classic
series for forecasting with its cycle of about 11 years (Yule, 1927, fitted his
autoregressive model to it).

Source and licence: US National Oceanic and Atmospheric Administration, National Geophysical
Data Center (NGDC), yearly sunspot numbers; public domain (a work of the US government). The
file ``profond/datasets/files/sunspots.csv`` is the copy that statsmodels redistributes
(``statsmodels/datasets/sunspots``, whose notice reads "This data is public domain."); see
``profond/datasets/files/NOTICE``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["load_sunspots"]

_FILE = Path(__file__).with_name("files") / "sunspots.csv"


def load_sunspots(return_years: bool = False):
    """Yearly mean sunspot numbers, 1700-2008.

    Parameters
    ----------
    return_years : bool, default False
        Also return the years.

    Returns
    -------
    values : ndarray of float64, shape (309,)
        Non-negative sunspot numbers.
    years : ndarray of int64, shape (309,)
        Only with ``return_years=True``: 1700 ... 2008.

    Examples
    --------
    >>> from profond.datasets import load_sunspots
    >>> values, years = load_sunspots(return_years=True)
    >>> values.shape, int(years[0]), int(years[-1])
    ((309,), 1700, 2008)
    >>> float(values[:3].sum())
    32.0
    """
    table = np.loadtxt(_FILE, delimiter=",", skiprows=1)
    values = np.ascontiguousarray(table[:, 1], dtype=np.float64)
    if return_years:
        return values, table[:, 0].astype(np.int64)
    return values
