"""Hidden cases of the pooling assignment, answered by PyTorch in the grader's process."""

import numpy as np
import torch
import torch.nn.functional as F

from autograder.hidden import Case, HiddenTest, hidden_seed


def torch_max_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False):
    return F.max_pool2d(torch.as_tensor(input), kernel_size, stride, padding,
                        ceil_mode=ceil_mode).numpy()


def torch_avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
                     count_include_pad=True):
    return F.avg_pool2d(torch.as_tensor(input), kernel_size, stride, padding,
                        ceil_mode=ceil_mode, count_include_pad=count_include_pad).numpy()


def torch_max_pool2d_backward(grad_output, input, kernel_size, stride=None, padding=0,
                              ceil_mode=False):
    X = torch.tensor(input, requires_grad=True)
    F.max_pool2d(X, kernel_size, stride, padding, ceil_mode=ceil_mode).backward(
        torch.as_tensor(grad_output))
    return X.grad.numpy()


def sample(rng, shape, values):
    """A random input: "normal" values, all "negative" ones (below -1), 0/1 "ties", or normal
    values with "nan": two NaN in the top-left 2x2 corner of every channel, one more below."""
    if values == "ties":
        return rng.integers(0, 2, size=shape).astype(float)
    X = rng.normal(size=shape)
    if values == "nan":
        X[:, :, 0, :2] = X[:, :, -1, -1] = np.nan
    return -np.abs(X) - 1 if values == "negative" else X


def max_pool2d_cases():
    rng = np.random.default_rng(hidden_seed(4))
    layers = {  # input shape, values, kernel_size, stride, padding, ceil_mode
        "several images and channels, the default stride": ((2, 3, 6, 7), "normal", 2, None, 0,
                                                             False),
        "overlapping windows": ((1, 2, 7, 7), "normal", 3, 1, 0, False),
        "a (height, width) window, stride and padding": ((2, 2, 8, 7), "normal", (3, 2), (2, 1),
                                                         (1, 0), False),
        "padding on a negative input": ((1, 2, 5, 6), "negative", 3, 2, 1, False),
        "ceil_mode": ((2, 1, 6, 7), "normal", 3, 2, 0, True),
        "tied values": ((1, 3, 6, 6), "ties", 2, 1, 1, False),
        "NaN in the input (a NaN wins every window it is in, as in PyTorch)": ((1, 2, 5, 6), "nan",
                                                                               2, None, 0, False),
    }
    return [Case(description, (sample(rng, shape, values), kernel_size),
                 {"stride": stride, "padding": padding, "ceil_mode": ceil_mode})
            for description, (shape, values, kernel_size, stride, padding, ceil_mode)
            in layers.items()]


def avg_pool2d_cases():
    rng = np.random.default_rng(hidden_seed(5))
    layers = {  # input shape, kernel_size, stride, padding, ceil_mode, count_include_pad
        "several images and channels, the default stride": ((2, 3, 6, 7), 2, None, 0, False,
                                                             True),
        "overlapping windows": ((1, 2, 7, 7), 3, 1, 0, False, True),
        "padding counted in the average (the default)": ((2, 2, 5, 6), 3, 2, 1, False, True),
        "padding not counted (count_include_pad=False)": ((1, 2, 5, 6), 3, 2, 1, False, False),
        "a (height, width) window, stride and padding": ((1, 2, 8, 7), (2, 3), (1, 2), (1, 1),
                                                         False, True),
        "ceil_mode with padding": ((2, 1, 6, 7), 4, 3, 2, True, True),
        "ceil_mode windows that run past the input (divide by their part inside the padded "
        "input)": ((1, 2, 5, 5), 2, 2, 0, True, True),
    }
    return [Case(description, (rng.normal(size=shape), kernel_size),
                 {"stride": stride, "padding": padding, "ceil_mode": ceil_mode,
                  "count_include_pad": count_include_pad})
            for description, (shape, kernel_size, stride, padding, ceil_mode, count_include_pad)
            in layers.items()]


