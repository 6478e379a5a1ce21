"""Weight initialization: fan-in and fan-out of a layer, and the Xavier, Kaiming, LeCun scales.

A weight of shape (C_out, C_in, k_h, k_w) feeds each output from fan_in = C_in k_h k_w inputs
and sends each input to fan_out = C_out k_h k_w outputs; a linear weight (out, in) has fan_in =
in and fan_out = out. The three schemes draw N(0, std^2) with

    LeCun:   std = 1 / sqrt(fan_in)                  keeps the forward variance, linear units
    Xavier:  std = gain sqrt(2 / (fan_in + fan_out))  balances forward and backward (tanh)
    Kaiming: std = gain / sqrt(fan_in), gain = sqrt(2) for ReLU, which zeroes half the signal
"""

import math

import numpy as np

GAINS = {"linear": 1.0, "tanh": 5 / 3, "relu": math.sqrt(2)}  # as torch.nn.init.calculate_gain


def fan_in_and_fan_out(shape):
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel), as PyTorch computes them.

    Raises ValueError for fewer than 2 dimensions.
    """
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a weight with >= 2 dimensions, got {shape}")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def lecun_normal(shape, rng=None):
    """N(0, 1 / fan_in) weights: std = 1 / sqrt(C_in k_h k_w) for a convolution."""
    fan_in, _ = fan_in_and_fan_out(shape)
    return _normal(shape, 1 / math.sqrt(fan_in), rng)


def xavier_normal(shape, gain=1.0, rng=None):
    """N(0, gain^2 2 / (fan_in + fan_out)) weights, as torch.nn.init.xavier_normal_."""
    fan_in, fan_out = fan_in_and_fan_out(shape)
    return _normal(shape, gain * math.sqrt(2 / (fan_in + fan_out)), rng)


def kaiming_normal(shape, nonlinearity="relu", rng=None):
    """N(0, gain^2 / fan_in) weights, as torch.nn.init.kaiming_normal_ (mode "fan_in").

    gain = sqrt(2) for "relu", 5/3 for "tanh", 1 for "linear" (which is LeCun's).
    """
    if nonlinearity not in GAINS:
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}: choose one of {', '.join(GAINS)}")
    fan_in, _ = fan_in_and_fan_out(shape)
    return _normal(shape, GAINS[nonlinearity] / math.sqrt(fan_in), rng)


def _normal(shape, std, rng):
    rng = np.random.default_rng() if rng is None else rng
    return rng.normal(0.0, std, size=shape)
