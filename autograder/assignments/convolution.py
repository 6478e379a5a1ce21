"""Hidden cases of the convolution assignment, answered by PyTorch in the grader's process."""

import numpy as np
import torch
import torch.nn.functional as F

from autograder.hidden import Case, HiddenTest, hidden_seed


def torch_conv2d(input, weight, bias=None, stride=1, padding=0):
    t = torch.as_tensor
    return F.conv2d(t(input), t(weight), None if bias is None else t(bias),
                    stride=stride, padding=padding).numpy()


def torch_corr2d(X, K):
    return torch_conv2d(np.asarray(X)[None, None], np.asarray(K)[None, None])[0, 0]


def torch_output_size(n, k, padding=0, stride=1, dilation=1):
    return F.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=stride, padding=padding,
                    dilation=dilation).shape[-1]


def corr2d_cases():
    rng = np.random.default_rng(hidden_seed(2))
    shapes = {  # (n_h, n_w, k_h, k_w)
        "a square kernel on a wide input": (6, 8, 3, 3),
        "a rectangular kernel": (5, 7, 2, 4),
        "a kernel as large as the input": (4, 4, 4, 4),
        "a 1x1 kernel": (3, 5, 1, 1),
        "a tall kernel on a tall input": (7, 3, 6, 1),
    }
    return [Case(description, (rng.normal(size=(n_h, n_w)), rng.normal(size=(k_h, k_w))))
            for description, (n_h, n_w, k_h, k_w) in shapes.items()]


def conv_output_size_cases():
    """Sizes drawn for each trap: (n, k, padding, stride, dilation) that fit and show it."""
    rng = np.random.default_rng(hidden_seed(1))

    def draw(trap):
        while True:
            n, k, p, s, d = (int(rng.integers(lo, hi + 1))
                             for lo, hi in ((1, 16), (1, 6), (0, 3), (1, 5), (1, 3)))
            if d * (k - 1) + 1 <= n + 2 * p and trap(n, k, p, s, d):
                return n, k, p, s, d

    traps = {
        "a stride that does not divide evenly":
            lambda n, k, p, s, d: p == 0 and d == 1 and (n - k) % s != 0,
        "a kernel as long as the input": lambda n, k, p, s, d: n == k > 2 and p == 0 and d == 1,
        "padding with stride": lambda n, k, p, s, d: p > 0 and s > 1 and d == 1,
        "a large stride after padding": lambda n, k, p, s, d: p >= 2 and s >= 4 and d == 1,
        "dilation": lambda n, k, p, s, d: d > 1 and k > 1 and p == 0 and s == 1,
        "dilation, padding and stride together": lambda n, k, p, s, d: d > 1 < k and p and s > 1,
        "a stride longer than the input": lambda n, k, p, s, d: s > n + 2 * p and d == 1,
        "a 1-long kernel with padding": lambda n, k, p, s, d: k == 1 and p > 0 and s > 1,
    }
    cases = []
    for description, trap in traps.items():
        n, k, p, s, d = draw(trap)
        cases.append(Case(description, (n, k), {"padding": p, "stride": s, "dilation": d}))
    n = int(rng.integers(1, 6))
    return cases + [Case("a kernel longer than the padded input", (n, n + int(rng.integers(1, 4))),
                         raises=ValueError)]


def conv2d_cases():
    rng = np.random.default_rng(hidden_seed(3))
    layers = {  # N, C_in, C_out, H, W, k_h, k_w, stride, padding, bias
        "several channels in and out, with bias": (2, 3, 4, 7, 6, 3, 3, 1, 0, True),
        "a (height, width) stride and padding": (1, 2, 3, 8, 9, 3, 2, (2, 1), (1, 0), True),
        "a kernel as large as the input": (3, 1, 2, 5, 5, 5, 5, 1, 0, True),
        "a 1x1 kernel with stride 2 and no bias": (2, 4, 1, 6, 7, 1, 1, 2, 0, False),
        "padding on the width only": (1, 2, 2, 9, 8, 2, 3, (1, 3), (0, 2), True),
        "an even kernel with stride 3 and padding 2": (2, 3, 5, 6, 6, 4, 4, 3, 2, True),
    }
    cases = []
    for description, (n, c_in, c_out, h, w, k_h, k_w, stride, padding, bias) in layers.items():
        X, W = rng.normal(size=(n, c_in, h, w)), rng.normal(size=(c_out, c_in, k_h, k_w))
        b = rng.normal(size=c_out) if bias else None
        cases.append(Case(description, (X, W, b), {"stride": stride, "padding": padding}))
    return cases


HIDDEN = {
    "corr2d-hidden": HiddenTest("corr2d", corr2d_cases, torch_corr2d, ("convolution",)),
    "conv_output_size-hidden": HiddenTest("conv_output_size", conv_output_size_cases,
                                          torch_output_size),
    "conv2d-hidden": HiddenTest("conv2d", conv2d_cases, torch_conv2d, ("convolution",)),
}
