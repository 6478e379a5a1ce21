"""Masks for padded batches and attention, on NumPy arrays.

One convention throughout, PyTorch's ``key_padding_mask`` one: a boolean mask is True where a
position must be IGNORED (padding, the future) and False where it takes part. A mask with the
opposite meaning (1 = keep, as in many tokenizers' ``attention_mask``) converts with ``~keep`` or
``keep == 0``.

These functions take and return NumPy arrays like the rest of ``solutions``: a mask is data about
the batch (which positions are real), computed once from lengths or token ids, and the masked
reductions are a few array operations that read like their formulas. The tests convert to torch
and compare with PyTorch.
"""

import numpy as np


def padding_mask(lengths, max_len=None):
    """Mask of the padding of a batch of sequences: True at every position past a sequence's end.

    lengths: (B,) ints >= 0; max_len: the padded length, default max(lengths).
    Returns (B, max_len) bool with mask[b, t] = t >= lengths[b].
    Raises ValueError if lengths is not 1-D, has a negative entry, or one longer than max_len.
    """
    lengths = np.asarray(lengths)
    if lengths.ndim != 1:
        raise ValueError(f"lengths must be 1-D (B,), got shape {lengths.shape}")
    if np.any(lengths < 0):
        raise ValueError(f"lengths must be >= 0, got {lengths}")
    longest = int(lengths.max(initial=0))
    max_len = longest if max_len is None else max_len
    if longest > max_len:
        raise ValueError(f"a sequence of length {longest} does not fit in max_len={max_len}")
    return np.arange(max_len)[None, :] >= lengths[:, None]


def padding_mask_from_ids(ids, pad_id):
    """Mask of the padding of a batch of token ids: True where the id is the padding id.

    ids: (B, T) ints (any shape works). Returns a bool array of the same shape, ids == pad_id.
    """
    return np.asarray(ids) == pad_id


def sequence_mask(n, m=None):
    """Look-ahead (causal) mask: query i must not see the keys j > i that come after it.

    n queries, m keys (default n). Returns (n, m) bool, strictly upper triangular:
    mask[i, j] = j > i, i.e. triu(ones, diagonal=1). Raises ValueError for a negative size.
    """
    m = n if m is None else m
    if n < 0 or m < 0:
        raise ValueError(f"sizes must be >= 0, got {n} and {m}")
    return np.triu(np.ones((n, m), dtype=bool), k=1)


def broadcast_mask(x, mask):
    """Return ``x`` as a float array and ``mask`` broadcast to its shape (a view, no copy).

    Raises ValueError if the mask is not boolean or does not broadcast to x's shape.
    """
    x, mask = np.asarray(x, dtype=float), np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError(f"mask must be boolean (True = ignore), got dtype {mask.dtype}")
    try:
        return x, np.broadcast_to(mask, x.shape)
    except ValueError:
        raise ValueError(f"mask of shape {mask.shape} does not broadcast to {x.shape}") from None


def masked_mean(x, mask, dim):
    """Mean of x along dim over the positions the mask keeps.

    x: any shape; mask: bool, True = ignore, broadcastable to x (for x of (B, T, D) and a (B, T)
    padding mask pass mask[:, :, None]). Returns x's shape without dim:

        mean = sum(x where kept) / (number kept),  0 for a fully masked row (never NaN).

    Masked values never enter the result, not even a NaN or inf held there.
    Raises ValueError as ``broadcast_mask`` does.
    """
    x, mask = broadcast_mask(x, mask)
    kept = (~mask).sum(axis=dim)
    return np.where(mask, 0.0, x).sum(axis=dim) / np.maximum(kept, 1)


def masked_max(x, mask, dim):
    """Maximum of x along dim over the positions the mask keeps.

    x: any shape; mask: bool, True = ignore, broadcastable to x. Returns x's shape without dim:
    the max after filling masked positions with -inf (not 0, not 1e-10: the kept values may all
    be negative), and 0 for a fully masked row (never -inf).
    Raises ValueError as ``broadcast_mask`` does.
    """
    x, mask = broadcast_mask(x, mask)
    best = np.where(mask, -np.inf, x).max(axis=dim)
    return np.where((~mask).any(axis=dim), best, 0.0)


