"""Learning-rate schedules as plain functions of the step t, matching torch.optim.lr_scheduler.

Each returns the learning rate for step t (an epoch, or an iteration: whatever the caller
counts) from the initial rate ``lr0``; the names and arguments follow PyTorch's schedulers.
"""

import math


def _check_step(t, total=None):
    if t < 0 or (total is not None and t > total):
        upper = "" if total is None else f" and <= {total}"
        raise ValueError(f"step t must be >= 0{upper}, got {t}")


def step_lr(t, lr0, step_size, gamma=0.1):
    """Step decay, as StepLR: lr_t = lr0 * gamma^floor(t / step_size)."""
    _check_step(t)
    if step_size < 1:
        raise ValueError(f"step_size must be >= 1, got {step_size}")
    return lr0 * gamma ** (t // step_size)


def cosine_annealing_lr(t, lr0, T_max, eta_min=0.0):
    """Cosine decay over T_max steps, as CosineAnnealingLR for 0 <= t <= T_max:

        lr_t = eta_min + (lr0 - eta_min) * (1 + cos(pi t / T_max)) / 2.
    """
    _check_step(t, T_max)
    return eta_min + (lr0 - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2


def linear_lr(t, lr0, total_iters, start_factor=1.0, end_factor=0.0):
    """Linear ramp of the factor from start_factor to end_factor over total_iters, as LinearLR:

        lr_t = lr0 * (start + (end - start) * min(t, total_iters) / total_iters).
    """
    _check_step(t)
    if total_iters < 1:
        raise ValueError(f"total_iters must be >= 1, got {total_iters}")
    return lr0 * (start_factor + (end_factor - start_factor) * min(t, total_iters) / total_iters)


def warmup_cosine_lr(t, lr0, warmup, T_max):
    """Linear warm-up to lr0 over ``warmup`` steps, then cosine decay to 0 at T_max:

        lr_t = lr0 (t + 1) / warmup for t < warmup, then cosine_annealing_lr(t - warmup,
        lr0, T_max - warmup). PyTorch: SequentialLR of LinearLR(start_factor=1 / warmup,
        total_iters=warmup - 1) and CosineAnnealingLR(T_max - warmup), milestone warmup.
    """
    _check_step(t, T_max)
    if not 1 <= warmup < T_max:
        raise ValueError(f"need 1 <= warmup < T_max, got warmup={warmup}, T_max={T_max}")
    if t < warmup:
        return lr0 * (t + 1) / warmup
    return cosine_annealing_lr(t - warmup, lr0, T_max - warmup)
