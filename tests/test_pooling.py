"""solutions.pooling against torch.nn.functional's pooling and autograd, traps included."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import (avg_pool2d, avg_pool2d_backward, conv_output_size, max_pool2d,
                       max_pool2d_backward, pool_output_size)


def torch_pool(pool, X, grad_output=None, **kwargs):
    """PyTorch's pooled output of X and, given grad_output, the gradient autograd sends to X."""
    X = torch.tensor(X, requires_grad=True)
    Y = pool(X, **kwargs)
    if grad_output is None:
        return Y.detach().numpy()
    Y.backward(torch.tensor(grad_output))
    return Y.detach().numpy(), X.grad.numpy()


def torch_max(X, grad_output=None, **kwargs):
    return torch_pool(F.max_pool2d, X, grad_output, **kwargs)


def torch_avg(X, grad_output=None, **kwargs):
    return torch_pool(F.avg_pool2d, X, grad_output, **kwargs)


def one_or_pair(values):
    return st.one_of(values, st.tuples(values, values))


@st.composite
def pool_cases(draw, overlapping=False):
    """A valid pooling layer: input X, keyword arguments, and a grad_output for its output.

    Half the inputs hold small integers, so that windows often have tied maxima.
    """
    k_h, k_w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if overlapping:  # every window overlaps its neighbours on both axes
        stride = (draw(st.integers(1, max(1, k_h - 1))), draw(st.integers(1, max(1, k_w - 1))))
        k_h, k_w = max(k_h, 2), max(k_w, 2)
    else:
        stride = draw(st.one_of(st.none(), one_or_pair(st.integers(1, 4))))
    p_h, p_w = draw(st.integers(0, k_h // 2)), draw(st.integers(0, k_w // 2))
    h = draw(st.integers(max(1, k_h - 2 * p_h), 9))
    w = draw(st.integers(max(1, k_w - 2 * p_w), 9))
    kernel_size = k_h if k_h == k_w and draw(st.booleans()) else (k_h, k_w)
    padding = p_h if p_h == p_w and draw(st.booleans()) else (p_h, p_w)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)
    ties = draw(st.booleans())
    X = rng.integers(-2, 3, size=shape).astype(float) if ties else rng.normal(size=shape)
    kwargs = {"kernel_size": kernel_size, "stride": stride, "padding": padding,
              "ceil_mode": draw(st.booleans())}
    grad_output = rng.normal(size=torch_max(X, **kwargs).shape)
    return X, kwargs, grad_output


# Forward and backward against PyTorch on many shapes.

@settings(max_examples=150, deadline=None)
@given(st.integers(1, 12), st.integers(1, 5), st.integers(0, 3),
       st.one_of(st.none(), st.integers(1, 4)), st.booleans())
def test_pool_output_size_matches_torch_or_both_refuse(n, k, padding, stride, ceil_mode):
    try:
        Y = F.max_pool1d(torch.zeros(1, 1, n), k, stride, padding, ceil_mode=ceil_mode)
    except RuntimeError:
        with pytest.raises(ValueError):
            pool_output_size(n, k, padding, stride, ceil_mode)
        return
    assert pool_output_size(n, k, padding, stride, ceil_mode) == Y.shape[-1]


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 12), st.integers(1, 5), st.integers(0, 2), st.integers(1, 4))
def test_pool_output_size_in_floor_mode_is_the_convolution_formula(n, k, padding, stride):
    if padding <= k // 2 and k <= n + 2 * padding:
        assert pool_output_size(n, k, padding, stride) == conv_output_size(n, k, padding, stride)


