"""2-D cross-correlation ("convolution" in deep learning), NCHW, matching PyTorch.

Notation used throughout the course: an input of height ``n_h`` and width ``n_w``,
a kernel of ``k_h x k_w``, ``p`` zero rows/columns of padding on *each* side, stride ``s``
and dilation ``d``. The output size along one axis is

    o = floor((n + 2p - d(k - 1) - 1) / s) + 1,

which for ``d = 1`` is the familiar ``floor((n + 2p - k) / s) + 1``.
"""

import numpy as np


def pair(value, name="value"):
    """Return ``(value, value)`` for an int, or the pair itself; PyTorch's ``_pair``."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")


def corr2d(X, K):
    """Cross-correlate a 2-D input with a 2-D kernel, no padding, stride 1.

    X: (n_h, n_w), K: (k_h, k_w) -> Y: (n_h - k_h + 1, n_w - k_w + 1), where
    Y[i, j] = sum_{a, b} X[i + a, j + b] * K[a, b].
    Raises ValueError if either is not 2-D or the kernel is larger than the input.
    """
    X, K = np.asarray(X, dtype=float), np.asarray(K, dtype=float)
    if X.ndim != 2 or K.ndim != 2:
        raise ValueError(f"corr2d expects 2-D X and K, got {X.ndim}-D and {K.ndim}-D")
    k_h, k_w = K.shape
    if k_h > X.shape[0] or k_w > X.shape[1]:
        raise ValueError(f"kernel {K.shape} is larger than the input {X.shape}")
    Y = np.zeros((X.shape[0] - k_h + 1, X.shape[1] - k_w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + k_h, j:j + k_w] * K).sum()
    return Y


def conv_output_size(n, k, padding=0, stride=1, dilation=1):
    """Output length along one axis: floor((n + 2p - d(k - 1) - 1) / s) + 1.

    n: input length, k: kernel length, padding p per side, stride s >= 1, dilation d >= 1.
    Raises ValueError for a stride or dilation below 1, negative padding, or a
    (dilated) kernel longer than the padded input.
    """
    if stride < 1 or dilation < 1:
        raise ValueError(f"stride and dilation must be >= 1, got {stride} and {dilation}")
    if n < 1 or k < 1 or padding < 0:
        raise ValueError(f"need n >= 1, k >= 1, padding >= 0; got n={n}, k={k}, padding={padding}")
    span = dilation * (k - 1) + 1
    if span > n + 2 * padding:
        raise ValueError(f"kernel spans {span} but the padded input has only {n + 2 * padding}")
    return (n + 2 * padding - span) // stride + 1


def check_conv2d_args(input, weight, bias, stride, padding):
    """Validate conv2d's arguments; return float arrays and (s_h, s_w), (p_h, p_w).

    input: (N, C_in, H, W), weight: (C_out, C_in, k_h, k_w), bias: (C_out,) or None;
    padding: int, pair, "valid" (no padding) or "same" (output as large as the input, stride 1
    only). "same" pads k - 1 rows in all: (k - 1) // 2 on top, the rest below, as PyTorch
    does; for an even kernel the extra bottom row (right column) is added to the returned
    input, so that the returned padding is the same on both sides.
    Raises ValueError naming the first problem found.
    """
    input, weight = np.asarray(input, dtype=float), np.asarray(weight, dtype=float)
    if input.ndim != 4:
        raise ValueError(f"input must be 4-D (N, C_in, H, W), got shape {input.shape}")
    if weight.ndim != 4:
        raise ValueError(f"weight must be 4-D (C_out, C_in, k_h, k_w), got shape {weight.shape}")
    if input.shape[1] != weight.shape[1]:
        raise ValueError(
            f"input has {input.shape[1]} channels but weight expects {weight.shape[1]}")
    if bias is not None:
        bias = np.asarray(bias, dtype=float)
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"bias must have shape ({weight.shape[0]},), got {bias.shape}")
    stride = pair(stride, "stride")
    if min(stride) < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if padding == "valid":
        padding = 0
    elif padding == "same":
        if stride != (1, 1):
            raise ValueError(f"padding='same' is not supported for strided convolutions, "
                             f"got stride {stride}")
        total = np.array(weight.shape[2:]) - 1
        extra_h, extra_w = total % 2
        input = np.pad(input, ((0, 0), (0, 0), (0, extra_h), (0, extra_w)))
        padding = tuple(total // 2)
    elif isinstance(padding, str):
        raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    padding = pair(padding, "padding")
    if min(padding) < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    for axis, name in ((0, "height"), (1, "width")):
        n, k, p = input.shape[2 + axis], weight.shape[2 + axis], padding[axis]
        if k > n + 2 * p:
            raise ValueError(f"kernel {name} {k} is larger than the padded input {name} {n + 2 * p}")
    return input, weight, bias, stride, padding


def conv2d_loops(input, weight, bias=None, stride=1, padding=0):
    """conv2d written as loops over output pixels: what a student writes first.

    Same contract as :func:`conv2d`; Y[n, o, i, j] = b[o] +
    sum_{c, a, b} Xpad[n, c, i*s_h + a, j*s_w + b] * W[o, c, a, b].
    """
    input, weight, bias, (s_h, s_w), (p_h, p_w) = check_conv2d_args(
        input, weight, bias, stride, padding)
    X = np.pad(input, ((0, 0), (0, 0), (p_h, p_h), (p_w, p_w)))
    c_out, _, k_h, k_w = weight.shape
    o_h = (X.shape[2] - k_h) // s_h + 1
    o_w = (X.shape[3] - k_w) // s_w + 1
    Y = np.zeros((X.shape[0], c_out, o_h, o_w))
    for n in range(X.shape[0]):
        for o in range(c_out):
            for i in range(o_h):
                for j in range(o_w):
                    window = X[n, :, i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w]
                    Y[n, o, i, j] = (window * weight[o]).sum()
    if bias is not None:
        Y += bias[None, :, None, None]
    return Y


def conv2d(input, weight, bias=None, stride=1, padding=0):
    """2-D cross-correlation of a batch, as ``torch.nn.functional.conv2d``.

    input: (N, C_in, H, W), weight: (C_out, C_in, k_h, k_w), bias: (C_out,) or None,
    stride: int or (height, width) pair; padding: int or pair (zero padding of p on each
    side), "valid" (p = 0) or "same" (stride 1; output H x W, k - 1 rows of padding in all,
    (k - 1) // 2 of them on top, likewise for columns, as PyTorch).
    Returns (N, C_out, H_out, W_out) with H_out = floor((H + 2p_h - k_h) / s_h) + 1:

        Y[n, o, i, j] = b[o] + sum_{c, a, b} Xpad[n, c, i*s_h + a, j*s_w + b] * W[o, c, a, b].

    Every window is a strided view of the padded input; gathered into columns (im2col), the
    whole layer is a single matrix product over (C_in, k_h, k_w).
    Raises ValueError for a wrong ndim, a channel mismatch, a bad bias shape, stride < 1,
    negative or unknown padding, "same" with a stride, or a kernel larger than the padded input.
    """
    input, weight, bias, (s_h, s_w), (p_h, p_w) = check_conv2d_args(
        input, weight, bias, stride, padding)
    X = np.pad(input, ((0, 0), (0, 0), (p_h, p_h), (p_w, p_w)))
    k_h, k_w = weight.shape[2:]
    # windows: (N, C_in, o_h, o_w, k_h, k_w), sampled every s_h rows and s_w columns.
    windows = np.lib.stride_tricks.sliding_window_view(X, (k_h, k_w), axis=(2, 3))
    windows = windows[:, :, ::s_h, ::s_w]
    # im2col: one column of C_in * k_h * k_w values per output pixel of the whole batch, copied
    # channel-major so the copy reads along image rows; then one matrix product for the layer.
    n, c_in, o_h, o_w = windows.shape[:4]
    columns = windows.transpose(1, 4, 5, 0, 2, 3).reshape(c_in * k_h * k_w, n * o_h * o_w)
    Y = weight.reshape(len(weight), -1) @ columns  # (C_out, N * o_h * o_w)
    Y = Y.reshape(-1, n, o_h, o_w).transpose(1, 0, 2, 3)
    if bias is not None:
        Y = Y + bias[None, :, None, None]
    return np.ascontiguousarray(Y)
