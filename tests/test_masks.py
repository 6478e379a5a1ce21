"""solutions.masks against PyTorch: torch.masked, pad_sequence, F.scaled_dot_product_attention,
nn.MultiheadAttention, and autograd for the claim that masked positions get no gradient."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import pad_sequence

from solutions import (masked_max, masked_mean, masked_softmax, padding_mask,
                       padding_mask_from_ids, scaled_dot_product_attention, sequence_mask)


@st.composite
def masked_cases(draw):
    """An array of 1 to 3 axes, a boolean mask (True = ignore) of its shape, and an axis."""
    shape = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=shape) * 3
    mask = rng.random(size=shape) < draw(st.sampled_from([0.0, 0.3, 0.7, 1.0]))
    return x, mask, draw(st.integers(-len(shape), len(shape) - 1))


def torch_masked(function, x, mask, dim):
    """torch.masked's reduction (its mask is True = keep), which warns that it is a prototype."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return function(torch.tensor(x), dim, mask=torch.tensor(~mask)).numpy()


# Padding masks

@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=5), st.integers(0, 3))
def test_padding_mask_marks_what_pytorch_pads(lengths, extra):
    max_len = max(lengths) + extra
    rows = [torch.zeros(n) for n in lengths] + [torch.zeros(max_len)]  # the last sets the length
    padded = pad_sequence(rows, batch_first=True, padding_value=float("nan"))[:-1]
    np.testing.assert_array_equal(padding_mask(lengths, max_len), padded.isnan().numpy())
    np.testing.assert_array_equal(padding_mask(lengths), padding_mask(lengths, max(lengths)))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(1, 9), min_size=1, max_size=6), min_size=1, max_size=4))
def test_padding_mask_from_ids_finds_the_padding_that_pad_sequence_adds(sentences):
    ids = pad_sequence([torch.tensor(s) for s in sentences], batch_first=True, padding_value=0)
    np.testing.assert_array_equal(padding_mask_from_ids(ids.numpy(), pad_id=0),
                                  padding_mask([len(s) for s in sentences]))


@pytest.mark.parametrize("lengths, max_len, message", [
    ([[1, 2]], None, "lengths must be 1-D"),
    ([2, -1], None, "lengths must be >= 0"),
    ([2, 5], 4, "length 5 does not fit in max_len=4"),
])
def test_padding_mask_rejects_bad_lengths(lengths, max_len, message):
    with pytest.raises(ValueError, match=message):
        padding_mask(lengths, max_len)


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_sequence_mask_hides_the_future_like_pytorchs_causal_mask(n):
    expected = torch.nn.Transformer.generate_square_subsequent_mask(n, dtype=torch.float64)
    np.testing.assert_array_equal(sequence_mask(n), torch.isinf(expected).numpy())
    np.testing.assert_array_equal(sequence_mask(n), np.triu(np.ones((n, n)), k=1) == 1)


def test_a_rectangular_sequence_mask_is_top_left_aligned_like_pytorchs():
    np.testing.assert_array_equal(sequence_mask(2, 4), ~torch.ones(2, 4).tril().bool().numpy())
    with pytest.raises(ValueError, match="sizes must be >= 0"):
        sequence_mask(-1)


# Masked reductions

