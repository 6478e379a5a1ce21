"""solutions.convolution against torch.nn.functional.conv2d, the way the chapter checks it."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import conv2d, conv2d_loops, conv_output_size, corr2d
from solutions.convolution import pair


def torch_conv2d(X, W, b=None, stride=1, padding=0, dilation=1):
    with warnings.catch_warnings():  # PyTorch warns that "same" with even kernels copies the input
        warnings.filterwarnings("ignore", "Using padding='same'", UserWarning)
        return F.conv2d(torch.tensor(X), torch.tensor(W), None if b is None else torch.tensor(b),
                        stride=stride, padding=padding, dilation=dilation).numpy()


@st.composite
def conv_cases(draw, max_size=9):
    """A random layer: input, weight, optional bias, stride, padding (int, pair or string)."""
    n, c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    k_h, k_w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    p_h, p_w = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    padding = draw(st.sampled_from([p_h, (p_h, p_w), "valid", "same"]))
    # Rows (columns) added on each side, at least; the input must have k - 2 * that or more.
    if padding in ("valid", "same"):
        pad_h, pad_w = (0, 0) if padding == "valid" else (k_h // 2, k_w // 2)
    else:
        pad_h, pad_w = pair(padding)
    h = draw(st.integers(max(1, k_h - 2 * pad_h), max_size))
    w = draw(st.integers(max(1, k_w - 2 * pad_w), max_size))
    stride = draw(st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    if padding == "same":
        stride = 1  # PyTorch refuses "same" with a stride
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X, W = rng.normal(size=(n, c_in, h, w)), rng.normal(size=(c_out, c_in, k_h, k_w))
    b = draw(st.sampled_from([None, rng.normal(size=c_out)]))
    return X, W, b, stride, padding


def test_corr2d_worked_example():
    X = np.arange(9.0).reshape(3, 3)
    K = np.array([[0.0, 1.0], [2.0, 3.0]])
    np.testing.assert_array_equal(corr2d(X, K), [[19, 25], [37, 43]])


def test_corr2d_finds_vertical_edges():
    X = np.ones((6, 8))
    X[:, 2:6] = 0
    Y = corr2d(X, np.array([[1.0, -1.0]]))
    assert set(np.nonzero(Y)[1]) == {1, 5}
    np.testing.assert_array_equal(Y[:, 1], 1)
    np.testing.assert_array_equal(Y[:, 5], -1)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8), st.integers(1, 8), st.integers(1, 8), st.integers(1, 8),
       st.integers(0, 2**32 - 1))
def test_corr2d_matches_torch(n_h, n_w, k_h, k_w, seed):
    k_h, k_w = min(k_h, n_h), min(k_w, n_w)
    rng = np.random.default_rng(seed)
    X, K = rng.normal(size=(n_h, n_w)), rng.normal(size=(k_h, k_w))
    np.testing.assert_allclose(corr2d(X, K), torch_conv2d(X[None, None], K[None, None])[0, 0],
                               rtol=1e-10, atol=1e-10)


def test_true_convolution_is_correlation_with_a_flipped_kernel():
    rng = np.random.default_rng(0)
    X, K = rng.normal(size=(6, 5)), rng.normal(size=(3, 2))
    flipped = corr2d(X, K[::-1, ::-1])
    by_definition = np.array([[sum(X[i + a, j + b] * K[2 - a, 1 - b]
                                   for a in range(3) for b in range(2))
                               for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(flipped, by_definition)
    assert not np.allclose(flipped, corr2d(X, K))


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 40), st.integers(1, 7), st.integers(0, 4), st.integers(1, 5),
       st.integers(1, 3))
def test_conv_output_size_matches_torch(n, k, padding, stride, dilation):
    if dilation * (k - 1) + 1 > n + 2 * padding:
        with pytest.raises(ValueError, match="kernel spans"):
            conv_output_size(n, k, padding, stride, dilation)
        return
    expected = F.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=stride,
                        padding=padding, dilation=dilation).shape[-1]
    assert conv_output_size(n, k, padding, stride, dilation) == expected


@pytest.mark.parametrize("n, k, p, s, expected", [
    (8, 3, 0, 1, 6), (8, 3, 1, 1, 8), (8, 3, 1, 2, 4), (7, 2, 0, 2, 3), (224, 11, 2, 4, 55)])
def test_conv_output_size_formula(n, k, p, s, expected):
    assert conv_output_size(n, k, padding=p, stride=s) == expected


@pytest.mark.parametrize("kwargs", [{"stride": 0}, {"dilation": 0}, {"padding": -1}])
def test_conv_output_size_rejects_bad_hyperparameters(kwargs):
    with pytest.raises(ValueError):
        conv_output_size(8, 3, **kwargs)


@pytest.mark.parametrize("conv", [conv2d, conv2d_loops])
@settings(max_examples=80, deadline=None)
@given(case=conv_cases())
def test_conv2d_matches_torch(conv, case):
    X, W, b, stride, padding = case
    np.testing.assert_allclose(conv(X, W, b, stride=stride, padding=padding),
                               torch_conv2d(X, W, b, stride, padding), rtol=1e-9, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(case=conv_cases(max_size=7))
def test_fast_and_loop_conv2d_agree(case):
    X, W, b, stride, padding = case
    np.testing.assert_allclose(conv2d(X, W, b, stride, padding),
                               conv2d_loops(X, W, b, stride, padding), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("conv", [conv2d, conv2d_loops])
def test_conv2d_edge_shapes(conv):
    rng = np.random.default_rng(1)
    cases = [  # kernel = input, 1x1, stride larger than the input, pair padding on one axis
        (rng.normal(size=(2, 3, 5, 4)), rng.normal(size=(2, 3, 5, 4)), 1, 0),
        (rng.normal(size=(1, 4, 6, 6)), rng.normal(size=(3, 4, 1, 1)), 1, 0),
        (rng.normal(size=(1, 1, 3, 3)), rng.normal(size=(1, 1, 2, 2)), 5, 0),
        (rng.normal(size=(1, 2, 4, 5)), rng.normal(size=(1, 2, 3, 3)), (1, 2), (0, 1)),
    ]
    for X, W, stride, padding in cases:
        b = rng.normal(size=W.shape[0])
        np.testing.assert_allclose(conv(X, W, b, stride, padding),
                                   torch_conv2d(X, W, b, stride, padding), atol=1e-10)


@pytest.mark.parametrize("conv", [conv2d, conv2d_loops])
def test_same_padding_puts_the_odd_row_and_column_at_the_bottom_right(conv):
    X = np.arange(1.0, 21.0).reshape(1, 1, 4, 5)
    W = np.zeros((1, 1, 4, 2))
    W[0, 0, 0, 0] = 1.0  # each output copies the top-left pixel of its window
    # k_h = 4: 3 rows of padding, 1 above and 2 below; k_w = 2: 1 column, on the right.
    expected = np.pad(X, ((0, 0), (0, 0), (1, 2), (0, 1)))[:, :, :4, :5]
    np.testing.assert_array_equal(conv(X, W, padding="same"), expected)
    np.testing.assert_array_equal(torch_conv2d(X, W, padding="same"), expected)


@pytest.mark.parametrize("conv", [conv2d, conv2d_loops])
def test_same_keeps_the_size_and_valid_adds_nothing(conv):
    rng = np.random.default_rng(4)
    X, W = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(4, 3, 5, 3))
    assert conv(X, W, padding="same").shape == (2, 4, 6, 5)
    np.testing.assert_array_equal(conv(X, W, padding="valid"), conv(X, W, padding=0))
    np.testing.assert_array_equal(conv(X, W, padding="same"), conv(X, W, padding=(2, 1)))


def test_conv2d_one_channel_is_corr2d_plus_bias():
    rng = np.random.default_rng(2)
    X, K = rng.normal(size=(7, 6)), rng.normal(size=(3, 3))
    Y = conv2d(X[None, None], K[None, None], bias=np.array([0.5]))
    np.testing.assert_allclose(Y[0, 0], corr2d(X, K) + 0.5)


@pytest.mark.parametrize("conv", [conv2d, conv2d_loops])
@pytest.mark.parametrize("input_shape, weight_shape, kwargs, message", [
    ((1, 3, 5, 5), (2, 4, 3, 3), {}, "3 channels but weight expects 4"),
    ((1, 1, 3, 3), (1, 1, 5, 5), {}, "kernel height 5 is larger than the padded input height 3"),
    ((1, 1, 3, 3), (1, 1, 2, 6), {"padding": 1}, "kernel width 6 is larger"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"stride": 0}, "stride must be >= 1"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"stride": (1, 0)}, "stride must be >= 1"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"padding": -1}, "padding must be >= 0"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"stride": (1, 2, 3)}, "stride must be an int or a pair"),
    ((1, 5, 5), (1, 1, 3, 3), {}, "input must be 4-D"),
    ((1, 1, 5, 5), (1, 3, 3), {}, "weight must be 4-D"),
    ((1, 1, 5, 5), (2, 1, 3, 3), {"bias": np.zeros(3)}, r"bias must have shape \(2,\)"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"padding": "same", "stride": 2}, "not supported for strided"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"padding": "same", "stride": (1, 2)}, "not supported for"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"padding": "full"}, "padding must be an int, a pair, 'valid'"),
    ((1, 1, 3, 3), (1, 1, 4, 4), {"padding": "valid"}, "kernel height 4 is larger"),
])
def test_conv2d_rejects_bad_input(conv, input_shape, weight_shape, kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv(np.zeros(input_shape), np.zeros(weight_shape), **kwargs)


@pytest.mark.parametrize("X, K", [(np.zeros((3,)), np.zeros((2, 2))),
                                  (np.zeros((2, 2)), np.zeros((3, 3)))])
def test_corr2d_rejects_bad_input(X, K):
    with pytest.raises(ValueError):
        corr2d(X, K)
