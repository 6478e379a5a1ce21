"""solutions.init against torch.nn.init: the same fans, the same standard deviations."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.init import _calculate_fan_in_and_fan_out

from solutions.init import fan_in_and_fan_out, kaiming_normal, lecun_normal, xavier_normal

shapes = st.lists(st.integers(1, 7), min_size=2, max_size=5).map(tuple)


@settings(max_examples=60, deadline=None)
@given(shapes)
def test_fans_match_torch(shape):
    assert fan_in_and_fan_out(shape) == _calculate_fan_in_and_fan_out(torch.empty(shape))


def test_conv_fans_count_the_kernel():
    assert fan_in_and_fan_out((64, 3, 5, 5)) == (3 * 25, 64 * 25)
    with pytest.raises(ValueError, match=">= 2 dimensions"):
        fan_in_and_fan_out((10,))


SHAPE = (128, 64, 3, 3)  # 73,728 weights: the sample std is within 1 % of the true one


def sample_std(init):
    weight = torch.empty(SHAPE, dtype=torch.float64)
    torch.manual_seed(0)
    init(weight)
    return weight.std().item()


@pytest.mark.parametrize("ours, theirs", [
    (lambda rng: xavier_normal(SHAPE, rng=rng), torch.nn.init.xavier_normal_),
    (lambda rng: xavier_normal(SHAPE, gain=5 / 3, rng=rng),
     lambda w: torch.nn.init.xavier_normal_(w, gain=torch.nn.init.calculate_gain("tanh"))),
    (lambda rng: kaiming_normal(SHAPE, rng=rng),
     lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="relu")),
    (lambda rng: kaiming_normal(SHAPE, "tanh", rng=rng),
     lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="tanh")),
    (lambda rng: lecun_normal(SHAPE, rng=rng),
     lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="linear")),
])
def test_standard_deviations_match_torch(ours, theirs):
    weight = ours(np.random.default_rng(0))
    assert weight.shape == SHAPE and abs(weight.mean()) < 1e-3
    assert weight.std() == pytest.approx(sample_std(theirs), rel=0.02)


def test_lecun_is_one_over_root_c_k_k_and_not_xavier():
    """The notes' std = 1/sqrt(C k k) for a conv weight is LeCun's, Xavier's also counts fan-out."""
    c, k = 64, 3
    lecun = lecun_normal(SHAPE, rng=np.random.default_rng(1)).std()
    xavier = xavier_normal(SHAPE, rng=np.random.default_rng(1)).std()
    assert lecun == pytest.approx(1 / math.sqrt(c * k * k), rel=0.01)
    assert xavier == pytest.approx(math.sqrt(2 / (c * k * k + 128 * k * k)), rel=0.01)
    assert abs(lecun - xavier) > 0.1 * lecun


def test_unknown_nonlinearity_is_rejected():
    with pytest.raises(ValueError, match="unknown nonlinearity 'gelu'"):
        kaiming_normal(SHAPE, "gelu")
