"""Batch normalization on NumPy arrays, matching ``torch.nn.functional.batch_norm``.

The statistics are per feature: for an (N, D) input, each of the D columns has its own mean and
variance over the batch; for (N, C, H, W), each channel has one mean and variance over the
N * H * W values of the batch and of every position. So every function here averages over all
axes but axis 1, and stores one number per channel, shape (C,).
"""

import numpy as np


def channel_axes(input):
    """The axes that batch norm averages over: every axis of ``input`` but the channel axis 1."""
    return (0, *range(2, np.ndim(input)))


def per_channel(values, ndim):
    """Reshape a (C,) vector to (1, C, 1, ..., 1) so that it broadcasts over an ndim-D input."""
    return np.reshape(values, (1, -1) + (1,) * (ndim - 2))


def check_batch_norm_args(input, running_mean, running_var, weight, bias, training):
    """Validate batch_norm's arguments; return ``input`` as a float array.

    input: (N, C, *); running_mean, running_var, weight, bias: (C,) or None. Raises ValueError
    for an input with fewer than 2 axes, a (C,) argument of another shape, running statistics
    that are not float NumPy arrays (they are updated in place), missing running statistics in
    evaluation mode, or a single value per channel in training mode.
    """
    input = np.asarray(input, dtype=float)
    if input.ndim < 2:
        raise ValueError(f"input must be (N, C) or (N, C, *), got shape {input.shape}")
    channels = input.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):
        if value is not None and np.shape(value) != (channels,):
            raise ValueError(f"{name} must have shape ({channels},), got {np.shape(value)}")
    for name, value in (("running_mean", running_mean), ("running_var", running_var)):
        if value is not None and not (isinstance(value, np.ndarray)
                                      and np.issubdtype(value.dtype, np.floating)):
            raise ValueError(f"{name} must be a float NumPy array: it is updated in place")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("running_mean and running_var must be given in evaluation mode")
    if training and input[:, 0].size < 2:
        raise ValueError(f"training needs more than 1 value per channel, got shape {input.shape}")
    return input


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalization, as ``torch.nn.functional.batch_norm``.

    input: (N, C) or (N, C, *), e.g. (N, C, H, W); running_mean, running_var, weight (gamma),
    bias (beta): (C,) or None (no scale, no shift). Returns an array of the input's shape:

        y = (x - mean) / sqrt(var + eps) * weight + bias,   per channel, eps inside the root.

    training=True: mean and var are the batch's, over the m values of each channel (var divides
    by m). If given, the running statistics are updated in place, momentum on the new value and
    the unbiased variance (divided by m - 1):
        running_mean <- (1 - momentum) * running_mean + momentum * mean
        running_var  <- (1 - momentum) * running_var  + momentum * var * m / (m - 1)
    training=False: mean and var are running_mean and running_var; nothing is updated.
    Raises ValueError as ``check_batch_norm_args`` does.
    """
    input = check_batch_norm_args(input, running_mean, running_var, weight, bias, training)
    if training:
        axes = channel_axes(input)
        mean, var = input.mean(axis=axes), input.var(axis=axes)
        m = input[:, 0].size  # values per channel
        if running_mean is not None:
            running_mean[...] = (1 - momentum) * running_mean + momentum * mean
        if running_var is not None:
            running_var[...] = (1 - momentum) * running_var + momentum * var * m / (m - 1)
    else:
        mean, var = running_mean, running_var
    y = (input - per_channel(mean, input.ndim)) / np.sqrt(per_channel(var, input.ndim) + eps)
    if weight is not None:
        y = y * per_channel(weight, input.ndim)
    if bias is not None:
        y = y + per_channel(bias, input.ndim)
    return y


def batch_norm_backward(grad_output, input, weight=None, eps=1e-5):
    """Gradients of training-mode batch_norm (batch statistics) with respect to its inputs.

    grad_output, input: (N, C, *); weight: (C,) or None. With x_hat = (x - mean) / sqrt(var + eps)
    and g = grad_output * weight, averaging over the m values of each channel (mean_m):

        grad_input  = (g - mean_m(g) - x_hat * mean_m(g * x_hat)) / sqrt(var + eps)
        grad_weight = sum_m(grad_output * x_hat),   grad_bias = sum_m(grad_output)

    The two subtracted terms are the gradient through the batch mean and variance, which depend
    on every x of the channel. Returns (grad_input, grad_weight, grad_bias); the last two have
    shape (C,) and are returned even when weight is None (the gradient for a weight of ones).
    Raises ValueError as ``check_batch_norm_args`` does, or if the two shapes differ.
    """
    input = check_batch_norm_args(input, None, None, weight, None, training=True)
    grad_output = np.asarray(grad_output, dtype=float)
    if grad_output.shape != input.shape:
        raise ValueError(f"grad_output has shape {grad_output.shape}, input {input.shape}")
    axes = channel_axes(input)
    std = np.sqrt(input.var(axis=axes, keepdims=True) + eps)
    x_hat = (input - input.mean(axis=axes, keepdims=True)) / std
    g = grad_output if weight is None else grad_output * per_channel(weight, input.ndim)
    grad_input = (g - g.mean(axis=axes, keepdims=True)
                  - x_hat * (g * x_hat).mean(axis=axes, keepdims=True)) / std
    return grad_input, (grad_output * x_hat).sum(axis=axes), grad_output.sum(axis=axes)


def fuse_conv_bn(conv_weight, conv_bias, bn_mean, bn_var, bn_weight, bn_bias, eps=1e-5):
    """Fold an evaluation-mode batch norm into the convolution before it.

    conv_weight: (C_out, C_in, k_h, k_w) (any (C_out, ...) works, e.g. a linear layer's);
    conv_bias, bn_mean, bn_var, bn_weight, bn_bias: (C_out,), conv_bias, bn_weight and bn_bias
    may be None (no bias, gamma = 1, beta = 0). In eval mode BN is the affine map
    y = scale * (z - bn_mean) + bn_bias with scale = bn_weight / sqrt(bn_var + eps), so

        weight = conv_weight * scale (per output channel),
        bias   = (conv_bias - bn_mean) * scale + bn_bias,

    and conv(x, weight, bias) equals batch_norm(conv(x, conv_weight, conv_bias), ...) in eval
    mode. Returns (weight, bias). Raises ValueError for a conv_weight with fewer than 2 axes or a
    (C_out,) argument of another shape.
    """
    conv_weight = np.asarray(conv_weight, dtype=float)
    if conv_weight.ndim < 2:
        raise ValueError(f"conv_weight must be (C_out, C_in, ...), got shape {conv_weight.shape}")
    c_out = conv_weight.shape[0]
    conv_bias = np.zeros(c_out) if conv_bias is None else np.asarray(conv_bias, dtype=float)
    bn_weight = np.ones(c_out) if bn_weight is None else np.asarray(bn_weight, dtype=float)
    bn_bias = np.zeros(c_out) if bn_bias is None else np.asarray(bn_bias, dtype=float)
    for name, value in (("conv_bias", conv_bias), ("bn_mean", bn_mean), ("bn_var", bn_var),
                        ("bn_weight", bn_weight), ("bn_bias", bn_bias)):
        if np.shape(value) != (c_out,):
            raise ValueError(f"{name} must have shape ({c_out},), got {np.shape(value)}")
    scale = bn_weight / np.sqrt(np.asarray(bn_var, dtype=float) + eps)
    weight = conv_weight * scale.reshape((-1,) + (1,) * (conv_weight.ndim - 1))
    return weight, (conv_bias - bn_mean) * scale + bn_bias
