"""solutions.multichannel against torch.nn.functional.conv2d: channels summed in, stacked out."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import conv2d, corr2d, corr2d_multi_in, corr2d_multi_in_out


@st.composite
def multi_channel_cases(draw):
    """An image (c_i, n_h, n_w) and a weight (c_o, c_i, k_h, k_w) that fits it."""
    c_i, c_o = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    n_h, n_w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    k_h, k_w = draw(st.integers(1, n_h)), draw(st.integers(1, n_w))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.normal(size=(c_i, n_h, n_w)), rng.normal(size=(c_o, c_i, k_h, k_w))


def torch_conv(X, K):
    return F.conv2d(torch.tensor(X)[None], torch.tensor(K))[0].numpy()


@settings(max_examples=80, deadline=None)
@given(case=multi_channel_cases())
def test_corr2d_multi_in_matches_torch_with_one_output_channel(case):
    X, K = case
    np.testing.assert_allclose(corr2d_multi_in(X, K[0]), torch_conv(X, K[:1])[0],
                               rtol=1e-10, atol=1e-10)


@settings(max_examples=80, deadline=None)
@given(case=multi_channel_cases())
def test_corr2d_multi_in_out_matches_torch_and_conv2d(case):
    X, K = case
    Y = corr2d_multi_in_out(X, K)
    np.testing.assert_allclose(Y, torch_conv(X, K), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(Y, conv2d(X[None], K)[0], rtol=1e-10, atol=1e-10)


def test_two_input_channels_worked_example():
    X = np.stack([np.arange(9.0).reshape(3, 3), np.arange(1.0, 10.0).reshape(3, 3)])
    K = np.stack([np.array([[0.0, 1.0], [2.0, 3.0]]), np.array([[1.0, 2.0], [3.0, 4.0]])])
    np.testing.assert_array_equal(corr2d_multi_in(X, K), [[56, 72], [104, 120]])
    np.testing.assert_array_equal(corr2d_multi_in(X, K), corr2d(X[0], K[0]) + corr2d(X[1], K[1]))


def test_each_output_channel_has_its_own_kernel():
    rng = np.random.default_rng(0)
    X, K = rng.normal(size=(3, 5, 4)), rng.normal(size=(2, 3, 2, 2))
    Y = corr2d_multi_in_out(X, K)
    assert Y.shape == (2, 4, 3)
    for o in range(2):
        np.testing.assert_allclose(Y[o], corr2d_multi_in(X, K[o]))


@pytest.mark.parametrize("function, X, K, message", [
    (corr2d_multi_in, np.zeros((3, 3)), np.zeros((1, 2, 2)), "expects 3-D X and K"),
    (corr2d_multi_in, np.zeros((2, 3, 3)), np.zeros((3, 2, 2)), "X has 2 channels but K has 3"),
    (corr2d_multi_in, np.zeros((1, 2, 2)), np.zeros((1, 3, 3)), "larger than the input"),
    (corr2d_multi_in_out, np.zeros((2, 3, 3)), np.zeros((2, 2, 2)), "K must be 4-D"),
    (corr2d_multi_in_out, np.zeros((2, 3, 3)), np.zeros((4, 3, 2, 2)), "X has 2 channels but K"),
])
def test_multi_channel_rejects_bad_input(function, X, K, message):
    with pytest.raises(ValueError, match=message):
        function(X, K)