@settings(max_examples=100, deadline=None)
@given(case=masked_cases())
def test_masked_mean_and_max_match_torch_masked_where_something_is_kept(case):
    x, mask, dim = case
    kept = (~mask).any(axis=dim)
    for ours, theirs in ((masked_mean, torch.masked.mean), (masked_max, torch.masked.amax)):
        result = ours(x, mask, dim)
        np.testing.assert_allclose(result[kept], torch_masked(theirs, x, mask, dim)[kept],
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(result[~kept], 0.0)  # torch.masked gives NaN and -inf


@settings(max_examples=100, deadline=None)
@given(case=masked_cases())
def test_masked_softmax_matches_torch_and_fully_masked_rows_are_zero(case):
    x, mask, dim = case
    expected = F.softmax(torch.tensor(x).masked_fill(torch.tensor(mask), float("-inf")), dim)
    result = masked_softmax(x, mask, dim)
    np.testing.assert_allclose(result, torch.nan_to_num(expected, nan=0.0).numpy(),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(result[mask], 0.0)
    rows = result.sum(axis=dim)
    np.testing.assert_allclose(rows, np.where((~mask).any(axis=dim), 1.0, 0.0))


def test_the_broken_fills_of_the_notes_give_wrong_answers():
    """Filling padding with 0 or 1e-10 breaks max over negative values and softmax."""
    x, pad = np.array([-3.0, -1.0, -7.0, 0.0, 0.0]), padding_mask([3], 5)[0]
    assert masked_max(x, pad, 0) == -1.0
    assert np.where(pad, 1e-10, x).max() == 1e-10
    assert masked_mean(x, pad, 0) == pytest.approx(-11 / 3)
    weights = masked_softmax(x, pad, 0)
    assert weights[3:].sum() == 0 and weights.sum() == pytest.approx(1.0)
    assert np.exp(np.where(pad, 1e-10, x))[3:].sum() > 1.9


def test_masked_softmax_survives_large_scores_and_huge_masked_ones():
    scores = np.array([[1000.0, 999.0, 5000.0], [-1000.0, -1001.0, 30.0]])
    mask = np.array([False, False, True])
    expected = np.exp([0.0, -1.0]) / np.exp([0.0, -1.0]).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, no 0/0
        result = masked_softmax(scores, mask)
    np.testing.assert_allclose(result, [[*expected, 0.0], [*expected, 0.0]])


def test_a_fully_masked_row_gives_zeros_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x, mask = np.ones((2, 3)), np.array([[True] * 3, [False, True, True]])
        np.testing.assert_array_equal(masked_softmax(x, mask), [[0, 0, 0], [1, 0, 0]])
        np.testing.assert_array_equal(masked_mean(x, mask, -1), [0, 1])
        np.testing.assert_array_equal(masked_max(x, mask, -1), [0, 1])


def test_a_padding_mask_broadcasts_over_the_feature_axis():
    rng = np.random.default_rng(0)
    x, lengths = rng.normal(size=(3, 5, 4)), [5, 2, 1]
    mean = masked_mean(x, padding_mask(lengths)[:, :, None], dim=1)
    np.testing.assert_allclose(mean, [x[b, :n].mean(axis=0) for b, n in enumerate(lengths)])


@pytest.mark.parametrize("function", [masked_mean, masked_max, masked_softmax])
@pytest.mark.parametrize("mask, message", [
    (np.array([1, 0, 0]), "mask must be boolean"),
    (np.array([True, False]), r"mask of shape \(2,\) does not broadcast to \(2, 3\)"),
])
def test_masked_functions_reject_bad_masks(function, mask, message):
    with pytest.raises(ValueError, match=message):
        function(np.zeros((2, 3)), mask, -1)


# Masked positions get no gradient

def numerical_gradient(function, x, upstream, h=1e-6):
    """d sum(upstream * function(x)) / dx by central differences."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        grad[index] = (upstream * (function(x + step) - function(x - step))).sum() / (2 * h)
    return grad


@pytest.mark.parametrize("seed", range(3))
def test_masked_softmax_gradient_is_autograds_and_zero_at_masked_positions(seed):
    rng = np.random.default_rng(seed)
    x, mask, upstream = rng.normal(size=(3, 5)), rng.random((3, 5)) < 0.4, rng.normal(size=(3, 5))
    mask[0] = True  # one fully masked row
    x_t = torch.tensor(x, requires_grad=True)
    F.softmax(x_t.masked_fill(torch.tensor(mask), float("-inf")), -1).nan_to_num(0.0).backward(
        torch.tensor(upstream))
    ours = numerical_gradient(lambda s: masked_softmax(s, mask), x, upstream)
    np.testing.assert_allclose(ours, x_t.grad.numpy(), atol=1e-7)
    assert np.all(x_t.grad.numpy()[mask] == 0) and np.all(ours[mask] == 0)


def test_masked_values_do_not_reach_the_result_even_as_nan():
    rng = np.random.default_rng(1)
    x, mask = rng.normal(size=(4, 6)), padding_mask([6, 3, 1, 0])
    changed = np.where(mask, np.nan, x)
    for function in (masked_mean, masked_max, masked_softmax):
        np.testing.assert_array_equal(function(changed, mask, -1), function(x, mask, -1))


@pytest.mark.parametrize("seed", range(3))
def test_attention_gives_padded_keys_and_values_no_gradient(seed):
    rng = np.random.default_rng(seed)
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 2))
    pad, upstream = padding_mask([5, 2]), rng.normal(size=(2, 3, 2))
    k_t, v_t = torch.tensor(k, requires_grad=True), torch.tensor(v, requires_grad=True)
    out = F.scaled_dot_product_attention(torch.tensor(q), k_t, v_t,
                                         attn_mask=torch.tensor(~pad[:, None, :]))
    out.backward(torch.tensor(upstream))
    for theirs, x, attend in ((k_t.grad, k, lambda k: (q, k, v)),
                              (v_t.grad, v, lambda v: (q, k, v))):
        ours = numerical_gradient(
            lambda a: scaled_dot_product_attention(*attend(a), key_padding_mask=pad), x, upstream)
        np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-7)
        assert np.all(ours[pad] == 0) and np.all(theirs.numpy()[pad] == 0)


# Attention

@st.composite
def attention_cases(draw):
    batch = draw(st.sampled_from([(), (2,), (2, 3)]))
    n_q, n_k = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    e, e_v = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    q, k, v = (rng.normal(size=(*batch, n, d)) for n, d in ((n_q, e), (n_k, e), (n_k, e_v)))
    kind = draw(st.sampled_from(["none", "bool", "float", "causal", "padding", "both"]))
    attn_mask = rng.random((n_q, n_k)) < 0.3 if kind in ("bool", "both") else None
    if kind == "float":
        attn_mask = np.where(rng.random((n_q, n_k)) < 0.3, -np.inf, rng.normal(size=(n_q, n_k)))
    padding = None
    if kind in ("padding", "both"):
        padding = padding_mask(rng.integers(0, n_k + 1, size=batch[:1]), n_k) if batch else (
            padding_mask(rng.integers(0, n_k + 1, size=1), n_k)[0])
    return q, k, v, attn_mask, padding, kind == "causal"


def torch_attention(q, k, v, attn_mask, padding, is_causal):
    """PyTorch's attention with our masks converted: one boolean mask, True = take part."""
    ignore = np.zeros((q.shape[-2], k.shape[-2]), dtype=bool)
    if attn_mask is not None and attn_mask.dtype == bool:
        ignore = ignore | attn_mask
    if padding is not None:
        ignore = ignore | padding.reshape(padding.shape[:-1] + (1,) * (q.ndim - padding.ndim)
                                          + padding.shape[-1:])
    torch_mask = torch.tensor(attn_mask) if attn_mask is not None and attn_mask.dtype != bool \
        else None if is_causal else torch.tensor(~ignore)
    return F.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v),
                                          attn_mask=torch_mask, is_causal=is_causal).numpy()


