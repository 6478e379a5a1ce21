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
    sizes = {  # (n, k, padding, stride, dilation)
        "a stride that does not divide evenly": (7, 3, 0, 2, 1),
        "a kernel as long as the input": (5, 5, 0, 1, 1),
        "padding with stride": (6, 2, 1, 3, 1),
        "a large stride after padding": (9, 3, 2, 4, 1),
        "dilation": (10, 3, 0, 1, 2),
        "dilation, padding and stride together": (11, 2, 3, 2, 3),
        "a stride longer than the input": (1, 1, 0, 5, 1),
        "a 1-long kernel with padding": (4, 1, 2, 3, 1),
    }
    cases = [Case(description, (n, k), {"padding": p, "stride": s, "dilation": d})
             for description, (n, k, p, s, d) in sizes.items()]
    return cases + [Case("a kernel longer than the padded input", (3, 5), raises=ValueError)]


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
