"""solutions.onebyone against torch.nn.functional.linear and conv2d: a 1x1 convolution is linear."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import conv1x1, conv2d, linear


def as_tensor(a):
    return None if a is None else torch.tensor(a)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(1, 4), max_size=3), st.integers(1, 5), st.integers(1, 5),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_linear_matches_torch(batch_shape, in_features, out_features, has_bias, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(*batch_shape, in_features))
    W = rng.normal(size=(out_features, in_features))
    b = rng.normal(size=out_features) if has_bias else None
    expected = F.linear(as_tensor(x), as_tensor(W), as_tensor(b)).numpy()
    np.testing.assert_allclose(linear(x, W, b), expected, rtol=1e-10, atol=1e-10)


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 5), st.integers(1, 6),
       st.integers(1, 6), st.booleans(), st.integers(0, 2**32 - 1))
def test_conv1x1_matches_torch_and_conv2d(n, c_i, c_o, h, w, has_bias, seed):
    rng = np.random.default_rng(seed)
    x, W = rng.normal(size=(n, c_i, h, w)), rng.normal(size=(c_o, c_i, 1, 1))
    b = rng.normal(size=c_o) if has_bias else None
    Y = conv1x1(x, W, b)
    np.testing.assert_allclose(Y, F.conv2d(as_tensor(x), as_tensor(W), as_tensor(b)).numpy(),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(Y, conv2d(x, W, b), rtol=1e-10, atol=1e-10)


def test_one_pixel_is_a_matrix_vector_product_plus_bias():
    rng = np.random.default_rng(0)
    x, W, b = rng.normal(size=(1, 3, 4, 5)), rng.normal(size=(2, 3, 1, 1)), rng.normal(size=2)
    Y = conv1x1(x, W, b)
    np.testing.assert_allclose(Y[0, :, 2, 3], W[:, :, 0, 0] @ x[0, :, 2, 3] + b)


def test_a_1x1_convolution_has_c_o_biases_not_c_i_times_c_o():
    layer = torch.nn.Conv2d(3, 4, kernel_size=1)
    assert layer.bias.shape == (4,) and layer.weight.shape == (4, 3, 1, 1)
    assert sum(p.numel() for p in layer.parameters()) == 3 * 4 + 4


def test_reshaping_without_moving_the_channels_is_wrong():
    rng = np.random.default_rng(1)
    x, W = rng.normal(size=(1, 3, 2, 4)), rng.normal(size=(2, 3, 1, 1))
    scrambled = linear(x.reshape(-1, 3), W[:, :, 0, 0]).reshape(1, 2, 2, 4)
    assert not np.allclose(scrambled, conv1x1(x, W))


@pytest.mark.parametrize("x, W, b, message", [
    (np.zeros((2, 3)), np.zeros(3), None, "weight must be 2-D"),
    (np.zeros((2, 3)), np.zeros((4, 2)), None, "last axis must have 2 features"),
    (np.zeros(()), np.zeros((4, 2)), None, "last axis must have 2 features"),
    (np.zeros((2, 3)), np.zeros((4, 3)), np.zeros(3), r"bias must have shape \(4,\)"),
])
def test_linear_rejects_bad_input(x, W, b, message):
    with pytest.raises(ValueError, match=message):
        linear(x, W, b)


@pytest.mark.parametrize("x, W, b, message", [
    (np.zeros((3, 2, 2)), np.zeros((4, 3, 1, 1)), None, "input must be 4-D"),
    (np.zeros((1, 3, 2, 2)), np.zeros((4, 3, 3, 3)), None, r"weight must be \(C_out, C_in, 1, 1\)"),
    (np.zeros((1, 3, 2, 2)), np.zeros((4, 3)), None, r"weight must be \(C_out, C_in, 1, 1\)"),
    (np.zeros((1, 3, 2, 2)), np.zeros((4, 2, 1, 1)), None, "3 channels but weight expects 2"),
    (np.zeros((1, 3, 2, 2)), np.zeros((4, 3, 1, 1)), np.zeros(3), r"bias must have shape \(4,\)"),
])
def test_conv1x1_rejects_bad_input(x, W, b, message):
    with pytest.raises(ValueError, match=message):
        conv1x1(x, W, b)
