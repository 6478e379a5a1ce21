"""Hidden cases of the multichannel assignment, answered by PyTorch in the grader's process."""

import numpy as np
import torch

from autograder.assignments.convolution import torch_conv2d, torch_corr2d
from autograder.hidden import Case, HiddenTest, hidden_seed


def torch_corr2d_multi_in(X, K):
    return torch_conv2d(np.asarray(X)[None], np.asarray(K)[None])[0, 0]


def torch_corr2d_multi_in_out(X, K):
    return torch_conv2d(np.asarray(X)[None], K)[0]


def corr2d_cases():
    rng = np.random.default_rng(hidden_seed(8))
    shapes = {  # (n_h, n_w, k_h, k_w)
        "a rectangular kernel": (5, 6, 2, 3),
        "a kernel as large as the input": (3, 4, 3, 4),
    }
    return [Case(description, (rng.normal(size=(n_h, n_w)), rng.normal(size=(k_h, k_w))))
            for description, (n_h, n_w, k_h, k_w) in shapes.items()]


def corr2d_multi_in_cases():
    rng = np.random.default_rng(hidden_seed(9))
    shapes = {  # (c_i, n_h, n_w, k_h, k_w), channel 1 scaled by
        "three input channels": ((3, 5, 6, 3, 2), 1.0),
        "one input channel": ((1, 4, 4, 2, 2), 1.0),
        "many input channels and a 1x1 kernel": ((6, 3, 4, 1, 1), 1.0),
        "channels with very different values": ((2, 4, 5, 2, 3), 100.0),
    }
    cases = []
    for description, ((c_i, n_h, n_w, k_h, k_w), scale) in shapes.items():
        X, K = rng.normal(size=(c_i, n_h, n_w)), rng.normal(size=(c_i, k_h, k_w))
        X[1:2] *= scale
        cases.append(Case(description, (X, K)))
    return cases + [Case("different channel counts in the input and the kernel",
                         (np.zeros((2, 4, 4)), np.zeros((3, 2, 2))), raises=ValueError)]


def corr2d_multi_in_out_cases():
    rng = np.random.default_rng(hidden_seed(10))
    shapes = {  # (c_o, c_i, n_h, n_w, k_h, k_w)
        "more output than input channels": (4, 2, 5, 5, 3, 3),
        "one output channel": (1, 3, 4, 6, 2, 2),
        "a 1x1 kernel": (3, 5, 4, 3, 1, 1),
        "a non-square input and kernel": (2, 2, 6, 4, 3, 1),
    }
    return [Case(description, (rng.normal(size=(c_i, n_h, n_w)),
                               rng.normal(size=(c_o, c_i, k_h, k_w))))
            for description, (c_o, c_i, n_h, n_w, k_h, k_w) in shapes.items()]


def layer_answers():
    """weight_shape, num_params and output_shape of the layer of question 4, asked of PyTorch."""
    layer = torch.nn.Conv2d(3, 64, kernel_size=3, padding=1)
    with torch.no_grad():
        output = layer(torch.zeros(8, 3, 32, 32))
    return (tuple(layer.weight.shape), sum(p.numel() for p in layer.parameters()),
            tuple(output.shape))


HIDDEN = {
    "corr2d-hidden": HiddenTest("corr2d", corr2d_cases, torch_corr2d, ("convolution",)),
    "corr2d_multi_in-hidden": HiddenTest("corr2d_multi_in", corr2d_multi_in_cases,
                                         torch_corr2d_multi_in, ("convolution",)),
    "corr2d_multi_in_out-hidden": HiddenTest("corr2d_multi_in_out", corr2d_multi_in_out_cases,
                                             torch_corr2d_multi_in_out, ("convolution",)),
    "layer-hidden": HiddenTest(
        "layer", lambda: [Case("the answers (weight_shape, num_params, output_shape)")],
        layer_answers, rtol=0, atol=0,
        call="lambda: (tuple(weight_shape), num_params, tuple(output_shape))"),
}
