"""Layers with Keras 3's names, arguments, defaults and weight layouts (channels-last).

Every ``Layer`` subclass is found by its class name (:func:`get`); those of profond are written
as Keras's ``"keras.layers"`` in saved configs, and a custom one is saved once registered with
:func:`profond.saving.register_keras_serializable`.

Core: ``Input``, ``InputLayer``, ``Dense``, ``EinsumDense``, ``Activation``, ``Embedding``,
``Masking``, ``Identity``, ``Lambda``, ``Wrapper``.

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

Recurrent: ``SimpleRNN``, ``GRU``, ``LSTM`` (fused over the sequence), ``RNN`` with any cell,
``SimpleRNNCell``, ``GRUCell``, ``LSTMCell``, ``StackedRNNCells``, ``ConvLSTM1D``,
``ConvLSTM2D``, ``Bidirectional``, ``TimeDistributed``.

Attention: ``Attention``, ``AdditiveAttention``, ``MultiHeadAttention``.

Normalization: ``BatchNormalization``, ``LayerNormalization``, ``GroupNormalization``,
``RMSNormalization``, ``UnitNormalization``, ``SpectralNormalization``.

Regularization: ``Dropout``, ``SpatialDropout1D/2D/3D``, ``GaussianNoise``,
``GaussianDropout``, ``AlphaDropout``, ``ActivityRegularization``.

Reshaping: ``Flatten``, ``Reshape``, ``Permute``, ``RepeatVector``, ``ZeroPadding1D/2D/3D``,
``Cropping1D/2D/3D``, ``UpSampling1D/2D/3D``.

Merging: ``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``, ``Minimum``,
``Concatenate``, ``Dot`` (and their functions ``add`` ... ``dot``).

Activations as layers: ``ReLU``, ``LeakyReLU``, ``PReLU``, ``ELU``, ``Softmax``.

Preprocessing: ``Normalization``, ``Rescaling``, ``Resizing``, ``CenterCrop``,
``CategoryEncoding``, ``Discretization``, ``Hashing``, ``StringLookup``, ``IntegerLookup``,
``TextVectorization``; augmentation (training only): ``RandomFlip``, ``RandomCrop``,
``RandomContrast``, ``RandomTranslation``, ``RandomRotation``, ``RandomZoom``.
"""

from profond.layers.activations import ELU, LeakyReLU, PReLU, ReLU, Softmax
from profond.layers.attention import AdditiveAttention, Attention
from profond.layers.augmentation import (RandomContrast, RandomCrop, RandomFlip, RandomRotation,
                                         RandomTranslation, RandomZoom)
from profond.layers.base import Input, InputLayer, KerasTensor, Layer
from profond.layers.categorical import CategoryEncoding, Discretization
from profond.layers.conv import Conv1D, Conv2D, Conv3D, Convolution1D, Convolution2D, Convolution3D
from profond.layers.conv_depthwise import (DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D,
                                           SeparableConv2D, SeparableConvolution1D,
                                           SeparableConvolution2D)
from profond.layers.conv_lstm import ConvLSTM1D, ConvLSTM2D
from profond.layers.conv_transpose import (Conv1DTranspose, Conv2DTranspose, Conv3DTranspose,
                                           Convolution1DTranspose, Convolution2DTranspose,
                                           Convolution3DTranspose)
from profond.layers.core import Activation, Dense, Identity
from profond.layers.einsum_dense import EinsumDense
from profond.layers.embedding import Embedding
from profond.layers.hashing import Hashing
from profond.layers.image_preprocessing import CenterCrop, Rescaling, Resizing
from profond.layers.lambda_layer import Lambda
from profond.layers.lookup import IntegerLookup, StringLookup
from profond.layers.masking import Masking
from profond.layers.merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply,
                                    Subtract, add, average, concatenate, dot, maximum, minimum,
                                    multiply, subtract)
from profond.layers.multi_head_attention import MultiHeadAttention
from profond.layers.noise import AlphaDropout, GaussianDropout, GaussianNoise
from profond.layers.normalization import BatchNormalization
from profond.layers.normalization_extra import (GroupNormalization, LayerNormalization,
                                               RMSNormalization, UnitNormalization)
from profond.layers.padding import (Cropping1D, Cropping2D, Cropping3D, ZeroPadding1D,
                                    ZeroPadding2D, ZeroPadding3D)
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
from profond.layers.rnn import RNN
from profond.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from profond.layers.regularization import (ActivityRegularization, Dropout, SpatialDropout1D,
                                           SpatialDropout2D, SpatialDropout3D)
from profond.layers.reshaping import Flatten, Permute, RepeatVector, Reshape
from profond.layers.serialization import deserialize, get, register, serialize
from profond.layers.spectral_normalization import SpectralNormalization
from profond.layers.text_vectorization import TextVectorization
from profond.layers.upsampling import UpSampling1D, UpSampling2D, UpSampling3D
from profond.layers.wrappers import Bidirectional, TimeDistributed, Wrapper

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
           "KerasTensor", "Attention", "AdditiveAttention", "MultiHeadAttention",
           # reshaping, padding, cropping, up-sampling
           "Permute", "RepeatVector", "ZeroPadding1D", "ZeroPadding3D", "Cropping1D", "Cropping2D",
           "Cropping3D", "UpSampling1D", "UpSampling3D",
           # core, noise and regularization, wrappers
           "Identity", "EinsumDense", "Lambda", "Wrapper", "SpectralNormalization",
           "GaussianNoise", "GaussianDropout", "AlphaDropout", "SpatialDropout3D",
           "ActivityRegularization",
           # recurrent cells and the generic RNN layer
           "RNN", "SimpleRNNCell", "GRUCell", "LSTMCell", "StackedRNNCells", "ConvLSTM1D",
           "ConvLSTM2D",
           # preprocessing
           "Rescaling", "Resizing", "CenterCrop", "CategoryEncoding", "Discretization",
           "IntegerLookup", "StringLookup", "RandomFlip", "RandomCrop", "RandomContrast",
           "RandomTranslation", "RandomRotation", "RandomZoom", "TextVectorization",
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

