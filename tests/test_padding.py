"""solutions.padding.pad2d against torch.nn.functional.pad, and the traps of its pad order."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import pad2d


def torch_pad(x, pad, mode="constant", value=0.0):
    kwargs = {"value": value} if mode == "constant" else {}
    return F.pad(torch.tensor(x), pad, mode=mode, **kwargs).numpy()


@st.composite
def pad_cases(draw):
    """A 3-D or 4-D input, a (left, right, top, bottom) pad, a mode and a fill value."""
    shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    mode = draw(st.sampled_from(["constant", "reflect", "replicate"]))
    # reflect mirrors about the edge row, so it can add at most n - 1 rows
    most_h, most_w = (h - 1, w - 1) if mode == "reflect" else (4, 4)
    pad = (draw(st.integers(0, most_w)), draw(st.integers(0, most_w)),
           draw(st.integers(0, most_h)), draw(st.integers(0, most_h)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.normal(size=(*shape, h, w)), pad, mode, draw(st.floats(-3, 3))


@settings(max_examples=150, deadline=None)
@given(case=pad_cases())
def test_pad2d_matches_torch(case):
    x, pad, mode, value = case
    np.testing.assert_array_equal(pad2d(x, pad, mode, value), torch_pad(x, pad, mode, value))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate"])
def test_pad2d_pads_a_single_image_like_a_batch(mode):
    x = np.random.default_rng(0).normal(size=(4, 5))
    np.testing.assert_array_equal(pad2d(x, (2, 1, 0, 3), mode),
                                  torch_pad(x[None], (2, 1, 0, 3), mode)[0])


def test_pad_order_is_width_first_then_height():
    x = np.ones((2, 3))
    y = pad2d(x, (1, 2, 3, 4))  # 1 column left, 2 right, 3 rows on top, 4 below
    assert y.shape == (3 + 2 + 4, 1 + 3 + 2)
    rows, cols = np.nonzero(y)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (3, 4, 1, 3)


def test_constant_padding_fills_with_the_value():
    y = pad2d(np.zeros((1, 1)), (1, 0, 0, 1), value=7.0)
    np.testing.assert_array_equal(y, [[7.0, 0.0], [7.0, 7.0]])


def test_reflect_does_not_repeat_the_edge_and_replicate_does():
    row = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(pad2d(row, (2, 2, 0, 0), "reflect"), [[3, 2, 1, 2, 3, 2, 1]])
    np.testing.assert_array_equal(pad2d(row, (2, 2, 0, 0), "replicate"), [[1, 1, 1, 2, 3, 3, 3]])


def test_zero_padding_adds_nothing_to_the_sum():
    x = np.random.default_rng(1).normal(size=(3, 4, 5))
    assert np.isclose(pad2d(x, (1, 2, 3, 0)).sum(), x.sum())


@pytest.mark.parametrize("x, pad, mode, message", [
    (np.zeros(4), (1, 1, 1, 1), "constant", "at least 2-D"),
    (np.zeros((2, 2)), (1, 1, 1), "constant", r"pad must be 4 ints \(left, right, top, bottom\)"),
    (np.zeros((2, 2)), 1, "constant", "pad must be 4 ints"),
    (np.zeros((2, 2)), (1.5, 1, 1, 1), "constant", "pad must be 4 ints"),
    (np.zeros((2, 2)), (0, -1, 0, 0), "constant", "does not crop"),
    (np.zeros((2, 2)), (1, 1, 1, 1), "circular", "mode must be 'constant', 'reflect' or"),
    (np.zeros((3, 2)), (0, 0, 3, 0), "reflect", "reflect padding must be smaller than the input"),
    (np.zeros((3, 2)), (2, 0, 0, 0), "reflect", "reflect padding must be smaller than the input"),
    (np.zeros((0, 2)), (1, 1, 1, 1), "replicate", "at least one row and column"),
])
def test_pad2d_rejects_bad_input(x, pad, mode, message):
    with pytest.raises(ValueError, match=message):
        pad2d(x, pad, mode)
