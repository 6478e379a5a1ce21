"""2-D max and average pooling, forward and backward, NCHW, matching PyTorch.

A pooling window of ``k_h x k_w`` slides with stride ``s`` (by default the window itself, so
windows do not overlap) over each channel separately; ``p`` cells of padding on each side count
as -inf for max pooling (they never win) and as zeros for average pooling. Nothing is learned.
The padding is never materialised: each window is clipped to the input, which is what -inf
padding means for a max, and average pooling divides by the count PyTorch uses.
"""

import numpy as np

from solutions.convolution import pair


def pool_output_size(n, k, padding=0, stride=None, ceil_mode=False):
    """Number of pooling windows along one axis, PyTorch's rule.

    n: input length, k: window length, padding p per side, stride s (default: k).
    Floor mode: o = floor((n + 2p - k) / s) + 1, as for a convolution. Ceil mode:
    o = ceil((n + 2p - k) / s) + 1, less one if that last window would start in the right
    padding, (o - 1) s >= n + p: every window starts inside the input or its left padding.
    Raises ValueError for k < 1, s < 1, p < 0, p > k // 2 (a window could then hold only
    padding), or an input too short for a single window.
    """
    stride = k if stride is None else stride
    if k < 1 or stride < 1:
        raise ValueError(f"kernel_size and stride must be >= 1, got {k} and {stride}")
    if not 0 <= padding <= k // 2:
        raise ValueError(f"padding must be between 0 and half the window ({k} // 2 = {k // 2}), "
                         f"got {padding}")
    reach = stride - 1 if ceil_mode else 0  # ceil(x / s) = floor((x + s - 1) / s)
    o = (n + 2 * padding - k + reach) // stride + 1
    if n < 1 or o < 1:
        raise ValueError(f"a window of {k} does not fit an input of {n} padded by {padding}")
    if ceil_mode and (o - 1) * stride >= n + padding:
        o -= 1
    return o


def check_pool2d_args(input, kernel_size, stride, padding, ceil_mode):
    """Validate pooling arguments; return the input as floats and (k, s, p, o) height/width pairs.

    input: (N, C, H, W); kernel_size, stride (None: the kernel size) and padding: int or
    (height, width) pair. Raises ValueError for another ndim or any pool_output_size error.
    """
    input = np.asarray(input, dtype=float)
    if input.ndim != 4:
        raise ValueError(f"input must be 4-D (N, C, H, W), got shape {input.shape}")
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else pair(stride, "stride")
    padding = pair(padding, "padding")
    output_size = tuple(pool_output_size(n, k, p, s, ceil_mode) for n, k, p, s
                        in zip(input.shape[2:], kernel, padding, stride))
    return input, kernel, stride, padding, output_size


def pool_windows(input_size, kernel, stride, padding, output_size):
    """Yield i, j, rows, cols, area for every window of a pooling layer.

    Output (i, j)'s window starts at (i s_h - p_h, j s_w - p_w) of the input (H, W) =
    input_size. rows and cols slice the part of it inside the input: padding is never
    materialised. area is how many cells of the padded input the window covers (a
    ceil-mode window may hang over the padding; that part never counts).
    """
    def clip(start, k, n, p):
        return slice(max(start, 0), min(start + k, n)), min(start + k, n + p) - start

    (k_h, k_w), (s_h, s_w), (p_h, p_w), (o_h, o_w) = kernel, stride, padding, output_size
    for i in range(o_h):
        rows, height = clip(i * s_h - p_h, k_h, input_size[0], p_h)
        for j in range(o_w):
            cols, width = clip(j * s_w - p_w, k_w, input_size[1], p_w)
            yield i, j, rows, cols, height * width


