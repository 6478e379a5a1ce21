"""Several channels in and out, built from the single-channel ``corr2d`` (d2l's teaching steps).

One image (no batch) is (c_i, n_h, n_w). With c_i input channels the kernel has a slice per
channel and the per-channel correlations are summed into one output channel; c_o such kernels,
stacked into a weight of (c_o, c_i, k_h, k_w), give c_o output channels. ``conv2d`` is the
general case: a batch, a bias per output channel, stride and padding.
"""

import numpy as np

from solutions.convolution import corr2d


def corr2d_multi_in(X, K):
    """Cross-correlate a multi-channel input with a multi-channel kernel into one channel.

    X: (c_i, n_h, n_w), K: (c_i, k_h, k_w) -> Y: (n_h - k_h + 1, n_w - k_w + 1), where
    Y = sum_c corr2d(X[c], K[c]).
    Raises ValueError if X or K is not 3-D or their channel counts differ.
    """
    X, K = np.asarray(X, dtype=float), np.asarray(K, dtype=float)
    if X.ndim != 3 or K.ndim != 3:
        raise ValueError(f"corr2d_multi_in expects 3-D X and K, got {X.ndim}-D and {K.ndim}-D")
    if X.shape[0] != K.shape[0]:
        raise ValueError(f"X has {X.shape[0]} channels but K has {K.shape[0]}")
    return sum(corr2d(x, k) for x, k in zip(X, K))


def corr2d_multi_in_out(X, K):
    """Cross-correlate a multi-channel input with c_o multi-channel kernels: c_o channels out.

    X: (c_i, n_h, n_w), K: (c_o, c_i, k_h, k_w) -> Y: (c_o, n_h - k_h + 1, n_w - k_w + 1),
    where Y[o] = corr2d_multi_in(X, K[o]).
    Raises ValueError if K is not 4-D, or as corr2d_multi_in does.
    """
    K = np.asarray(K, dtype=float)
    if K.ndim != 4:
        raise ValueError(f"K must be 4-D (c_o, c_i, k_h, k_w), got shape {K.shape}")
    return np.stack([corr2d_multi_in(X, k) for k in K])
