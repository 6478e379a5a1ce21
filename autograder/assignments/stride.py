"""Hidden cases of the stride assignment, answered by PyTorch in the grader's process."""

import numpy as np
import torch
import torch.nn.functional as F

from autograder.hidden import Case, HiddenTest, hidden_seed
from solutions.convolution import pair


def torch_corr2d_strided(X, K, stride=1):
    t = torch.as_tensor
    return F.conv2d(t(X)[None, None], t(K)[None, None], stride=stride)[0, 0].numpy()


def measured_field(kernel_sizes, strides, size=128):
    """Rows and columns of the input the first output of the stack depends on, by autograd."""
    image = torch.ones(1, 1, size, size, requires_grad=True)
    out = image
    for k, s in zip(kernel_sizes, strides):
        out = F.conv2d(out, torch.ones(1, 1, *pair(k)), stride=s)
    out[0, 0, 0, 0].backward()
    rows, cols = torch.nonzero(image.grad[0, 0], as_tuple=True)
    return rows.max().item() + 1, cols.max().item() + 1


def torch_sizes():
    """The output width of a 3x3 convolution, padding 1, stride 2 on a 28x28 image, and how many
    bottom rows of a 12x12 image a 4x4 convolution with stride 3 never reads."""
    width = F.conv2d(torch.zeros(1, 1, 28, 28), torch.zeros(1, 1, 3, 3), stride=2,
                     padding=1).shape[-1]
    image = torch.ones(1, 1, 12, 12, requires_grad=True)
    F.conv2d(image, torch.ones(1, 1, 4, 4), stride=3).sum().backward()
    return width, int((image.grad[0, 0].sum(dim=1) == 0).sum())


def corr2d_strided_cases():
    rng = np.random.default_rng(hidden_seed(7))
    shapes = {  # (n_h, n_w, k_h, k_w, stride)
        "a vertical stride of 3 and a horizontal stride of 2": (8, 9, 2, 2, (3, 2)),
        "a stride that does not divide the input": (7, 7, 3, 3, 2),
        "a stride larger than the input": (4, 5, 2, 2, 6),
        "a kernel as large as the input, with stride": (5, 4, 5, 4, 3),
        "a tall kernel and a horizontal stride only": (9, 6, 4, 1, (1, 4)),
        "stride 1": (6, 5, 2, 3, 1),
    }
    return [Case(description, (rng.normal(size=(n_h, n_w)), rng.normal(size=(k_h, k_w)), stride))
            for description, (n_h, n_w, k_h, k_w, stride) in shapes.items()]


def receptive_field_cases():
    """Stacks drawn for each trap: kernel sizes of 2 to 3 and strides of 2 to 3 keep every
    field within the measured image."""
    rng = np.random.default_rng(hidden_seed(9))

    def sizes(count, low=2, high=3):
        return [int(size) for size in rng.integers(low, high + 1, size=count)]

    stacks = {  # (kernel sizes, strides)
        "three layers, the first two with stride 2": (sizes(3), [2, 2, 1]),
        "strides that compound over four layers": (sizes(4), sizes(3) + [1]),
        "a stride on the last layer, which does not matter": (sizes(2), [1, sizes(1, 2, 5)[0]]),
        "kernel sizes and strides as (height, width) pairs": (
            [tuple(sizes(2, 1, 3)), tuple(sizes(2, 1, 3)), sizes(1)[0]],
            [tuple(sizes(2, 1, 2)), sizes(1)[0], 1]),
        "1x1 layers with stride": ([1, 1] + sizes(1), sizes(2) + [1]),
    }
    return [Case(description, stack) for description, stack in stacks.items()] + [
        Case("lists that differ in length", (sizes(2), sizes(1)), raises=ValueError)]


HIDDEN = {
    "sizes-hidden": HiddenTest(
        "sizes", lambda: [Case("the answers strided_width and dropped_rows (the output width "
                               "with stride 2, the rows no window reads)")],
        torch_sizes, rtol=0, atol=0, call="lambda: (strided_width, dropped_rows)"),
    "corr2d_strided-hidden": HiddenTest("corr2d_strided", corr2d_strided_cases,
                                        torch_corr2d_strided, ("convolution",)),
    "receptive_field-hidden": HiddenTest(  # any sequence of two numbers will do
        "receptive_field", receptive_field_cases, measured_field,
        call="lambda kernel_sizes, strides: tuple(receptive_field(kernel_sizes, strides))"),
}