def masked_softmax(scores, mask, dim=-1):
    """Softmax of scores along dim over the kept positions; masked positions get exactly 0.

    scores: any shape; mask: bool, True = ignore, broadcastable to scores. Returns scores' shape:

        p_i = exp(s_i - c) / sum_{j kept} exp(s_j - c) for kept i, 0 for masked i,

    with c the row's largest kept score (so exp never overflows). The mask is applied before the
    exponential, as a -inf fill: filling with a small number such as 1e-10 leaves exp(1e-10) = 1
    of weight on the padding, and masking after the softmax leaves kept weights that do not add
    up to 1. A fully masked row gives zeros, never NaN.
    Raises ValueError as ``broadcast_mask`` does.
    """
    scores, mask = broadcast_mask(scores, mask)
    scores = np.where(mask, -np.inf, scores)
    top = scores.max(axis=dim, keepdims=True)
    exps = np.exp(scores - np.where(np.isfinite(top), top, 0.0))
    total = exps.sum(axis=dim, keepdims=True)
    return np.divide(exps, total, out=np.zeros_like(exps), where=total > 0)


def check_attention_args(query, key, value):
    """Validate attention's inputs; return them as float arrays.

    query: (..., L, E), key: (..., S, E), value: (..., S, E_v). Raises ValueError for fewer than
    2 axes, or a query and key with different E, or a key and value with different S.
    """
    query, key, value = (np.asarray(a, dtype=float) for a in (query, key, value))
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise ValueError("query, key and value need at least 2 axes (..., length, features)")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"query has E={query.shape[-1]} features, key {key.shape[-1]}")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"key has S={key.shape[-2]} positions, value {value.shape[-2]}")
    return query, key, value


def scaled_dot_product_attention(query, key, value, attn_mask=None, key_padding_mask=None,
                                 is_causal=False):
    """Attention softmax(q k^T / sqrt(E)) v, as torch.nn.functional.scaled_dot_product_attention.

    query: (..., L, E), key: (..., S, E), value: (..., S, E_v), the leading axes broadcast
    (batch, heads). Returns (..., L, E_v): each query's weights over the S keys, times the values.

    Masks use this course's convention, True = ignore:
    - attn_mask: bool, broadcastable to (..., L, S), True where query i must not see key j; or a
      float array added to the scores (0 to keep, -inf to ignore), as in PyTorch.
    - key_padding_mask: (N, S) bool, True at the padded keys of batch element n (N is query's
      first axis); (S,) for one sequence. The same convention as torch.nn.MultiheadAttention's.
    - is_causal: query i sees keys 0..i only (sequence_mask); not allowed with attn_mask.
    Careful: PyTorch's *boolean* attn_mask means the opposite, True = take part. Convert ours
    with ``~attn_mask`` (``torch.logical_not``) before passing it to PyTorch. A query whose keys
    are all masked gets zero weights and outputs zeros (never NaN), as PyTorch's does.
    Raises ValueError as ``check_attention_args`` does, for attn_mask with is_causal, a
    key_padding_mask that is not boolean or has not S positions, or a mask that does not
    broadcast to the scores (..., L, S).
    """
    query, key, value = check_attention_args(query, key, value)
    scores = query @ np.swapaxes(key, -1, -2) / np.sqrt(query.shape[-1])  # (..., L, S)
    ignore = np.zeros(scores.shape[-2:], dtype=bool)
    if is_causal and attn_mask is not None:
        raise ValueError("give either attn_mask or is_causal=True, not both")
    if is_causal:
        ignore = sequence_mask(*scores.shape[-2:])
    elif attn_mask is not None and np.asarray(attn_mask).dtype == bool:
        ignore = np.asarray(attn_mask)
    elif attn_mask is not None:
        scores = scores + attn_mask
    if key_padding_mask is not None:
        padded = np.asarray(key_padding_mask)
        if padded.dtype != bool or padded.shape[-1:] != scores.shape[-1:]:
            raise ValueError(f"key_padding_mask must be boolean (N, S) with S={scores.shape[-1]}, "
                             f"got {padded.dtype} {padded.shape}")
        # (N, S) -> (N, 1, ..., 1, S): the same keys are padding for every head and query.
        padded = padded.reshape(padded.shape[:-1] + (1,) * (scores.ndim - padded.ndim)
                                + padded.shape[-1:])
        ignore = ignore | padded
    return masked_softmax(scores, ignore) @ value
