"""Inverted dropout, as ``torch.nn.functional.dropout``, on NumPy arrays."""

import numpy as np


def dropout(input, p=0.5, training=True, rng=None):
    """Zero each element with probability p and scale the survivors by 1 / (1 - p).

    input: any shape. In training, out = input * m / (1 - p) with m ~ Bernoulli(1 - p) drawn
    independently per element (from ``rng``, a NumPy Generator), so E[out] = input; in
    evaluation (training=False) out = input. p = 1 drops everything (zeros, like PyTorch).
    Raises ValueError unless 0 <= p <= 1.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    input = np.asarray(input, dtype=float)
    if not training or p == 0:
        return input.copy()
    if p == 1:
        return np.zeros_like(input)
    rng = np.random.default_rng() if rng is None else rng
    keep = rng.random(input.shape) >= p
    return input * keep / (1 - p)
