"""solutions.batchnorm against torch.nn.functional.batch_norm, autograd and PyTorch's own fusion."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.fusion import fuse_conv_bn_weights

from solutions import batch_norm, batch_norm_backward, conv2d, fuse_conv_bn


def t(array):
    return None if array is None else torch.tensor(array)


@st.composite
def bn_cases(draw):
    """A random batch of 2-D, 3-D or 4-D input, its running statistics and affine parameters."""
    ndim = draw(st.integers(2, 4))
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    spatial = [draw(st.integers(1, 4)) for _ in range(ndim - 2)]
    if n * int(np.prod(spatial)) < 2:
        n = 2  # training needs two values per channel
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=(n, c, *spatial)) * rng.uniform(0.1, 5) + rng.normal()
    running_mean, running_var = rng.normal(size=c), rng.uniform(0.1, 3, size=c)
    weight = draw(st.sampled_from([None, rng.normal(size=c)]))
    bias = draw(st.sampled_from([None, rng.normal(size=c)]))
    return x, running_mean, running_var, weight, bias


@settings(max_examples=80, deadline=None)
@given(case=bn_cases(), training=st.booleans(), momentum=st.floats(0, 1),
       eps=st.sampled_from([1e-5, 1e-3, 0.5]))
def test_batch_norm_matches_torch_and_updates_running_statistics_in_place(
        case, training, momentum, eps):
    x, running_mean, running_var, weight, bias = case
    torch_mean, torch_var = t(running_mean), t(running_var)  # copies, updated by torch
    expected = F.batch_norm(t(x), torch_mean, torch_var, t(weight), t(bias), training=training,
                            momentum=momentum, eps=eps)
    ours_mean, ours_var = running_mean.copy(), running_var.copy()
    y = batch_norm(x, ours_mean, ours_var, weight, bias, training, momentum, eps)
    np.testing.assert_allclose(y, expected.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ours_mean, torch_mean.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours_var, torch_var.numpy(), rtol=1e-12, atol=1e-12)
    if not training:
        np.testing.assert_array_equal(ours_mean, running_mean)
        np.testing.assert_array_equal(ours_var, running_var)


def test_running_statistics_take_momentum_on_the_new_value_and_the_unbiased_variance():
    x = np.array([[1.0], [3.0]])  # one feature, batch mean 2, biased var 1, unbiased var 2
    running_mean, running_var = np.array([10.0]), np.array([5.0])
    batch_norm(x, running_mean, running_var, training=True, momentum=0.1)
    np.testing.assert_allclose(running_mean, [0.9 * 10 + 0.1 * 2])
    np.testing.assert_allclose(running_var, [0.9 * 5 + 0.1 * 2])


def test_training_normalizes_with_the_biased_batch_variance():
    x = np.array([[1.0], [3.0]])
    y = batch_norm(x, None, None, training=True, eps=0.0)
    np.testing.assert_allclose(y, [[-1.0], [1.0]])


def test_eps_is_inside_the_square_root():
    x, var = np.array([[2.0]]), np.array([0.0])
    y = batch_norm(x, np.array([0.0]), var, eps=0.25)
    np.testing.assert_allclose(y, [[2.0 / np.sqrt(0.25)]])  # not 2 / (0 + 0.25)


def test_statistics_are_per_channel_over_batch_and_positions():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 2, 4, 5)) * np.array([1.0, 10.0])[None, :, None, None]
    y = batch_norm(x, None, None, training=True, eps=0.0)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-12)


def test_a_constant_channel_gives_its_bias_not_nan():
    x = np.full((4, 1, 2, 2), 3.0)
    y = batch_norm(x, None, None, weight=np.array([2.0]), bias=np.array([0.5]), training=True)
    np.testing.assert_array_equal(y, 0.5)


@settings(max_examples=60, deadline=None)
@given(case=bn_cases(), eps=st.sampled_from([1e-5, 0.1]))
def test_batch_norm_backward_matches_autograd(case, eps):
    x, _, _, weight, _ = case
    rng = np.random.default_rng(x.size)
    grad_output = rng.normal(size=x.shape)
    x_t = torch.tensor(x, requires_grad=True)
    w_t = torch.tensor(np.ones(x.shape[1]) if weight is None else weight, requires_grad=True)
    b_t = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    F.batch_norm(x_t, None, None, w_t, b_t, training=True, eps=eps).backward(t(grad_output))
    grad_input, grad_weight, grad_bias = batch_norm_backward(grad_output, x, weight, eps)
    np.testing.assert_allclose(grad_input, x_t.grad.numpy(), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(grad_weight, w_t.grad.numpy(), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(grad_bias, b_t.grad.numpy(), rtol=1e-8, atol=1e-8)


def test_batch_norm_backward_is_not_just_the_local_scale():
    """The batch mean and variance depend on x: dropping that path is the usual mistake."""
    rng = np.random.default_rng(1)
    x, grad_output = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    grad_input, _, _ = batch_norm_backward(grad_output, x)
    assert not np.allclose(grad_input, grad_output / np.sqrt(x.var(axis=0) + 1e-5))
    np.testing.assert_allclose(grad_input.sum(axis=0), 0, atol=1e-12)  # the mean is removed


@st.composite
def conv_bn_cases(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    c_in, c_out, k = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    x = rng.normal(size=(2, c_in, k + draw(st.integers(0, 4)), k + draw(st.integers(0, 4))))
    optional = lambda: draw(st.sampled_from([None, rng.normal(size=c_out)]))  # noqa: E731
    return (x, rng.normal(size=(c_out, c_in, k, k)), optional(), rng.normal(size=c_out),
            rng.uniform(0.01, 4, size=c_out), optional(), optional(), draw(st.integers(0, 1)))


@settings(max_examples=60, deadline=None)
@given(case=conv_bn_cases(), eps=st.sampled_from([1e-5, 0.3]))
def test_fused_convolution_equals_convolution_then_eval_batch_norm(case, eps):
    x, w, b, mean, var, gamma, beta, padding = case
    fused_w, fused_b = fuse_conv_bn(w, b, mean, var, gamma, beta, eps)
    expected = batch_norm(conv2d(x, w, b, padding=padding), mean, var, gamma, beta, eps=eps)
    np.testing.assert_allclose(conv2d(x, fused_w, fused_b, padding=padding), expected,
                               rtol=1e-9, atol=1e-9)
    torch_out = F.batch_norm(F.conv2d(t(x), t(w), t(b), padding=padding), t(mean), t(var),
                             t(gamma), t(beta), eps=eps)
    np.testing.assert_allclose(expected, torch_out.numpy(), rtol=1e-9, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(case=conv_bn_cases())
def test_fused_weights_match_pytorchs_fusion(case):
    _, w, b, mean, var, gamma, beta, _ = case
    torch_w, torch_b = fuse_conv_bn_weights(t(w), t(b), t(mean), t(var), 1e-5, t(gamma), t(beta))
    fused_w, fused_b = fuse_conv_bn(w, b, mean, var, gamma, beta)
    np.testing.assert_allclose(fused_w, torch_w.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(fused_b, torch_b.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_fusing_a_linear_layer():
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(6, 4)), rng.normal(size=(3, 4)), rng.normal(size=3)
    mean, var, gamma, beta = rng.normal(size=3), rng.uniform(1, 2, 3), rng.normal(size=3), None
    fused_w, fused_b = fuse_conv_bn(w, b, mean, var, gamma, beta)
    np.testing.assert_allclose(x @ fused_w.T + fused_b,
                               batch_norm(x @ w.T + b, mean, var, gamma, beta))


GOOD = dict(input=np.zeros((2, 3)), running_mean=np.zeros(3), running_var=np.ones(3))


@pytest.mark.parametrize("change, message", [
    ({"input": np.zeros(3)}, r"input must be \(N, C\)"),
    ({"running_mean": np.zeros(2)}, r"running_mean must have shape \(3,\)"),
    ({"weight": np.ones((3, 1))}, r"weight must have shape \(3,\)"),
    ({"bias": np.ones(4)}, r"bias must have shape \(3,\)"),
    ({"running_var": [1.0, 1.0, 1.0]}, "running_var must be a float NumPy array"),
    ({"running_mean": np.zeros(3, dtype=int)}, "running_mean must be a float NumPy array"),
    ({"running_mean": None}, "must be given in evaluation mode"),
    ({"input": np.zeros((1, 3)), "training": True}, "more than 1 value per channel"),
    ({"input": np.zeros((1, 3, 1, 1)), "training": True}, "more than 1 value per channel"),
])
def test_batch_norm_rejects_bad_input(change, message):
    with pytest.raises(ValueError, match=message):
        batch_norm(**{**GOOD, **change})


def test_batch_norm_backward_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="grad_output has shape"):
        batch_norm_backward(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        batch_norm_backward(np.zeros((1, 3)), np.zeros((1, 3)))


@pytest.mark.parametrize("args, message", [
    ((np.zeros(3), None, np.zeros(3), np.ones(3), None, None), "conv_weight must be"),
    ((np.zeros((2, 1, 3, 3)), None, np.zeros(3), np.ones(2), None, None), "bn_mean must have"),
    ((np.zeros((2, 1, 3, 3)), np.zeros(3), np.zeros(2), np.ones(2), None, None), "conv_bias"),
    ((np.zeros((2, 1, 3, 3)), None, np.zeros(2), np.ones(2), np.ones(1), None), "bn_weight"),
    ((np.zeros((2, 1, 3, 3)), None, np.zeros(2), None, None, None), "bn_var must have"),
])
def test_fuse_conv_bn_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        fuse_conv_bn(*args)
