"""autograder.checks for the training assignments: the course's answers and PyTorch's schedulers."""

import math

import pytest
import torch

from autograder.checks import no_library_call
from solutions.schedules import cosine_annealing_lr


def own_cosine(t, lr0, T):
    return lr0 * (1 + math.cos(math.pi * t / T)) / 2


def test_own_code_passes():
    with no_library_call("cosine", "lr scheduler"):
        own_cosine(3, 0.1, 10)


@pytest.mark.parametrize("call, caught", [
    (lambda: cosine_annealing_lr(3, 0.1, 10), "solutions.schedules.cosine_annealing_lr"),
    (lambda: torch.optim.lr_scheduler.CosineAnnealingLR(
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), 10),
     "torch.optim.lr_scheduler."),
])
def test_a_call_into_a_forbidden_module_is_named(call, caught):
    with pytest.raises(AssertionError, match=f"cosine calls the library's {caught}.*no credit"):
        with no_library_call("cosine", "lr scheduler"):
            call()


def test_the_course_answers_are_forbidden_without_naming_them():
    with pytest.raises(AssertionError, match="solutions.schedules"):
        with no_library_call("cosine"):
            cosine_annealing_lr(0, 1.0, 2)
