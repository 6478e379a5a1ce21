"""autograder.checks: a student function that calls the library operation it implements fails."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.checks import (CONVOLUTION, LINEAR, PADDING, no_library_call,
                               no_library_convolution)
from solutions import conv2d, linear, pad2d

x = np.ones((1, 1, 4, 4))
CHEATS = {  # name -> (the operations it must be caught by, a call of the library's operation)
    "F.conv2d": (CONVOLUTION, lambda: F.conv2d(torch.tensor(x), torch.tensor(x))),
    "nn.Conv2d": (CONVOLUTION, lambda: torch.nn.Conv2d(1, 1, 3)(torch.ones(1, 1, 4, 4))),
    "F.pad": (PADDING, lambda: F.pad(torch.tensor(x), (1, 1, 1, 1))),
    "F.pad reflect": (PADDING, lambda: F.pad(torch.tensor(x), (1, 1, 1, 1), mode="reflect")),
    "np.pad": (PADDING, lambda: np.pad(x, 1)),
    "F.linear": (LINEAR, lambda: F.linear(torch.ones(2, 3), torch.ones(4, 3))),
    "nn.Linear": (LINEAR, lambda: torch.nn.Linear(3, 4)(torch.ones(2, 3))),
    "torch.addmm": (LINEAR, lambda: torch.addmm(torch.ones(4), torch.ones(2, 3), torch.ones(3, 4))),
}


@pytest.mark.parametrize("cheat", CHEATS)
def test_calling_the_library_operation_is_caught(cheat):
    operations, call = CHEATS[cheat]
    with pytest.raises(AssertionError, match="calls the library's .* no credit otherwise"):
        with no_library_call("the exercise", operations):
            call()


@pytest.mark.parametrize("operations, honest", [
    (CONVOLUTION, lambda: conv2d(x, x)),
    (PADDING, lambda: pad2d(x, (1, 2, 3, 0), mode="reflect")),
    (LINEAR, lambda: linear(np.ones((2, 3)), np.ones((4, 3)), np.ones(4))),
    (LINEAR, lambda: np.ones((2, 3)) @ np.ones((3, 4))),
])
def test_honest_numpy_code_passes(operations, honest):
    with no_library_call("the exercise", operations):
        honest()


def test_no_library_convolution_names_the_exercise_and_the_function():
    with pytest.raises(AssertionError, match=r"^conv2d calls the library's torch\..*conv"):
        with no_library_convolution("conv2d"):
            F.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2))


def test_the_profiler_is_restored_after_a_check():
    import sys
    with no_library_call("pad2d", PADDING):
        pass
    assert sys.getprofile() is None
