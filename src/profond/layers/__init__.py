"""Layers with Keras 3's names, arguments, defaults and weight layouts (channels-last).

Every ``Layer`` subclass is found by its class name (:func:`get`); those of profond are written
as Keras's ``"keras.layers"`` in saved configs, and a custom one is saved once registered with
:func:`profond.saving.register_keras_serializable`.

Convolution and pooling (each one fused node, Keras's weight layouts and ``get_weights()``
order):

- ``Conv1D``, ``Conv2D``, ``Conv3D`` (``groups``); ``Conv1DTranspose``, ``Conv2DTranspose``,
  ``Conv3DTranspose``; ``DepthwiseConv1D``, ``DepthwiseConv2D``; ``SeparableConv1D``,
  ``SeparableConv2D``;
- ``MaxPooling1D/2D/3D``, ``AveragePooling1D/2D/3D``, ``GlobalMaxPooling1D/2D/3D``,
  ``GlobalAveragePooling1D/2D/3D``, ``AdaptiveMaxPooling1D/2D/3D``,
  ``AdaptiveAveragePooling1D/2D/3D``;
- Keras's aliases, the same classes: ``Convolution1D/2D/3D``, ``Convolution1D/2D/3DTranspose``,
  ``SeparableConvolution1D/2D``, ``MaxPool1D/2D/3D``, ``AvgPool1D/2D/3D``,
  ``GlobalMaxPool1D/2D/3D``, ``GlobalAvgPool1D/2D/3D``.
"""

from profond.layers.activations import ELU, LeakyReLU, PReLU, ReLU, Softmax
from profond.layers.base import Input, InputLayer, KerasTensor, Layer
from profond.layers.conv import Conv1D, Conv2D, Conv3D, Convolution1D, Convolution2D, Convolution3D
from profond.layers.conv_depthwise import (DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D,
                                           SeparableConv2D, SeparableConvolution1D,
                                           SeparableConvolution2D)
from profond.layers.conv_transpose import (Conv1DTranspose, Conv2DTranspose, Conv3DTranspose,
                                           Convolution1DTranspose, Convolution2DTranspose,
                                           Convolution3DTranspose)
from profond.layers.core import Activation, Dense
from profond.layers.embedding import Embedding
from profond.layers.masking import Masking
from profond.layers.merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply,
                                    Subtract, add, average, concatenate, dot, maximum, minimum,
                                    multiply, subtract)
from profond.layers.normalization import BatchNormalization
from profond.layers.normalization_extra import (GroupNormalization, LayerNormalization,
                                               RMSNormalization, UnitNormalization)
from profond.layers.pooling import (AveragePooling1D, AveragePooling2D, AveragePooling3D,
                                    AvgPool1D, AvgPool2D, AvgPool3D, GlobalAveragePooling1D,
                                    GlobalAveragePooling2D, GlobalAveragePooling3D,
                                    GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D,
                                    GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D,
                                    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D,
                                    MaxPool1D, MaxPool2D, MaxPool3D, MaxPooling1D, MaxPooling2D,
                                    MaxPooling3D)
from profond.layers.pooling_adaptive import (AdaptiveAveragePooling1D, AdaptiveAveragePooling2D,
                                             AdaptiveAveragePooling3D, AdaptiveMaxPooling1D,
                                             AdaptiveMaxPooling2D, AdaptiveMaxPooling3D)
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
           "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
           "KerasTensor",
           # merging (functional models' skip connections and joins)
           "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot",
           # convolutions and pooling of issue 15, with Keras's aliases (the same classes)
           "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
           "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
           "Convolution1D", "Convolution2D", "Convolution3D", "Convolution1DTranspose",
           "Convolution2DTranspose", "Convolution3DTranspose", "SeparableConvolution1D",
           "SeparableConvolution2D",
           "MaxPooling3D", "AveragePooling3D", "GlobalMaxPooling3D", "GlobalAveragePooling3D",
           "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
           "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D",
           "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
           "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalAvgPool1D",
           "GlobalAvgPool2D", "GlobalAvgPool3D"]

