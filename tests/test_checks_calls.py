"""autograder.checks.no_calls_to: catches a call into a forbidden module, and only that."""

import math

import pytest
import torch

from autograder.checks import no_calls_to
from solutions.schedules import cosine_annealing_lr


def own_cosine(t, lr0, T):
    return lr0 * (1 + math.cos(math.pi * t / T)) / 2


def test_own_code_passes():
    with no_calls_to("cosine", "solutions", "torch.optim.lr_scheduler"):
        own_cosine(3, 0.1, 10)


@pytest.mark.parametrize("call, caught", [
    (lambda: cosine_annealing_lr(3, 0.1, 10), "solutions.schedules.cosine_annealing_lr"),
    (lambda: torch.optim.lr_scheduler.CosineAnnealingLR(
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), 10),
     "torch.optim.lr_scheduler."),
])
def test_a_call_into_a_forbidden_module_is_named(call, caught):
    with pytest.raises(AssertionError, match=f"cosine calls {caught}.*no credit"):
        with no_calls_to("cosine", "solutions", "torch.optim.lr_scheduler"):
            call()


def test_a_module_with_a_similar_name_is_allowed():
    with no_calls_to("anything", "torch.optim.lr"):
        torch.optim.lr_scheduler.StepLR(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), 2)


def test_the_previous_profiler_is_restored():
    import sys

    before = sys.getprofile()
    with pytest.raises(AssertionError):
        with no_calls_to("x", "solutions"):
            cosine_annealing_lr(0, 1.0, 2)
    assert sys.getprofile() is before