def max_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False):
    """2-D max pooling of each channel, as ``torch.nn.functional.max_pool2d``.

    input: (N, C, H, W); kernel_size, stride (default: kernel_size) and padding: int or pair.
    Returns (N, C, H_out, W_out), H_out = floor((H + 2p_h - k_h) / s_h) + 1 (ceil in ceil_mode):

        Y[n, c, i, j] = max_{a, b} Xpad[n, c, i*s_h + a, j*s_w + b],  padding = -inf.

    Raises ValueError as check_pool2d_args does.
    """
    input, kernel, stride, padding, output_size = check_pool2d_args(
        input, kernel_size, stride, padding, ceil_mode)
    Y = np.empty(input.shape[:2] + output_size)
    for i, j, rows, cols, _ in pool_windows(input.shape[2:], kernel, stride, padding, output_size):
        Y[:, :, i, j] = input[:, :, rows, cols].max(axis=(2, 3))
    return Y


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """2-D average pooling of each channel, as ``torch.nn.functional.avg_pool2d``.

    Arguments and output size as max_pool2d. The padding is zeros, so each window's sum is
    the sum of its input cells; it is divided by the window's area within the padded input
    (count_include_pad=True) or by the number of input cells it covers (False):

        Y[n, c, i, j] = sum_{a, b} Xpad[n, c, i*s_h + a, j*s_w + b] / count[i, j].

    Raises ValueError as check_pool2d_args does.
    """
    input, kernel, stride, padding, output_size = check_pool2d_args(
        input, kernel_size, stride, padding, ceil_mode)
    Y = np.empty(input.shape[:2] + output_size)
    for i, j, rows, cols, area in pool_windows(input.shape[2:], kernel, stride, padding,
                                               output_size):
        window = input[:, :, rows, cols]
        count = area if count_include_pad else window.shape[2] * window.shape[3]
        Y[:, :, i, j] = window.sum(axis=(2, 3)) / count
    return Y


def check_grad_output(grad_output, input, output_size):
    """Return grad_output as floats; raise ValueError unless it is (N, C, H_out, W_out)."""
    grad_output = np.asarray(grad_output, dtype=float)
    expected = input.shape[:2] + output_size
    if grad_output.shape != expected:
        raise ValueError(f"grad_output must have the pooled output's shape {expected}, "
                         f"got {grad_output.shape}")
    return grad_output


def max_pool2d_backward(grad_output, input, kernel_size, stride=None, padding=0,
                        ceil_mode=False):
    """Gradient of max_pool2d with respect to its input, as PyTorch's autograd computes it.

    grad_output: (N, C, H_out, W_out), the gradient of the loss with respect to max_pool2d's
    output; the other arguments are max_pool2d's. Returns dL/dX of the input's shape:

        dX[n, c, winner] += dY[n, c, i, j] for every window (i, j),

    where the winner is the window's first maximum in row-major order (PyTorch's choice on
    ties; if the window holds a NaN, its last NaN). Overlapping windows add up.
    Raises ValueError as max_pool2d does, or for a grad_output of the wrong shape.
    """
    input, kernel, stride, padding, output_size = check_pool2d_args(
        input, kernel_size, stride, padding, ceil_mode)
    grad_output = check_grad_output(grad_output, input, output_size)
    grad_input = np.zeros_like(input)
    for i, j, rows, cols, _ in pool_windows(input.shape[2:], kernel, stride, padding, output_size):
        window = input[:, :, rows, cols]
        flat = window.reshape(window.shape[:2] + (-1,))
        nan = np.isnan(flat)
        last_nan = flat.shape[2] - 1 - nan[:, :, ::-1].argmax(axis=2)
        winner = np.where(nan.any(axis=2), last_nan, flat.argmax(axis=2))
        hit = np.arange(flat.shape[2]) == winner[:, :, None]
        grad_input[:, :, rows, cols] += (hit.reshape(window.shape)
                                         * grad_output[:, :, i, j, None, None])
    return grad_input


def avg_pool2d_backward(grad_output, input, kernel_size, stride=None, padding=0,
                        ceil_mode=False, count_include_pad=True):
    """Gradient of avg_pool2d with respect to its input, as PyTorch's autograd computes it.

    grad_output: (N, C, H_out, W_out); the other arguments are avg_pool2d's. Each window
    shares its gradient equally among the cells it divided by; the shares of padding cells
    are dropped, and overlapping windows add up:

        dX[n, c, rows(i), cols(j)] += dY[n, c, i, j] / count[i, j].

    Raises ValueError as avg_pool2d does, or for a grad_output of the wrong shape.
    """
    input, kernel, stride, padding, output_size = check_pool2d_args(
        input, kernel_size, stride, padding, ceil_mode)
    grad_output = check_grad_output(grad_output, input, output_size)
    grad_input = np.zeros_like(input)
    for i, j, rows, cols, area in pool_windows(input.shape[2:], kernel, stride, padding,
                                               output_size):
        window = input[:, :, rows, cols]
        count = area if count_include_pad else window.shape[2] * window.shape[3]
        grad_input[:, :, rows, cols] += grad_output[:, :, i, j, None, None] / count
    return grad_input
