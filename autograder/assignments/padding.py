"""Hidden cases of the padding assignment, answered by PyTorch in the grader's process."""

import warnings

import numpy as np
import torch
import torch.nn.functional as F

from autograder.hidden import Case, HiddenTest, hidden_seed


def torch_pad2d(input, pad, mode="constant", value=0.0):
    return F.pad(torch.as_tensor(input), pad, mode, value).numpy()


def torch_width(padding):
    """The output width of a 5x5 convolution with stride 1 on a 32x32 image."""
    return F.conv2d(torch.zeros(1, 1, 32, 32), torch.zeros(1, 1, 5, 5), padding=padding).shape[-1]


def torch_same_p():
    """The padding per side with which a 5x5 convolution keeps a 32x32 image at 32x32."""
    return next(p for p in range(5) if torch_width(p) == 32)


def torch_even_split():
    """Rows of zeros PyTorch's padding="same" puts above and below, for a kernel of height 4:
    a kernel whose single 1 is its first (last) tap reads the rows above (below) the input."""
    column = torch.arange(1.0, 9.0).reshape(1, 1, 8, 1)
    first_tap, last_tap = torch.zeros(1, 1, 4, 1), torch.zeros(1, 1, 4, 1)
    first_tap[0, 0, 0, 0] = last_tap[0, 0, -1, 0] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns that "same" pads an even kernel unevenly
        leading = F.conv2d(column, first_tap, padding="same").flatten()
        trailing = F.conv2d(column, last_tap, padding="same").flatten()
    return int((leading == 0).sum()), int((trailing == 0).sum())


def constant_cases():
    rng = np.random.default_rng(hidden_seed(5))
    cases = {  # input shape, pad (left, right, top, bottom), fill value
        "a different pad on each side of a wide input": ((2, 7), (1, 3, 2, 0), 0.0),
        "padding the width only, of a batch": ((2, 3, 4, 4), (2, 1, 0, 0), 0.0),
        "padding the height only": ((1, 5, 3), (0, 0, 3, 1), 0.0),
        "a fill value other than zero": ((3, 2, 3), (1, 2, 1, 2), 2.5),
        "no padding at all": ((2, 2, 3), (0, 0, 0, 0), 0.0),
        "a one-pixel input": ((1, 1, 1, 1), (2, 0, 1, 3), -1.0),
    }
    return [Case(description, (rng.normal(size=shape), pad), {"value": value})
            for description, (shape, pad, value) in cases.items()]


def mode_cases():
    rng = np.random.default_rng(hidden_seed(6))
    cases = {  # input shape, pad (left, right, top, bottom)
        "a different pad on each side": ((1, 2, 4, 6), (2, 1, 3, 0)),
        "a pad one less than the input": ((2, 3, 3, 5), (4, 4, 2, 2)),
        "padding the width only": ((1, 1, 5, 4), (3, 1, 0, 0)),
    }
    return [Case(f"{mode} mode and {description}", (rng.normal(size=shape), pad), {"mode": mode})
            for mode in ["reflect", "replicate"] for description, (shape, pad) in cases.items()
            ] + [Case("replicate mode and a pad larger than the input",
                      (rng.normal(size=(1, 1, 2, 3)), (4, 5, 3, 6)), {"mode": "replicate"})]


HIDDEN = {
    "sizes-hidden": HiddenTest(
        "sizes", lambda: [Case("the answers valid_width, same_p and full_width (valid, same and "
                               "full padding of a 5x5 kernel on a 32x32 image)")],
        lambda: (torch_width("valid"), torch_same_p(), torch_width(5 - 1)), rtol=0, atol=0,
        call="lambda: (valid_width, same_p, full_width)"),
    "even_kernel-hidden": HiddenTest(
        "even_kernel", lambda: [Case("the answers same_top and same_bottom (where does PyTorch "
                                     "put the extra row of an even kernel?)")],
        torch_even_split, rtol=0, atol=0, call="lambda: (same_top, same_bottom)"),
    "pad2d-constant-hidden": HiddenTest("pad2d", constant_cases, torch_pad2d, ("padding",)),
    "pad2d-modes-hidden": HiddenTest("pad2d", mode_cases, torch_pad2d, ("padding",)),
}
