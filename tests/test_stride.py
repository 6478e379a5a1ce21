"""solutions.stride against PyTorch: strided correlation, and receptive fields from autograd."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import corr2d, corr2d_strided, pad2d, receptive_field

strides = st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4)))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 5), st.integers(1, 5), strides,
       st.integers(0, 2**32 - 1))
def test_corr2d_strided_matches_torch(n_h, n_w, k_h, k_w, stride, seed):
    k_h, k_w = min(k_h, n_h), min(k_w, n_w)
    rng = np.random.default_rng(seed)
    X, K = rng.normal(size=(n_h, n_w)), rng.normal(size=(k_h, k_w))
    expected = F.conv2d(torch.tensor(X)[None, None], torch.tensor(K)[None, None], stride=stride)
    np.testing.assert_allclose(corr2d_strided(X, K, stride), expected[0, 0].numpy(),
                               rtol=1e-10, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 9), st.integers(2, 9), strides, st.integers(0, 2**32 - 1))
def test_stride_keeps_every_sth_output_of_stride_one(n_h, n_w, stride, seed):
    rng = np.random.default_rng(seed)
    X, K = rng.normal(size=(n_h, n_w)), rng.normal(size=(2, 2))
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    np.testing.assert_allclose(corr2d_strided(X, K, stride), corr2d(X, K)[::s_h, ::s_w])


def test_vertical_stride_3_horizontal_stride_2():
    X = pad2d(np.arange(9.0).reshape(3, 3), (1, 1, 1, 1))
    K = np.array([[0.0, 1.0], [2.0, 3.0]])
    np.testing.assert_array_equal(corr2d_strided(X, K, stride=(3, 2)), [[0, 8], [6, 8]])
    assert not np.array_equal(corr2d_strided(X, K, stride=(2, 3)), [[0, 8], [6, 8]])


def test_rows_after_the_last_window_are_dropped():
    X = np.random.default_rng(0).normal(size=(8, 8))
    K = np.ones((3, 3))
    Y = corr2d_strided(X, K, stride=3)  # windows start at rows 0 and 3: rows 6 and 7 are unread
    assert Y.shape == (2, 2)
    X[6:, :] = X[:, 6:] = 100.0
    np.testing.assert_array_equal(corr2d_strided(X, K, stride=3), Y)


@pytest.mark.parametrize("X, K, stride, message", [
    (np.zeros(3), np.zeros((1, 1)), 1, "expects 2-D X and K"),
    (np.zeros((2, 2)), np.zeros((3, 1)), 1, "larger than the input"),
    (np.zeros((4, 4)), np.zeros((2, 2)), 0, "stride must be >= 1"),
    (np.zeros((4, 4)), np.zeros((2, 2)), (1, 0), "stride must be >= 1"),
    (np.zeros((4, 4)), np.zeros((2, 2)), (1, 2, 3), "stride must be an int or a pair"),
])
def test_corr2d_strided_rejects_bad_input(X, K, stride, message):
    with pytest.raises(ValueError, match=message):
        corr2d_strided(X, K, stride)


def autograd_receptive_field(kernel_sizes, strides, size=80):
    """Rows and columns of the input on which the first output of the stack depends."""
    image = torch.ones(1, 1, size, size, requires_grad=True)
    out = image
    for k, s in zip(kernel_sizes, strides):
        out = F.conv2d(out, torch.ones(1, 1, *np.broadcast_to(k, 2)), stride=s)
    out[0, 0, 0, 0].backward()
    rows, cols = torch.nonzero(image.grad[0, 0], as_tuple=True)
    return rows.max().item() + 1, cols.max().item() + 1


sizes = st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(sizes, strides), min_size=1, max_size=3))
def test_receptive_field_matches_autograd(layers):
    kernel_sizes, layer_strides = zip(*layers)
    expected = autograd_receptive_field(kernel_sizes, layer_strides)
    assert receptive_field(list(kernel_sizes), list(layer_strides)) == expected


@pytest.mark.parametrize("kernel_sizes, strides, expected", [
    ([3], [1], (3, 3)), ([3, 3], [1, 1], (5, 5)), ([3, 3], [2, 1], (7, 7)),
    ([3, 3, 3], [2, 2, 1], (15, 15)), ([(3, 1), 2], [(1, 2), 1], (4, 3)), ([], [], (1, 1)),
])
def test_receptive_field_by_hand(kernel_sizes, strides, expected):
    assert receptive_field(kernel_sizes, strides) == expected


@pytest.mark.parametrize("kernel_sizes, strides, message", [
    ([3, 3], [1], "one stride per layer"),
    ([0], [1], "must be >= 1"),
    ([3], [(1, 0)], "must be >= 1"),
    ([(3, 3, 3)], [1], "kernel size must be an int or a pair"),
])
def test_receptive_field_rejects_bad_input(kernel_sizes, strides, message):
    with pytest.raises(ValueError, match=message):
        receptive_field(kernel_sizes, strides)