@settings(max_examples=120, deadline=None)
@given(case=attention_cases())
def test_attention_matches_pytorch_with_the_mask_converted(case):
    q, k, v, attn_mask, padding, is_causal = case
    ours = scaled_dot_product_attention(q, k, v, attn_mask, padding, is_causal)
    np.testing.assert_allclose(ours, torch_attention(q, k, v, attn_mask, padding, is_causal),
                               rtol=1e-10, atol=1e-10)


def test_key_padding_mask_means_what_it_means_in_multihead_attention():
    """With identity projections, nn.MultiheadAttention is plain attention: same convention."""
    rng = np.random.default_rng(4)
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 4))
    pad = padding_mask([5, 3])
    mha = torch.nn.MultiheadAttention(4, num_heads=1, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([torch.eye(4)] * 3))
        mha.in_proj_bias.zero_()
        mha.out_proj.weight.copy_(torch.eye(4))
        mha.out_proj.bias.zero_()
        expected, _ = mha(*map(torch.tensor, (q, k, v)), key_padding_mask=torch.tensor(pad))
    np.testing.assert_allclose(scaled_dot_product_attention(q, k, v, key_padding_mask=pad),
                               expected.numpy(), rtol=1e-10, atol=1e-12)


def test_pytorchs_boolean_attn_mask_is_the_opposite_convention():
    rng = np.random.default_rng(5)
    q, k, v = rng.normal(size=(2, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
    ignore = np.array([[False, True, True], [False, False, True]])
    ours = scaled_dot_product_attention(q, k, v, attn_mask=ignore)
    t = lambda m: F.scaled_dot_product_attention(  # noqa: E731
        *map(torch.tensor, (q, k, v)), attn_mask=torch.tensor(m)).numpy()
    np.testing.assert_allclose(ours, t(~ignore), rtol=1e-12)
    assert not np.allclose(ours, t(ignore))
    np.testing.assert_allclose(ours[0], v[0])  # the first query sees only the first key


@pytest.mark.parametrize("shapes, kwargs, message", [
    (((3,), (3, 4), (3, 2)), {}, "at least 2 axes"),
    (((2, 4), (3, 5), (3, 2)), {}, "query has E=4 features, key 5"),
    (((2, 4), (3, 4), (2, 2)), {}, "key has S=3 positions, value 2"),
    (((2, 4), (3, 4), (3, 2)), {"attn_mask": np.zeros((2, 3), bool), "is_causal": True},
     "either attn_mask or is_causal"),
    (((2, 4), (3, 4), (3, 2)), {"key_padding_mask": np.zeros(4, bool)}, "with S=3"),
    (((2, 4), (3, 4), (3, 2)), {"key_padding_mask": np.zeros(3, int)}, "must be boolean"),
    (((2, 4), (3, 4), (3, 2)), {"attn_mask": np.zeros((3, 3), bool)}, "does not broadcast"),
])
def test_attention_rejects_bad_input(shapes, kwargs, message):
    with pytest.raises(ValueError, match=message):
        scaled_dot_product_attention(*(np.zeros(shape) for shape in shapes), **kwargs)
