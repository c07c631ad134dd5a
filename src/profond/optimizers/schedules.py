"""Keras's ``keras.optimizers.schedules``: the learning-rate schedules of
:mod:`profond.schedules` under the path Keras code imports them from (the same objects).

Examples
--------
>>> from profond.optimizers.schedules import ExponentialDecay
>>> from profond import schedules
>>> ExponentialDecay is schedules.ExponentialDecay
True
"""

from profond.schedules import *  # noqa: F401,F403 - an alias of the whole module
from profond.schedules import __all__  # noqa: F401
