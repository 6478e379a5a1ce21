"""Stride: the window moves s rows (columns) at a time, which downsamples the output.

Along one axis, windows start at 0, s, 2s, ... as long as they fit in the padded input of
length n + 2p, i.e. while the start is at most n + 2p - k; so there are
o = floor((n + 2p - k) / s) + 1 of them, and the last (n + 2p - k) mod s rows are never read.
"""

import numpy as np

from solutions.convolution import pair


def corr2d_strided(X, K, stride=1):
    """Cross-correlate a 2-D input with a 2-D kernel, taking every s-th window; no padding.

    X: (n_h, n_w), K: (k_h, k_w), stride: int or (s_h, s_w) pair.
    Returns Y: (floor((n_h - k_h) / s_h) + 1, floor((n_w - k_w) / s_w) + 1), where
    Y[i, j] = sum_{a, b} X[i s_h + a, j s_w + b] K[a, b]: the stride-1 output with only
    every s_h-th row and s_w-th column kept.
    Raises ValueError if X or K is not 2-D, the kernel is larger than the input, or s < 1.
    """
    X, K = np.asarray(X, dtype=float), np.asarray(K, dtype=float)
    if X.ndim != 2 or K.ndim != 2:
        raise ValueError(f"corr2d_strided expects 2-D X and K, got {X.ndim}-D and {K.ndim}-D")
    if K.shape[0] > X.shape[0] or K.shape[1] > X.shape[1]:
        raise ValueError(f"kernel {K.shape} is larger than the input {X.shape}")
    s_h, s_w = pair(stride, "stride")
    if min(s_h, s_w) < 1:
        raise ValueError(f"stride must be >= 1, got {stride!r}")
    windows = np.lib.stride_tricks.sliding_window_view(X, K.shape)[::s_h, ::s_w]
    return np.einsum("ijab,ab->ij", windows, K)


def receptive_field(kernel_sizes, strides):
    """Height and width of the input region one output of a stack of convolutions sees.

    kernel_sizes, strides: one int or (height, width) pair per layer, first layer first.
    Each layer widens the field by (k_l - 1) times the product of the strides before it:
    r_0 = 1, r_l = r_{l-1} + (k_l - 1) * s_1 * ... * s_{l-1}. Returns (r_h, r_w).
    Raises ValueError if the lists differ in length, or a kernel size or stride is below 1.
    """
    if len(kernel_sizes) != len(strides):
        raise ValueError(f"one stride per layer: got {len(kernel_sizes)} kernel sizes "
                         f"and {len(strides)} strides")
    field, jump = np.ones(2, dtype=int), np.ones(2, dtype=int)
    for k, s in zip(kernel_sizes, strides):
        k, s = np.array(pair(k, "kernel size")), np.array(pair(s, "stride"))
        if min(k) < 1 or min(s) < 1:
            raise ValueError(
                f"kernel sizes and strides must be >= 1, got {tuple(k)} and {tuple(s)}")
        field += (k - 1) * jump
        jump *= s
    return int(field[0]), int(field[1])
