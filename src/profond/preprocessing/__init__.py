"""Keras's older home of its data utilities, ``keras.preprocessing``, kept by Keras 3 and still
used by keras.io examples (``keras.preprocessing.timeseries_dataset_from_array``,
``keras.preprocessing.sequence.pad_sequences``): the same functions as :mod:`profond.utils`.

Examples
--------
>>> import profond
>>> profond.preprocessing.sequence.pad_sequences([[1, 2], [3]], maxlen=2).tolist()
[[1, 2], [0, 3]]
"""

from profond.preprocessing import sequence
from profond.utils import timeseries_dataset_from_array

__all__ = ["sequence", "timeseries_dataset_from_array"]
