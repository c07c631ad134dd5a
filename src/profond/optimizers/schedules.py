"""Keras's ``keras.optimizers.schedules``: the learning-rate schedules of
:mod:`profond.schedules` under the path Keras code imports them from (the same objects).

Examples
--------
>>> from profond.optimizers.schedules import ExponentialDecay
>>> from profond import schedules
>>> ExponentialDecay is schedules.ExponentialDecay
True
"""

# the whole module, under Keras's path (its __all__ too, so that a star import sees the same)
from profond.schedules import *
from profond.schedules import __all__
