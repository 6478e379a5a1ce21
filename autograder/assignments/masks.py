"""Hidden cases of the masks assignment, answered by PyTorch in the grader's process.

Masks follow the course's convention, True = ignore; PyTorch's masked reductions and boolean
attention masks mean the opposite (True = take part), so the references negate them.
"""

import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence

from autograder.hidden import Case, HiddenTest, hidden_seed


def torch_padding_mask(lengths, max_len=None):
    """Where pad_sequence pads (with NaN) the sequences to max_len."""
    rows = [torch.zeros(n) for n in lengths] + [torch.zeros(max_len or max(lengths, default=0))]
    return pad_sequence(rows, batch_first=True, padding_value=float("nan"))[:-1].isnan().numpy()


def keep(x, mask):
    """torch.masked's mask: True at the kept positions, broadcast to x's shape."""
    return torch.tensor(~np.broadcast_to(mask, np.shape(x)))


def torch_masked_mean(x, mask, dim):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.masked is a prototype and says so
        mean = torch.masked.mean(torch.tensor(x), dim, mask=keep(x, mask)).numpy()
    return np.nan_to_num(mean, nan=0.0)  # torch gives NaN for a fully masked row, we want 0


def torch_masked_max(x, mask, dim):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        best = torch.masked.amax(torch.tensor(x), dim, mask=keep(x, mask)).numpy()
    return np.where(np.isinf(best), 0.0, best)  # a fully masked row gives 0


def torch_masked_softmax(scores, mask, dim=-1):
    filled = torch.tensor(scores).masked_fill(torch.tensor(mask), float("-inf"))
    return torch.softmax(filled, dim).nan_to_num(0.0).numpy()


def torch_attention(query, key, value, attn_mask=None, key_padding_mask=None, is_causal=False):
    """PyTorch's attention, with a boolean attn_mask negated and key_padding_mask (N, S)
    reshaped to (N, 1, ..., 1, S) and negated into its boolean attn_mask."""
    mask = None if attn_mask is None else torch.tensor(attn_mask)
    if mask is not None and mask.dtype == torch.bool:
        mask = ~mask
    if key_padding_mask is not None:
        padded = np.asarray(key_padding_mask)
        kept = torch.tensor(~padded.reshape(padded.shape[:1] + (1,) * (np.ndim(query) - 2)
                                            + padded.shape[-1:]))
        mask = kept if mask is None else mask & kept
    out = F.scaled_dot_product_attention(torch.tensor(query), torch.tensor(key),
                                         torch.tensor(value), attn_mask=mask,
                                         is_causal=is_causal)
    return out.nan_to_num(0.0).numpy()  # a float mask of -inf on a whole row: PyTorch's NaN


def random_mask(rng, shape):
    """About 40% True, but the first row keeps everything."""
    mask = rng.random(shape) < 0.4
    mask[(0,) * (len(shape) - 1)] = False
    return mask


def padding_mask_cases():
    rng = np.random.default_rng(hidden_seed(20))
    lengths = [int(n) for n in rng.permutation(np.arange(1, 8))[:3]]  # three different lengths
    short = [int(n) for n in rng.integers(1, 4, size=2)]
    batches = {  # lengths, max_len
        "sequences of different lengths": (lengths, None),
        "a max_len longer than every sequence": (short, max(short) + int(rng.integers(1, 4))),
        "an empty sequence in the batch": ([0, int(rng.integers(1, 6))], None),
        "a single sequence without padding": ([int(rng.integers(1, 7))], None),
        "no sequence at all (a (0, 0) mask)": ([], None),
    }
    return [Case(description, (lengths, max_len))
            for description, (lengths, max_len) in batches.items()] + [
        Case("a sequence longer than max_len", (lengths, max(lengths) - 1), raises=ValueError),
        Case("a negative length (must raise ValueError)", ([3, -int(rng.integers(1, 4))], None),
             raises=ValueError)]


def masked_mean_cases():
    rng = np.random.default_rng(hidden_seed(21))
    batches = {  # shape of x, shape of the mask, dim
        "a (B, T) batch along T": ((3, 6), (3, 6), 1),
        "a (B, T, D) batch with a (B, T, 1) mask": ((2, 5, 4), (2, 5, 1), 1),
        "a negative dim": ((4, 3), (4, 3), -1),
        "the mean along dim 0": ((5, 2), (5, 2), 0),
    }
    cases = [Case(description, (rng.normal(size=shape) * 3, random_mask(rng, mask_shape), dim))
             for description, (shape, mask_shape, dim) in batches.items()]
    mask = np.array([[True] * 4, [False, True, True, True], [True] * 4])
    stored = rng.normal(size=(2, 4))
    stored[0, 3], stored[1, 2] = np.inf, np.nan
    return cases + [
        Case("fully masked rows (they give 0)", (rng.normal(size=(3, 4)), mask, 1)),
        Case("an inf and a NaN stored at masked positions (they must not enter the mean)",
             (stored, np.array([[False, False, False, True], [False, False, True, False]]), 1)),
        Case("a mask of 0/1 integers, not booleans (must raise ValueError)",
             (stored, np.array([[0, 0, 0, 1], [0, 0, 1, 0]]), 1), raises=ValueError)]


