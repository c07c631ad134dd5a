"""Functional, stateless operations on tensors, each with a hand-written backward.

Everything here takes and returns :class:`profond.Tensor` objects (numbers and arrays are
accepted as constants). The primitives behind Tensor's operators and methods (``add``,
``matmul``, ``sum``, ``reshape``, ``relu`` ...) are defined in :mod:`profond.autograd` and
re-exported here.
"""

from profond.autograd.activation import log_softmax, relu, sigmoid, softmax, tanh
from profond.autograd.elementwise import (abs, add, cast, clip, div, equal, exp, greater,
                                          greater_equal, less, less_equal, log, maximum, minimum,
                                          mul, neg, not_equal, pow, sign, sqrt, square, sub, where)
from profond.autograd.linalg import matmul
from profond.autograd.reduction import argmax, argmin, logsumexp, max, mean, min, std, sum, var
from profond.autograd.shape import (broadcast_to, concatenate, expand_dims, flatten, getitem, pad,
                                    permute, reshape, split, squeeze, stack, swapaxes, transpose)
from profond.ops.activation import (celu, elu, exponential, gelu, glu, hard_shrink, hard_sigmoid,
                                    hard_silu, hard_swish, hard_tanh, leaky_relu,
                                    linear_activation, log_sigmoid, mish, prelu, relu6, selu,
                                    silu, soft_shrink, softplus, softsign, sparse_plus,
                                    sparse_sigmoid, sparsemax, squareplus, step, tanh_shrink,
                                    threshold)
from profond.ops.attention import additive_attention, attention
from profond.ops.conv import conv1d, conv2d
from profond.ops.conv_depthwise import depthwise_conv1d, depthwise_conv2d
from profond.ops.conv_nd import (conv1d_transpose, conv2d_transpose, conv3d, conv3d_transpose,
                                 conv_transpose)
from profond.ops.creation import (convert_to_numpy, convert_to_tensor, ones, ones_like, zeros,
                                  zeros_like)
from profond.ops.crossentropy import sigmoid_cross_entropy, softmax_cross_entropy
from profond.ops.dropout import dropout
from profond.ops.einsum import einsum
from profond.ops.embedding import embedding
from profond.ops.layer_norm import group_norm, l2_normalize, layer_norm, rms_norm
from profond.ops.linalg import linear
from profond.ops.normalization import batch_norm_inference, batch_norm_train
from profond.ops.pooling import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from profond.ops.pooling_nd import adaptive_average_pool, adaptive_max_pool, avg_pool3d, max_pool3d
from profond.ops.recurrent import gru, lstm, simple_rnn
from profond.ops.tensordot import tensordot
from profond.ops import nn  # Keras's keras.ops.nn
# Keras's keras.ops holds the keras.ops.nn names too (but ``conv``: profond.ops.conv is the
# convolution module) ...
from profond.ops.nn import (average_pool, batch_normalization, binary_crossentropy,
                            categorical_crossentropy, max_pool, moments, multi_hot, normalize,
                            one_hot, sparse_categorical_crossentropy, swish)

# ... and NumPy's names for the primitives (the same functions)
absolute, amax, amin, get_item = abs, max, min, getitem
divide = true_divide = div
multiply, negative, power, subtract = mul, neg, pow, sub

__all__ = [
    "additive_attention", "attention", "avg_pool1d", "avg_pool2d", "batch_norm_inference", "batch_norm_train", "conv1d", "conv2d",
    "dropout", "max_pool1d", "max_pool2d", "group_norm", "l2_normalize", "layer_norm", "rms_norm",
    "abs", "add", "argmax", "argmin", "broadcast_to", "cast", "clip", "concatenate", "div",
    "elu", "embedding", "equal", "exp", "expand_dims", "flatten", "gelu", "getitem", "greater",
    "greater_equal", "gru", "hard_sigmoid", "leaky_relu", "less", "less_equal", "linear",
    "linear_activation", "log", "log_softmax", "logsumexp", "lstm", "matmul", "max", "maximum",
    "mean", "min", "minimum", "mul", "neg", "not_equal", "pad", "permute", "pow", "relu", "reshape",
    "selu", "sigmoid", "sigmoid_cross_entropy", "sign", "silu", "simple_rnn", "softmax",
    "softmax_cross_entropy", "softplus", "softsign", "split", "sqrt", "square", "squeeze",
    "stack", "std", "step", "sub", "sum", "swapaxes", "tanh", "transpose", "var", "where",
    "celu", "exponential", "glu", "hard_shrink", "hard_silu", "hard_swish", "hard_tanh",
    "log_sigmoid", "mish", "prelu", "relu6", "soft_shrink", "sparse_plus", "sparse_sigmoid",
    "sparsemax", "squareplus", "tanh_shrink", "threshold", "tensordot", "einsum", "nn",
    "average_pool", "batch_normalization", "binary_crossentropy", "categorical_crossentropy",
    "max_pool", "moments", "multi_hot", "normalize", "one_hot",
    "sparse_categorical_crossentropy", "swish", "absolute", "amax", "amin", "get_item",
    "divide", "true_divide", "multiply", "negative", "power", "subtract",
    "conv3d", "conv_transpose", "conv1d_transpose", "conv2d_transpose", "conv3d_transpose",
    "depthwise_conv1d",
    "depthwise_conv2d", "max_pool3d", "avg_pool3d", "adaptive_average_pool", "adaptive_max_pool",
    "zeros", "ones", "zeros_like", "ones_like", "convert_to_tensor", "convert_to_numpy",
]
