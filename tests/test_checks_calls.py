"""autograder.checks for the training assignments: the course's answers and PyTorch's schedulers."""

import math

import pytest
import torch

from autograder.checks import calls_library
from solutions.schedules import cosine_annealing_lr


def own_cosine(t, lr0, T):
    return lr0 * (1 + math.cos(math.pi * t / T)) / 2


def test_own_code_passes():
    with calls_library("lr scheduler") as found:
        own_cosine(3, 0.1, 10)
    assert found == []


@pytest.mark.parametrize("call, caught", [
    (lambda: cosine_annealing_lr(3, 0.1, 10), "solutions.schedules.cosine_annealing_lr"),
    (lambda: torch.optim.lr_scheduler.CosineAnnealingLR(
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), 10),
     "torch.optim.lr_scheduler."),
])
def test_a_call_into_a_forbidden_module_is_named(call, caught):
    with calls_library("lr scheduler") as found:
        call()
    assert found[0].startswith(caught)


def test_the_course_answers_are_forbidden_without_naming_them():
    with calls_library() as found:
        cosine_annealing_lr(0, 1.0, 2)
    assert found == ["solutions.schedules.cosine_annealing_lr"]
