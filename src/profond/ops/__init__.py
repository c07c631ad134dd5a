"""Functional, stateless operations on tensors, each with a hand-written backward.

Everything here takes and returns :class:`profond.Tensor` objects (numbers and arrays are
accepted as constants). Tensor operators and methods are bound to these functions at import.
"""

from profond.ops.activation import (elu, gelu, hard_sigmoid, leaky_relu, linear_activation,
                                    log_softmax, relu, selu, sigmoid, silu, softmax, softplus,
                                    softsign, step, tanh)
from profond.ops.conv import conv1d, conv2d
from profond.ops.crossentropy import sigmoid_cross_entropy, softmax_cross_entropy
from profond.ops.dropout import dropout
from profond.ops.embedding import embedding
from profond.ops.elementwise import (abs, add, cast, clip, div, equal, exp, greater,
                                     greater_equal, less, less_equal, log, maximum, minimum, mul,
                                     neg, not_equal, pow, sign, sqrt, square, sub, where)
from profond.ops.linalg import linear, matmul
from profond.ops.normalization import batch_norm_inference, batch_norm_train
from profond.ops.pooling import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from profond.ops.recurrent import gru, lstm, simple_rnn
from profond.ops.reduction import argmax, argmin, logsumexp, max, mean, min, std, sum, var
from profond.ops.shape import (broadcast_to, concatenate, expand_dims, flatten, getitem, pad,
                               permute, reshape, split, squeeze, stack, swapaxes, transpose)
from profond.autograd.tensor import Tensor as _Tensor


def _reflect(fn):
    return lambda self, other: fn(other, self)


def _bind_tensor_methods():
    T = _Tensor
    T.__add__ = add
    T.__radd__ = _reflect(add)
    T.__sub__ = sub
    T.__rsub__ = _reflect(sub)
    T.__mul__ = mul
    T.__rmul__ = _reflect(mul)
    T.__truediv__ = div
    T.__rtruediv__ = _reflect(div)
    T.__neg__ = neg
    T.__pow__ = pow
    T.__rpow__ = _reflect(pow)
    T.__matmul__ = matmul
    T.__rmatmul__ = _reflect(matmul)
    T.__abs__ = abs
    T.__getitem__ = getitem
    T.__eq__ = equal
    T.__ne__ = not_equal
    T.__lt__ = less
    T.__le__ = less_equal
    T.__gt__ = greater
    T.__ge__ = greater_equal
    for name, fn in dict(sum=sum, mean=mean, max=max, min=min, var=var, std=std,
                         logsumexp=logsumexp, argmax=argmax, argmin=argmin, exp=exp, log=log,
                         sqrt=sqrt, square=square, abs=abs, clip=clip, reshape=reshape,
                         transpose=transpose, permute=permute, swapaxes=swapaxes,
                         flatten=flatten, squeeze=squeeze, expand_dims=expand_dims,
                         relu=relu, sigmoid=sigmoid, tanh=tanh, softmax=softmax,
                         log_softmax=log_softmax, matmul=matmul).items():
        setattr(T, name, fn)
    T.T = property(lambda self: transpose(self))


_bind_tensor_methods()

__all__ = [
    "avg_pool1d", "avg_pool2d", "batch_norm_inference", "batch_norm_train", "conv1d", "conv2d",
    "dropout", "max_pool1d", "max_pool2d",
    "abs", "add", "argmax", "argmin", "broadcast_to", "cast", "clip", "concatenate", "div",
    "elu", "embedding", "equal", "exp", "expand_dims", "flatten", "gelu", "getitem", "greater",
    "greater_equal", "gru", "hard_sigmoid", "leaky_relu", "less", "less_equal", "linear",
    "linear_activation", "log", "log_softmax", "logsumexp", "lstm", "matmul", "max", "maximum",
    "mean", "min", "minimum", "mul", "neg", "not_equal", "pad", "permute", "pow", "relu", "reshape",
    "selu", "sigmoid", "sigmoid_cross_entropy", "sign", "silu", "simple_rnn", "softmax",
    "softmax_cross_entropy", "softplus", "softsign", "split", "sqrt", "square", "squeeze",
    "stack", "std", "step", "sub", "sum", "swapaxes", "tanh", "transpose", "var", "where",
]
