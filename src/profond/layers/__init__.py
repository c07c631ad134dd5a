"""Layers with Keras 3's names, arguments, defaults and weight layouts (channels-last).

Every ``Layer`` subclass is found by its class name (:func:`get`); those of profond are written
as Keras's ``"keras.layers"`` in saved configs, and a custom one is saved once registered with
:func:`profond.saving.register_keras_serializable`.
"""

from profond.layers.activations import ELU, LeakyReLU, PReLU, ReLU, Softmax
from profond.layers.base import Input, InputLayer, KerasTensor, Layer
from profond.layers.conv import Conv1D, Conv2D
from profond.layers.core import Activation, Dense
from profond.layers.embedding import Embedding
from profond.layers.hashing import Hashing
from profond.layers.masking import Masking
from profond.layers.merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply,
                                    Subtract, add, average, concatenate, dot, maximum, minimum,
                                    multiply, subtract)
from profond.layers.normalization import BatchNormalization
from profond.layers.normalization_extra import (GroupNormalization, LayerNormalization,
                                               RMSNormalization, UnitNormalization)
from profond.layers.pooling import (
                                    AveragePooling1D,
                                    AveragePooling2D,
                                    GlobalAveragePooling1D,
                                    GlobalAveragePooling2D,
                                    GlobalMaxPooling1D,
                                    GlobalMaxPooling2D,
                                    MaxPooling1D,
                                    MaxPooling2D,
)
from profond.layers.preprocessing import Normalization
from profond.layers.recurrent import GRU, LSTM, SimpleRNN
from profond.layers.regularization import Dropout, SpatialDropout1D, SpatialDropout2D
from profond.layers.reshaping import Flatten, Reshape, UpSampling2D, ZeroPadding2D
from profond.layers.serialization import deserialize, get, register, serialize
from profond.layers.wrappers import Bidirectional, TimeDistributed

__all__ = ["Layer", "Input", "InputLayer", "Dense", "Activation", "get", "register",
           "serialize", "deserialize",
           "Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D",
           "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
           "GlobalMaxPooling1D", "GlobalMaxPooling2D", "Flatten", "Reshape", "ZeroPadding2D",
           "UpSampling2D", "Dropout", "SpatialDropout1D", "SpatialDropout2D",
           "BatchNormalization", "Normalization", "LayerNormalization", "RMSNormalization",
           "UnitNormalization", "GroupNormalization",
           "SimpleRNN", "GRU", "LSTM", "Bidirectional", "TimeDistributed", "Embedding", "Masking",
           "Hashing",
           "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
           "KerasTensor",
           # merging (functional models' skip connections and joins)
           "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"]