def max_pool2d_backward_cases():
    rng = np.random.default_rng(hidden_seed(6))
    layers = {  # input shape, values, kernel_size, stride, padding, ceil_mode
        "windows that do not overlap": ((2, 3, 6, 6), "normal", 2, None, 0, False),
        "overlapping windows (their gradients must add up)": ((1, 2, 7, 7), "normal", 3, 1, 0,
                                                               False),
        "overlapping windows with padding": ((2, 1, 7, 6), "normal", 3, 2, 1, False),
        "tied maxima (the first in row-major order wins)": ((1, 2, 6, 6), "ties", 2, None, 0,
                                                             False),
        "tied maxima in overlapping windows": ((2, 2, 5, 5), "ties", 3, 1, 1, False),
        "NaN in the input (the window's last NaN wins)": ((1, 2, 4, 6), "nan", 2, None, 0,
                                                          False),
        "a (height, width) window and stride with ceil_mode": ((1, 2, 7, 8), "normal", (3, 2),
                                                               (2, 1), 0, True),
    }
    cases = []
    for description, (shape, values, kernel_size, stride, padding, ceil_mode) in layers.items():
        X = sample(rng, shape, values)
        output_shape = torch_max_pool2d(X, kernel_size, stride, padding, ceil_mode).shape
        cases.append(Case(description, (rng.normal(size=output_shape), X, kernel_size),
                          {"stride": stride, "padding": padding, "ceil_mode": ceil_mode}))
    return cases


def question(name, hint, expected, exact=True):
    """A computed answer compared with ``expected()``: exactly, or to 3 decimals."""
    return HiddenTest("questions", lambda: [Case(f"the answer {name} ({hint})")], expected,
                      rtol=0, atol=0 if exact else 1e-3, call=f"lambda: {name}")


def max_pool_shape(axis):
    return F.max_pool2d(torch.zeros(8, 16, 32, 32), 2).shape[axis]


def max_pool_gradient():
    X = torch.tensor([[1.0, 2.0, 3.0], [4.0, 9.0, 5.0], [6.0, 7.0, 8.0]])[None, None]
    X.requires_grad_()
    F.max_pool2d(X, 2, stride=1).sum().backward()
    return X.grad[0, 0, 1, 1].item()


HIDDEN = {
    "q_height-hidden": question("q_height", "which stride does a pooling layer use by default?",
                                lambda: max_pool_shape(2)),
    "q_channels-hidden": question("q_channels", "does pooling combine channels?",
                                  lambda: max_pool_shape(1)),
    "q_parameters-hidden": question(
        "q_parameters", "what would a pooling layer learn?",
        lambda: sum(p.numel() for p in torch.nn.MaxPool2d(3, stride=2).parameters())),
    "q_ceil_width-hidden": question(
        "q_ceil_width", "ceil_mode rounds the division up",
        lambda: F.max_pool2d(torch.zeros(1, 1, 6, 6), 3, stride=2, ceil_mode=True).shape[3]),
    "q_corner-hidden": question(
        "q_corner", "which cells does count_include_pad=True count?",
        lambda: F.avg_pool2d(torch.ones(1, 1, 4, 4), 3, stride=1, padding=1)[0, 0, 0, 0].item(),
        exact=False),
    "q_gradient-hidden": question(
        "q_gradient", "how many windows does the 9 win, and what does each send back?",
        max_pool_gradient),
    "max_pool2d-hidden": HiddenTest("max_pool2d", max_pool2d_cases, torch_max_pool2d,
                                    ("pooling",)),
    "avg_pool2d-hidden": HiddenTest("avg_pool2d", avg_pool2d_cases, torch_avg_pool2d,
                                    ("pooling",)),
    "max_pool2d_backward-hidden": HiddenTest("max_pool2d_backward", max_pool2d_backward_cases,
                                             torch_max_pool2d_backward, ("pooling", "autograd")),
}
