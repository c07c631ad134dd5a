"""Shape ops: forward against NumPy, backward against finite differences (the gradient of a
gather is a scatter, repeated indices accumulate)."""

import numpy as np
import pytest
from _opcheck import check_op, draw

import profond
from profond import ops

IDX = np.array([2, 0, 2, 1])  # repeated on purpose: the backward must accumulate
MASK = np.array([True, False, True])

# name: (op, NumPy reference, input shape)
UNARY = {
    "reshape": (lambda t: t.reshape(3, 4), lambda a: a.reshape(3, 4), (2, 6)),
    "reshape_tuple": (lambda t: ops.reshape(t, (-1,)), lambda a: a.reshape(-1), (2, 3, 2)),
    "reshape_scalar": (lambda t: t.reshape(1, 1), lambda a: a.reshape(1, 1), ()),
    "reshape_to_scalar": (lambda t: t.reshape(()), lambda a: a.reshape(()), (1,)),
    "transpose": (lambda t: t.T, lambda a: a.T, (2, 3)),
    "transpose_3d": (ops.transpose, np.transpose, (2, 3, 4)),
    "transpose_two_axes": (lambda t: ops.transpose(t, 0, 2), lambda a: np.swapaxes(a, 0, 2),
                           (2, 3, 4)),
    "permute": (lambda t: ops.permute(t, 2, 0, 1), lambda a: a.transpose(2, 0, 1), (2, 3, 4)),
    "permute_negative": (lambda t: ops.permute(t, (-1, 0, 1)), lambda a: a.transpose(2, 0, 1),
                         (2, 3, 4)),
    "swapaxes": (lambda t: ops.swapaxes(t, 0, -1), lambda a: a.swapaxes(0, -1), (2, 3, 4)),
    "slice": (lambda t: t[1:, ::2], lambda a: a[1:, ::2], (3, 5)),
    "slice_negative_step": (lambda t: t[::-1, -2], lambda a: a[::-1, -2], (3, 5)),
    "int_index": (lambda t: t[1], lambda a: a[1], (3, 4)),
    "index_scalar_out": (lambda t: t[1, 2], lambda a: a[1, 2], (3, 4)),
    "ellipsis_newaxis": (lambda t: t[..., None, 1], lambda a: a[..., None, 1], (2, 3)),
    "int_array": (lambda t: t[IDX], lambda a: a[IDX], (3, 2)),
    "int_list": (lambda t: t[[0, 0, 1]], lambda a: a[[0, 0, 1]], (3,)),
    "int_array_tensor": (lambda t: t[profond.tensor(IDX)], lambda a: a[IDX], (3,)),
    "int_array_axis1": (lambda t: t[:, IDX], lambda a: a[:, IDX], (2, 3)),
    "int_array_pairs": (lambda t: t[IDX, IDX[::-1] % 2], lambda a: a[IDX, IDX[::-1] % 2], (3, 2)),
    "bool_mask": (lambda t: t[MASK], lambda a: a[MASK], (3, 2)),
    "pad": (lambda t: ops.pad(t, ((1, 0), (2, 1))), lambda a: np.pad(a, ((1, 0), (2, 1))), (2, 3)),
    "pad_int": (lambda t: ops.pad(t, 1), lambda a: np.pad(a, 1), (2, 3)),
    "pad_value": (lambda t: ops.pad(t, [(0, 2)], constant_values=1.5),
                  lambda a: np.pad(a, [(0, 2)], constant_values=1.5), (3,)),
    "expand_dims": (lambda t: ops.expand_dims(t, 1), lambda a: np.expand_dims(a, 1), (2, 3)),
    "expand_dims_scalar": (lambda t: ops.expand_dims(t, 0), lambda a: np.expand_dims(a, 0), ()),
    "squeeze": (ops.squeeze, np.squeeze, (1, 3, 1)),
    "squeeze_axis": (lambda t: ops.squeeze(t, 0), lambda a: np.squeeze(a, 0), (1, 3, 1)),
    "flatten": (ops.flatten, lambda a: a.reshape(2, -1), (2, 3, 4)),
    "broadcast_to": (lambda t: ops.broadcast_to(t, (4, 2, 3)),
                     lambda a: np.broadcast_to(a, (4, 2, 3)), (2, 1)),
    "broadcast_scalar": (lambda t: ops.broadcast_to(t, (2, 3)),
                         lambda a: np.broadcast_to(a, (2, 3)), ()),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_shape_op(name):
    fn, ref, shape = UNARY[name]
    check_op(fn, ref, draw(shape, seed=21), fwd_tol=dict(rtol=0, atol=0))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate(axis):
    shapes = {0: [(1, 3), (2, 3), (3, 3)], 1: [(2, 1), (2, 2), (2, 3)],
              -1: [(2, 1), (2, 2), (2, 3)]}[axis]
    xs = [draw(s, seed=i) for i, s in enumerate(shapes)]
    check_op(lambda *ts: ops.concatenate(ts, axis=axis),
             lambda *a: np.concatenate(a, axis=axis), *xs)


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)], ids=str)
def test_stack(shape, axis):
    if axis > len(shape) or axis < -len(shape) - 1:
        pytest.skip("axis out of range for this rank")
    xs = [draw(shape, seed=i) for i in range(3)]
    check_op(lambda *ts: ops.stack(ts, axis=axis), lambda *a: np.stack(a, axis=axis), *xs)


@pytest.mark.parametrize("sections", [3, [1, 4]])
def test_split(sections):
    x = draw((6, 2), seed=22)
    for i in range(len(np.split(x, sections))):
        check_op(lambda t, i=i: ops.split(t, sections)[i],
                 lambda a, i=i: np.split(a, sections)[i], x)


def test_a_tensor_used_by_two_slices_gets_both_gradients():
    x = profond.tensor(np.arange(6.0), requires_grad=True)
    (x[:4] * 2 + x[2:] * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [2, 2, 5, 5, 3, 3])


def test_errors():
    t = profond.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"Cannot reshape a tensor of shape \(2, 3\)"):
        t.reshape(4, 2)
    with pytest.raises(ValueError, match="permutation"):
        ops.permute(t, 0, 0)
    with pytest.raises(ValueError, match="one shape"):
        ops.stack([t, profond.tensor(np.ones((3, 2)))])
    with pytest.raises(ValueError, match="at least one"):
        ops.concatenate([])
    with pytest.raises(ValueError, match="pad_width"):
        ops.pad(t, [(1, 1)])
    with pytest.raises(ValueError, match="equal sections"):
        ops.split(t, 4, axis=1)
