"""solutions.schedules against torch.optim.lr_scheduler, step by step."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions.schedules import cosine_annealing_lr, linear_lr, step_lr, warmup_cosine_lr


def torch_rates(make_scheduler, lr0, steps):
    """The learning rate PyTorch's scheduler sets at steps 0 .. steps - 1."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
    scheduler = make_scheduler(optimizer)
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


lrs = st.floats(1e-4, 1.0)


@settings(max_examples=30, deadline=None)
@given(lr0=lrs, step_size=st.integers(1, 6), gamma=st.floats(0.05, 0.9))
def test_step_lr_matches_torch(lr0, step_size, gamma):
    expected = torch_rates(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size, gamma), lr0, 20)
    assert [step_lr(t, lr0, step_size, gamma) for t in range(20)] == pytest.approx(expected)


@settings(max_examples=30, deadline=None)
@given(lr0=lrs, T_max=st.integers(1, 30), eta_min=st.sampled_from([0.0, 1e-5]))
def test_cosine_annealing_lr_matches_torch(lr0, T_max, eta_min):
    expected = torch_rates(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max, eta_min), lr0, T_max + 1)
    ours = [cosine_annealing_lr(t, lr0, T_max, eta_min) for t in range(T_max + 1)]
    assert ours == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_cosine_is_half_way_at_half_time():
    assert cosine_annealing_lr(0, 0.1, 10) == 0.1
    assert cosine_annealing_lr(5, 0.1, 10) == pytest.approx(0.05)
    assert cosine_annealing_lr(10, 0.1, 10) == pytest.approx(0.0)


@settings(max_examples=30, deadline=None)
@given(lr0=lrs, total=st.integers(1, 15), start=st.floats(0.1, 1.0), end=st.floats(0.0, 1.0))
def test_linear_lr_matches_torch(lr0, total, start, end):
    expected = torch_rates(lambda o: torch.optim.lr_scheduler.LinearLR(o, start, end, total),
                           lr0, total + 5)
    ours = [linear_lr(t, lr0, total, start, end) for t in range(total + 5)]
    assert ours == pytest.approx(expected, rel=1e-6, abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(lr0=lrs, warmup=st.integers(2, 5), extra=st.integers(1, 20))
def test_warmup_cosine_matches_torch_sequential_lr(lr0, warmup, extra):
    T_max = warmup + extra

    def scheduler(optimizer):
        sched = torch.optim.lr_scheduler
        return sched.SequentialLR(optimizer, [
            sched.LinearLR(optimizer, 1 / warmup, 1.0, warmup - 1),
            sched.CosineAnnealingLR(optimizer, T_max - warmup)], milestones=[warmup])

    expected = torch_rates(scheduler, lr0, T_max + 1)
    ours = [warmup_cosine_lr(t, lr0, warmup, T_max) for t in range(T_max + 1)]
    assert ours == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_warmup_climbs_to_the_peak_then_decays():
    rates = [warmup_cosine_lr(t, 1.0, 4, 12) for t in range(13)]
    assert rates[:5] == [0.25, 0.5, 0.75, 1.0, 1.0]
    assert all(a >= b for a, b in zip(rates[4:], rates[5:])) and rates[-1] == pytest.approx(0)
    assert warmup_cosine_lr(2, 1.0, 1, 5) == pytest.approx((1 + math.cos(math.pi / 4)) / 2)


@pytest.mark.parametrize("call, message", [
    (lambda: step_lr(-1, 0.1, 2), "step t must be >= 0"),
    (lambda: step_lr(0, 0.1, 0), "step_size must be >= 1"),
    (lambda: cosine_annealing_lr(11, 0.1, 10), "<= 10"),
    (lambda: linear_lr(0, 0.1, 0), "total_iters must be >= 1"),
    (lambda: warmup_cosine_lr(0, 0.1, 10, 10), "1 <= warmup < T_max"),
    (lambda: warmup_cosine_lr(0, 0.1, 0, 10), "1 <= warmup < T_max"),
])
def test_schedules_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