def masked_max_cases():
    rng = np.random.default_rng(hidden_seed(22))
    batches = {  # shape of x, shape of the mask, dim, offset of the values
        "values of both signs": ((3, 6), (3, 6), 1, 0.0),
        "only negative values": ((4, 5), (4, 5), -1, -10.0),
        "a (B, T, D) batch with a (B, T, 1) mask": ((2, 5, 3), (2, 5, 1), 1, -2.0),
    }
    cases = [Case(description, (rng.normal(size=shape) + offset, random_mask(rng, mask_shape),
                                dim))
             for description, (shape, mask_shape, dim, offset) in batches.items()]
    mask = np.array([[True] * 3, [False, True, True]])
    return cases + [Case("a fully masked row (it gives 0)", (-np.ones((2, 3)), mask, 1))]


def masked_softmax_cases():
    rng = np.random.default_rng(hidden_seed(23))
    batches = {  # shape, shape of the mask, dim, scale and offset of the scores
        "a (B, S) batch of scores": ((4, 6), (4, 6), -1, 2.0, 0.0),
        "a (B, L, S) batch with a (B, 1, S) padding mask": ((2, 3, 5), (2, 1, 5), -1, 2.0, 0.0),
        "the softmax along dim 0": ((5, 3), (5, 3), 0, 2.0, 0.0),
        "large scores (subtract the maximum first)": ((3, 4), (3, 4), -1, 100.0, 800.0),
    }
    cases = [Case(description, (rng.normal(size=shape) * scale + offset,
                                random_mask(rng, mask_shape), dim))
             for description, (shape, mask_shape, dim, scale, offset) in batches.items()]
    mask = np.array([[True] * 4, [False] * 2 + [True] * 2, [False] * 4])
    huge = np.array([[2.0, 1.0, 900.0], [-50.0, -51.0, 700.0]])
    return cases + [
        Case("a fully masked row (zeros, never NaN)", (rng.normal(size=(3, 4)), mask)),
        Case("a huge score at a masked position (mask before the softmax)",
             (huge, np.array([False, False, True])))]


def attention_cases():
    rng = np.random.default_rng(hidden_seed(24))
    layers = {  # batch shape, L, S, E, E_v, kind of mask
        "no mask": ((2,), 3, 4, 5, 2, None),
        "a boolean attn_mask": ((2,), 4, 5, 3, 3, "bool"),
        "a float attn_mask": ((3,), 2, 4, 4, 2, "float"),
        "a float attn_mask whose first row is all -inf (zeros, never NaN)": ((2,), 3, 4, 3, 2,
                                                                            "float -inf"),
        "a key_padding_mask with several heads": ((2, 3), 3, 5, 4, 2, "padding"),
        "a key_padding_mask that hides every key of one sequence": ((2,), 3, 4, 2, 2, "empty"),
        "is_causal": ((2,), 4, 4, 3, 2, "causal"),
    }
    cases = []
    for description, (batch, n_q, n_k, e, e_v, kind) in layers.items():
        q, k, v = (rng.normal(size=(*batch, n, d)) for n, d in ((n_q, e), (n_k, e), (n_k, e_v)))
        masks = {"is_causal": kind == "causal"}
        if kind == "bool":
            masks["attn_mask"] = rng.random((n_q, n_k)) < 0.4
            masks["attn_mask"][:, 0] = False
        elif kind == "float":
            masks["attn_mask"] = rng.normal(size=(n_q, n_k))
        elif kind == "float -inf":
            masks["attn_mask"] = np.where(rng.random((n_q, n_k)) < 0.3, -np.inf, 0.0)
            masks["attn_mask"][0] = -np.inf
            masks["attn_mask"][1:, 0] = 0.0
        elif kind in ("padding", "empty"):
            lengths = np.array([n_k - 2, 0 if kind == "empty" else 1])
            masks["key_padding_mask"] = np.arange(n_k)[None, :] >= lengths[:, None]
        cases.append(Case(description, (q, k, v), masks))
    q = rng.normal(size=(2, 3, 4))
    return cases + [Case("a key_padding_mask of 0/1 floats, not booleans (must raise ValueError)",
                         (q, q, q), {"key_padding_mask": np.zeros((2, 3))}, raises=ValueError)]


HIDDEN = {
    "padding_mask-hidden": HiddenTest("padding_mask", padding_mask_cases, torch_padding_mask),
    "masked_mean-hidden": HiddenTest("masked_mean", masked_mean_cases, torch_masked_mean,
                                     ("masked reduction",)),
    "masked_max-hidden": HiddenTest("masked_max", masked_max_cases, torch_masked_max,
                                    ("masked reduction",)),
    "masked_softmax-hidden": HiddenTest("masked_softmax", masked_softmax_cases,
                                        torch_masked_softmax, ("softmax", "masked reduction")),
    "scaled_dot_product_attention-hidden": HiddenTest(
        "scaled_dot_product_attention", attention_cases, torch_attention,
        ("attention", "softmax", "masked reduction")),
}
