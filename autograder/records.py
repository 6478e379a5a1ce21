"""Records of what a student's function returned: plain JSON, made on both sides of the sandbox.

The answer process (``autograder.answer_runner``) records each outcome with ``encode``; the grader
records the reference's answer the same way and compares the two records. This module imports
nothing of the grader's: it is shown to the sandbox as it is, and needs PyTorch only to record
tensors and networks, which exist only where PyTorch was imported. ``seeded`` makes the student's
call and the reference's draw the same random numbers (a new layer's weights).
"""

import contextlib
import sys

import numpy as np


def encode(value, args=()):
    """A JSON-able record of a value: numbers with their shape, a tuple of records, or a network:
    which of ``args`` it is, when it is one of them (a network changed in place and returned),
    else its layers and their modes, which parameters train, every parameter and buffer."""
    torch = sys.modules.get("torch")
    if isinstance(value, tuple):
        return {"items": [encode(item) for item in value]}
    if torch is not None and isinstance(value, torch.nn.Module):
        for position, arg in enumerate(args):
            if value is arg:
                return {"argument": position}
        return {"module": {
            "layers": {name: type(layer).__name__ for name, layer in value.named_modules()},
            "trainable": {name: p.requires_grad for name, p in value.named_parameters()},
            "training": {name: layer.training for name, layer in value.named_modules()},
            "state": {name: encode(tensor) for name, tensor in value.state_dict().items()}}}
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().cpu().double().numpy()
    try:
        array = np.array(value, dtype=float)
    except Exception:
        return {"error": f"returned a {type(value).__name__}, not numbers"}
    return {"shape": list(array.shape), "data": array.ravel().tolist()}


def decode(record):
    """The array a record of numbers holds; ValueError if it holds none."""
    try:
        return np.array(record["data"], dtype=float).reshape(record["shape"])
    except (KeyError, TypeError, ValueError, OverflowError):
        raise ValueError("unreadable result") from None


@contextlib.contextmanager
def seeded(seed):
    """Seed torch's random generators with ``seed`` inside the block (if not None), and give
    the caller's random state back after it."""
    if seed is None:
        yield
        return
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
