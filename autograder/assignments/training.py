"""Hidden cases of the training assignment, answered in the grader's process.

train_epoch is compared with plain SGD steps and evaluate with a forward pass under
``torch.no_grad()`` in evaluation mode, both on the grader's own copies of the same networks;
cosine_annealing_lr with ``torch.optim.lr_scheduler.CosineAnnealingLR``.
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from autograder.hidden import Case, HiddenTest, hidden_seed

IMPORTS = ("numpy", "torch")  # the answers train PyTorch networks


class GradientProbe(nn.Module):
    """Passes its input on and notes in a buffer whether it arrived with gradients recorded."""

    def __init__(self):
        super().__init__()
        self.register_buffer("gradients_recorded", torch.tensor(-1.0))

    def forward(self, input):
        self.gradients_recorded.fill_(float(input.requires_grad))
        return input


def sgd_epoch(model, batches, optimizer):
    """What train_epoch must do: training mode, then one SGD step per batch."""
    model.train()
    loss_sum, hits, seen = 0.0, 0, 0
    for inputs, targets in batches:
        scores = model(inputs)
        loss = F.cross_entropy(scores, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(targets)
        hits += (scores.argmax(dim=1) == targets).sum().item()
        seen += len(targets)
    return loss_sum / seen, hits / seen


def evaluation(model, batches):
    """What evaluate must return: mean loss and accuracy in evaluation mode, without gradients."""
    model.eval()
    with torch.no_grad():
        outputs = [(model(inputs), targets) for inputs, targets in batches]
    seen = sum(len(targets) for _, targets in outputs)
    loss = sum(F.cross_entropy(o, t, reduction="sum").item() for o, t in outputs) / seen
    return loss, sum((o.argmax(dim=1) == t).sum().item() for o, t in outputs) / seen


def random_batches(sizes, features=5, classes=3):
    return [(torch.randn(n, features), torch.randint(0, classes, (n,))) for n in sizes]


def train_epoch_cases():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(hidden_seed(7))
        cases = []
        batches = {
            "a network with batch norm left in evaluation mode (train_epoch must switch to "
            "training mode)": (6,),
            "several batches of one size (clear the gradients before each backward pass, one "
            "step per batch)": (4, 4, 4),
            "batches of different sizes (each batch's loss counts in proportion to its size)":
                (6, 2, 5),
        }
        for description, sizes in batches.items():
            network = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.ReLU(),
                                    nn.Linear(4, 3)).eval()
            optimizer = torch.optim.SGD(network.parameters(), lr=0.1)
            cases.append(Case(description, (network, random_batches(sizes), optimizer),
                              check_args=(0,)))
        return cases


def evaluate_cases():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(hidden_seed(8))
        normalized = nn.Sequential(nn.Linear(5, 6), nn.BatchNorm1d(6), nn.Dropout(0.5),
                                   nn.Linear(6, 3))
        for _ in range(3):
            normalized(torch.randn(16, 5) * 2 + 1)  # running statistics unlike any one batch's
        probed = nn.Sequential(nn.Linear(5, 3), GradientProbe())
        networks = {
            "batch norm and dropout in training mode (evaluate must switch to evaluation "
            "mode and leave the running statistics alone)": (normalized, (5, 5)),
            "a network that notes whether gradients are recorded (evaluate must not record "
            "gradients)": (probed, (4, 4)),
            "batches of different sizes (each batch's loss counts in proportion to its size)":
                (normalized, (7, 3)),
        }
        return [Case(description, (network.train(), random_batches(sizes)), check_args=(0,))
                for description, (network, sizes) in networks.items()]


def torch_cosine_lr(t, lr0, T_max, eta_min=0.0):
    sgd = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(sgd, T_max, eta_min)
    for _ in range(t):
        sgd.step()
        schedule.step()
    return sgd.param_groups[0]["lr"]


def cosine_annealing_lr_cases():
    rng = np.random.default_rng(hidden_seed(9))
    rate = lambda low, high: float(np.round(rng.uniform(low, high), 4))  # noqa: E731
    steps = lambda low, high: int(rng.integers(low, high + 1))  # noqa: E731
    schedules = {  # lr0, T_max, eta_min
        "a short schedule": (rate(0.05, 0.5), steps(2, 5), 0.0),
        "a long schedule with a floor eta_min": (rate(0.01, 0.1), steps(20, 40), rate(1e-4, 5e-3)),
        "a one-step schedule": (rate(0.1, 1.0), 1, 0.0),
        "an odd number of steps with a floor": (rate(0.1, 0.5), 2 * steps(2, 5) + 1,
                                                rate(0.005, 0.05)),
    }
    cases = [Case(description, (t, lr0, T_max, eta_min))
             for description, (lr0, T_max, eta_min) in schedules.items()
             for t in range(T_max + 1)]
    T_max = steps(2, 8)
    return cases + [
        Case("a step before 0 (must raise ValueError)", (-1, 0.1, T_max), raises=ValueError),
        Case("a step after T_max (must raise ValueError)", (T_max + 1, 0.1, T_max),
             raises=ValueError)]


HIDDEN = {
    "train_epoch-hidden": HiddenTest("train_epoch", train_epoch_cases, sgd_epoch),
    "evaluate-hidden": HiddenTest("evaluate", evaluate_cases, evaluation),
    "cosine_annealing_lr-hidden": HiddenTest("cosine_annealing_lr", cosine_annealing_lr_cases,
                                             torch_cosine_lr, ("lr scheduler",), rtol=0,
                                             atol=1e-9),
}
