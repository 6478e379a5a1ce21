"""solutions.dropout against torch.nn.functional.dropout: the same distribution, not the same draws."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import dropout

N = 100_000


def zero_fraction_bound(p, n=N):
    """Six standard deviations of the fraction of dropped elements out of n."""
    return 6 * np.sqrt(p * (1 - p) / n) + 1e-12


@settings(max_examples=25, deadline=None)
@given(p=st.floats(0.01, 0.99), seed=st.integers(0, 2**32 - 1))
def test_dropout_matches_torch_in_distribution(p, seed):
    ours = dropout(np.ones(N), p, rng=np.random.default_rng(seed))
    torch.manual_seed(seed)
    theirs = F.dropout(torch.ones(N, dtype=torch.float64), p).numpy()
    for out in (ours, theirs):
        assert set(np.unique(out)) <= {0.0, 1 / (1 - p)}
        assert abs(np.mean(out == 0) - p) < zero_fraction_bound(p)
    assert abs(np.mean(ours == 0) - np.mean(theirs == 0)) < 2 * zero_fraction_bound(p)
    np.testing.assert_allclose(np.unique(ours[ours > 0]), np.unique(theirs[theirs > 0]))


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=4), p=st.floats(0.05, 0.95),
       seed=st.integers(0, 2**32 - 1))
def test_survivors_are_scaled_by_one_over_keep_probability(shape, p, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape) + 3  # no zeros in the input
    out = dropout(x, p, rng=rng)
    assert out.shape == x.shape
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / (1 - p))


def test_the_expected_output_is_the_input():
    x = np.array([[1.0, -2.0], [0.5, 4.0]])
    rng = np.random.default_rng(0)
    mean = np.mean([dropout(x, 0.3, rng=rng) for _ in range(20_000)], axis=0)
    np.testing.assert_allclose(mean, x, rtol=0.05)


def test_elements_are_dropped_independently():
    mask = dropout(np.ones((N // 2, 2)), 0.5, rng=np.random.default_rng(1)) > 0
    assert abs(np.corrcoef(mask[:, 0], mask[:, 1])[0, 1]) < 0.03
    assert not np.all(mask[:, 0] == mask[:, 1])


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_evaluation_is_the_identity_like_torch(p):
    x = np.random.default_rng(2).normal(size=(3, 4))
    np.testing.assert_array_equal(dropout(x, p, training=False), x)
    np.testing.assert_array_equal(F.dropout(torch.tensor(x), p, training=False).numpy(), x)


def test_the_edge_probabilities_behave_like_torch():
    x = np.random.default_rng(3).normal(size=(5, 5))
    np.testing.assert_array_equal(dropout(x, 0.0), F.dropout(torch.tensor(x), 0.0).numpy())
    np.testing.assert_array_equal(dropout(x, 1.0), F.dropout(torch.tensor(x), 1.0).numpy())


def test_the_input_is_not_changed():
    x = np.ones(10)
    dropout(x, 0.5, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(x, np.ones(10))


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_a_probability_outside_zero_one_is_rejected_like_torch(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        dropout(np.ones(3), p)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(torch.ones(3), p)
