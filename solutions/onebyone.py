"""A fully connected (linear) layer, and the 1x1 convolution that is one applied at every pixel.

A 1x1 convolution with weight (c_o, c_i, 1, 1) maps the c_i channel values of each pixel to c_o
values with the same (c_o, c_i) matrix and the same c_o biases at every pixel: it is ``linear``
applied to the input with the channels moved last, (N, H, W, c_i) -> (N, H, W, c_o).
"""

import numpy as np


def linear(input, weight, bias=None):
    """A fully connected layer, as ``torch.nn.functional.linear``: y = x W^T + b.

    input: (..., in_features), weight: (out_features, in_features), bias: (out_features,) or
    None. Returns (..., out_features).
    Raises ValueError if weight is not 2-D, its in_features do not match the input's last
    axis, or bias is not (out_features,).
    """
    input, weight = np.asarray(input, dtype=float), np.asarray(weight, dtype=float)
    if weight.ndim != 2:
        raise ValueError(
            f"weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    if input.ndim < 1 or input.shape[-1] != weight.shape[1]:
        raise ValueError(f"input's last axis must have {weight.shape[1]} features, "
                         f"got shape {input.shape}")
    output = input @ weight.T
    if bias is not None:
        bias = np.asarray(bias, dtype=float)
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"bias must have shape ({weight.shape[0]},), got {bias.shape}")
        output = output + bias
    return output


def conv1x1(input, weight, bias=None):
    """A 1x1 convolution computed as a linear layer at every pixel.

    input: (N, c_i, H, W), weight: (c_o, c_i, 1, 1), bias: (c_o,) or None -> (N, c_o, H, W):
    Y[n, :, i, j] = W[:, :, 0, 0] X[n, :, i, j] + b, i.e. the channels moved last, ``linear``,
    and the channels moved back. Equals ``conv2d(input, weight, bias)``.
    Raises ValueError if input is not 4-D, weight is not (c_o, c_i, 1, 1), the channel counts
    differ, or bias is not (c_o,).
    """
    input, weight = np.asarray(input, dtype=float), np.asarray(weight, dtype=float)
    if input.ndim != 4:
        raise ValueError(f"input must be 4-D (N, C_in, H, W), got shape {input.shape}")
    if weight.ndim != 4 or weight.shape[2:] != (1, 1):
        raise ValueError(f"weight must be (C_out, C_in, 1, 1), got shape {weight.shape}")
    if input.shape[1] != weight.shape[1]:
        raise ValueError(
            f"input has {input.shape[1]} channels but weight expects {weight.shape[1]}")
    pixels = input.transpose(0, 2, 3, 1)  # (N, H, W, c_i): one channel vector per pixel
    return linear(pixels, weight[:, :, 0, 0], bias).transpose(0, 3, 1, 2)