@settings(max_examples=100, deadline=None)
@given(case=pool_cases())
def test_max_pool2d_and_its_backward_match_torch(case):
    X, kwargs, grad_output = case
    expected, expected_grad = torch_max(X, grad_output, **kwargs)
    np.testing.assert_array_equal(max_pool2d(X, **kwargs), expected)
    np.testing.assert_allclose(max_pool2d_backward(grad_output, X, **kwargs), expected_grad,
                               rtol=1e-12, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(case=pool_cases(), count_include_pad=st.booleans())
def test_avg_pool2d_and_its_backward_match_torch(case, count_include_pad):
    X, kwargs, grad_output = case
    kwargs["count_include_pad"] = count_include_pad
    expected, expected_grad = torch_avg(X, grad_output, **kwargs)
    np.testing.assert_allclose(avg_pool2d(X, **kwargs), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(avg_pool2d_backward(grad_output, X, **kwargs), expected_grad,
                               rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(case=pool_cases(overlapping=True), count_include_pad=st.booleans())
def test_backward_with_overlapping_windows_matches_autograd(case, count_include_pad):
    X, kwargs, grad_output = case
    np.testing.assert_allclose(max_pool2d_backward(grad_output, X, **kwargs),
                               torch_max(X, grad_output, **kwargs)[1], rtol=1e-12, atol=1e-12)
    kwargs["count_include_pad"] = count_include_pad
    np.testing.assert_allclose(avg_pool2d_backward(grad_output, X, **kwargs),
                               torch_avg(X, grad_output, **kwargs)[1], rtol=1e-12, atol=1e-12)


# The traps, one at a time.

def test_ties_send_the_gradient_to_the_first_maximum_in_row_major_order():
    X = np.array([[0.0, 5.0, 5.0],
                  [5.0, 5.0, 1.0],
                  [5.0, 0.0, 5.0]])[None, None]
    ones = np.ones((1, 1, 2, 2))
    grad = max_pool2d_backward(ones, X, 2, stride=1)
    # windows (0, 0) and (0, 1) both pick (0, 1); (1, 0) picks (1, 0); (1, 1) picks (1, 1)
    np.testing.assert_array_equal(grad[0, 0], [[0, 2, 0], [1, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(grad, torch_max(X, ones, kernel_size=2, stride=1)[1])


def test_a_flat_input_gives_each_window_gradient_to_its_top_left_cell():
    X, ones = np.zeros((1, 1, 3, 3)), np.ones((1, 1, 2, 2))
    grad = max_pool2d_backward(ones, X, 2, stride=1)
    np.testing.assert_array_equal(grad[0, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(grad, torch_max(X, ones, kernel_size=2, stride=1)[1])


def test_overlapping_windows_add_up_their_gradients():
    X = np.zeros((1, 1, 5, 5))
    X[0, 0, 2, 2] = 1.0  # the maximum of all nine 3x3 windows
    grad_output = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    grad = max_pool2d_backward(grad_output, X, 3, stride=1)
    assert grad[0, 0, 2, 2] == 45 and np.count_nonzero(grad) == 1
    np.testing.assert_array_equal(grad, torch_max(X, grad_output, kernel_size=3, stride=1)[1])
    avg_grad = avg_pool2d_backward(grad_output, X, 3, stride=1)
    assert avg_grad[0, 0, 2, 2] == pytest.approx(45 / 9)  # in all nine windows, a ninth of each
    assert avg_grad[0, 0, 0, 0] == pytest.approx(1 / 9)   # in the first window only
    np.testing.assert_allclose(avg_grad, torch_avg(X, grad_output, kernel_size=3, stride=1)[1])


def test_max_pool_padding_is_minus_infinity_not_zero():
    X = -1.0 - np.arange(16.0).reshape(1, 1, 4, 4)  # every value negative
    Y = max_pool2d(X, 3, stride=2, padding=1)
    assert (Y < 0).all()
    np.testing.assert_array_equal(Y, torch_max(X, kernel_size=3, stride=2, padding=1))
    np.testing.assert_array_equal(Y, max_pool2d(np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)),
                                                       constant_values=-np.inf), 3, stride=2))


def test_count_include_pad_decides_the_divisor_at_the_border():
    X = np.ones((1, 1, 3, 3))
    with_pad = avg_pool2d(X, 3, stride=1, padding=1)
    without = avg_pool2d(X, 3, stride=1, padding=1, count_include_pad=False)
    assert with_pad[0, 0, 0, 0] == pytest.approx(4 / 9) and with_pad[0, 0, 1, 1] == 1
    np.testing.assert_array_equal(without, np.ones((1, 1, 3, 3)))
    np.testing.assert_allclose(with_pad, torch_avg(X, kernel_size=3, stride=1, padding=1))


def test_the_default_stride_is_the_window():
    X = np.random.default_rng(0).normal(size=(2, 3, 7, 8))
    assert max_pool2d(X, 3).shape == (2, 3, 2, 2)
    np.testing.assert_array_equal(max_pool2d(X, (3, 2)), max_pool2d(X, (3, 2), stride=(3, 2)))
    np.testing.assert_array_equal(avg_pool2d(X, 2), avg_pool2d(X, 2, stride=2))


def test_a_stride_that_does_not_divide_drops_the_last_rows():
    X = np.random.default_rng(1).normal(size=(1, 1, 5, 5))
    changed = X.copy()
    changed[0, 0, 4, :] = changed[0, 0, :, 4] = 100.0  # the row and column no window reaches
    np.testing.assert_array_equal(max_pool2d(X, 2), max_pool2d(changed, 2))
    grad = max_pool2d_backward(np.ones((1, 1, 2, 2)), X, 2)
    assert not grad[0, 0, 4, :].any() and not grad[0, 0, :, 4].any() and grad.sum() == 4


def test_ceil_mode_keeps_a_last_partial_window_inside_the_input():
    X = np.arange(1.0, 6.0).reshape(1, 1, 1, 5)
    np.testing.assert_array_equal(max_pool2d(X, (1, 2), ceil_mode=True), [[[[2, 4, 5]]]])
    np.testing.assert_array_equal(avg_pool2d(X, (1, 2), ceil_mode=True), [[[[1.5, 3.5, 5]]]])
    # ceil((5 + 2 - 3) / 3) + 1 = 3, but that window would start in the right padding
    assert pool_output_size(5, 3, padding=1, stride=3, ceil_mode=True) == 2
    assert F.max_pool1d(torch.zeros(1, 1, 5), 3, 3, 1, ceil_mode=True).shape[-1] == 2


def test_ceil_mode_allows_a_window_longer_than_the_input():
    X = np.array([[[[1.0, 2.0, 3.0]]]])
    for pool, torch_fn in [(max_pool2d, torch_max), (avg_pool2d, torch_avg)]:
        Y = pool(X, (1, 4), stride=2, ceil_mode=True)
        np.testing.assert_allclose(Y, torch_fn(X, kernel_size=(1, 4), stride=2, ceil_mode=True))
    assert avg_pool2d(X, (1, 4), stride=2, ceil_mode=True)[0, 0, 0, 0] == 2  # (1+2+3) / 3


def test_each_channel_is_pooled_on_its_own():
    X = np.random.default_rng(2).normal(size=(2, 4, 6, 6))
    order = [2, 0, 3, 1]
    for pool in (max_pool2d, avg_pool2d):
        Y = pool(X, 2)
        assert Y.shape == (2, 4, 3, 3)
        np.testing.assert_array_equal(pool(X[:, order], 2), Y[:, order])
        np.testing.assert_array_equal(pool(X[:, 1:2], 2), Y[:, 1:2])


def test_pooling_has_no_parameters():
    for layer in (torch.nn.MaxPool2d(3), torch.nn.AvgPool2d(2, padding=1)):
        assert sum(p.numel() for p in layer.parameters()) == 0


def test_nan_wins_the_max_and_its_last_occurrence_gets_the_gradient():
    X = np.array([[1.0, np.nan], [np.nan, 9.0]])[None, None]
    assert np.isnan(max_pool2d(X, 2)).all()
    grad = max_pool2d_backward(np.ones((1, 1, 1, 1)), X, 2)
    np.testing.assert_array_equal(grad[0, 0], [[0, 0], [1, 0]])
    np.testing.assert_array_equal(grad, torch_max(X, np.ones((1, 1, 1, 1)), kernel_size=2)[1])


def test_a_window_of_minus_infinity_gives_its_gradient_to_its_first_input_cell():
    X, grad_output = np.full((1, 1, 2, 2), -np.inf), np.ones((1, 1, 2, 2))
    grad = max_pool2d_backward(grad_output, X, 3, stride=1, padding=1)
    np.testing.assert_array_equal(grad[0, 0], [[4, 0], [0, 0]])  # never the padding
    np.testing.assert_array_equal(
        grad, torch_max(X, grad_output, kernel_size=3, stride=1, padding=1)[1])


# Every ValueError.

POOLS = [max_pool2d, avg_pool2d,
         lambda X, *args, **kwargs: max_pool2d_backward(np.zeros((1, 1, 1, 1)), X, *args, **kwargs),
         lambda X, *args, **kwargs: avg_pool2d_backward(np.zeros((1, 1, 1, 1)), X, *args, **kwargs)]


@pytest.mark.parametrize("pool", POOLS, ids=["max", "avg", "max_backward", "avg_backward"])
@pytest.mark.parametrize("shape, kwargs, message", [
    ((3, 4, 4), {"kernel_size": 2}, r"input must be 4-D \(N, C, H, W\)"),
    ((1, 1, 4, 4), {"kernel_size": 0}, "kernel_size and stride must be >= 1"),
    ((1, 1, 4, 4), {"kernel_size": 2, "stride": 0}, "kernel_size and stride must be >= 1"),
    ((1, 1, 4, 4), {"kernel_size": 2, "stride": (1, -1)}, "kernel_size and stride must be >= 1"),
    ((1, 1, 4, 4), {"kernel_size": 3, "padding": -1}, r"padding must be between 0 and half"),
    ((1, 1, 4, 4), {"kernel_size": 3, "padding": (0, 2)}, r"half the window \(3 // 2 = 1\), got 2"),
    ((1, 1, 4, 4), {"kernel_size": 5}, "a window of 5 does not fit an input of 4 padded by 0"),
    ((1, 1, 0, 4), {"kernel_size": 1}, "a window of 1 does not fit an input of 0"),
    ((1, 1, 4, 4), {"kernel_size": (2, 2, 2)}, "kernel_size must be an int or a pair"),
    ((1, 1, 4, 4), {"kernel_size": 2, "padding": "same"}, "padding must be an int or a pair"),
])
def test_bad_arguments_raise_a_clear_value_error(pool, shape, kwargs, message):
    with pytest.raises(ValueError, match=message):
        pool(np.zeros(shape), **kwargs)


@pytest.mark.parametrize("backward", [max_pool2d_backward, avg_pool2d_backward])
@pytest.mark.parametrize("grad_shape", [(1, 1, 2, 2), (2, 3, 3, 3), (3, 3, 2)])
def test_backward_rejects_a_grad_output_of_the_wrong_shape(backward, grad_shape):
    message = r"grad_output must have the pooled output's shape \(2, 3, 2, 2\)"
    with pytest.raises(ValueError, match=message):
        backward(np.zeros(grad_shape), np.zeros((2, 3, 4, 4)), 2)
