"""Hidden cases of the onebyone assignment, answered by PyTorch in the grader's process."""

import numpy as np
import torch
import torch.nn.functional as F

from autograder.assignments.convolution import torch_conv2d
from autograder.hidden import Case, HiddenTest, hidden_seed


def torch_linear(input, weight, bias=None):
    input, weight = (torch.as_tensor(np.asarray(a, dtype=float)) for a in (input, weight))
    bias = None if bias is None else torch.as_tensor(np.asarray(bias, dtype=float))
    return F.linear(input, weight, bias).numpy()


def correct_linear(input, weight, bias=None):
    """The linear that conv1x1's hidden test lends it, so that a mistake in linear does not
    cost points twice; NumPy's ``@`` operator, which a submission cannot patch, not torch."""
    return np.asarray(input) @ np.asarray(weight).T + (0.0 if bias is None else bias)


def linear_cases():
    rng = np.random.default_rng(hidden_seed(11))
    layers = {  # input shape, out_features, bias
        "a batch of vectors, with bias": ((5, 3), 4, True),
        "a square weight": ((4, 6), 6, True),
        "several leading axes, no bias": ((2, 3, 4, 5), 2, False),
        "a single vector": ((7,), 3, True),
        "one output feature": ((6, 2), 1, True),
    }
    cases = []
    for description, (shape, out_features, bias) in layers.items():
        x, W = rng.normal(size=shape), rng.normal(size=(out_features, shape[-1]))
        cases.append(Case(description, (x, W, rng.normal(size=out_features) if bias else None)))
    return cases + [Case("in_features that do not match the weight",
                         (np.ones((2, 3)), np.ones((4, 5))), raises=ValueError)]


def conv1x1_cases():
    rng = np.random.default_rng(hidden_seed(12))
    layers = {  # N, c_i, c_o, H, W, bias
        "a batch of non-square images, with bias": (2, 3, 4, 3, 5, True),
        "fewer output than input channels": (1, 6, 2, 4, 4, True),
        "no bias": (3, 2, 3, 2, 3, False),
        "one pixel": (2, 4, 3, 1, 1, True),
        "a tall image": (1, 2, 2, 6, 1, True),
    }
    cases = []
    for description, (n, c_i, c_o, h, w, bias) in layers.items():
        X, W = rng.normal(size=(n, c_i, h, w)), rng.normal(size=(c_o, c_i, 1, 1))
        cases.append(Case(description, (X, W, rng.normal(size=c_o) if bias else None)))
    return cases


def count(*layers):
    return sum(p.numel() for layer in layers for p in layer.parameters())


def counts_answers():
    """reduce_params, direct_params and bottleneck_params, counted on PyTorch's layers."""
    Conv2d = torch.nn.Conv2d
    return (count(Conv2d(256, 64, 1)), count(Conv2d(256, 256, 3)),
            count(Conv2d(256, 64, 1), Conv2d(64, 64, 3), Conv2d(64, 256, 1)))


HIDDEN = {
    "linear-hidden": HiddenTest("linear", linear_cases, torch_linear, ("linear",)),
    "conv1x1-hidden": HiddenTest("conv1x1", conv1x1_cases, torch_conv2d, ("convolution",),
                                 lend={"linear": correct_linear}),
    "counts-hidden": HiddenTest(
        "counts", lambda: [Case("the answers (reduce_params, direct_params, bottleneck_params)")],
        counts_answers, rtol=0, atol=0,
        call="lambda: (reduce_params, direct_params, bottleneck_params)"),
}
