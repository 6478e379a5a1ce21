"""Padding the last two axes of an array, as ``torch.nn.functional.pad`` does.

PyTorch lists the padding from the last axis backwards: ``pad = (left, right, top, bottom)``
adds ``left`` columns before and ``right`` columns after the width, then ``top`` rows before
and ``bottom`` rows after the height. An input of ``n_h x n_w`` becomes
``(top + n_h + bottom) x (left + n_w + right)``.
"""

import numpy as np


def check_pad2d_args(input, pad, mode):
    """Validate pad2d's arguments; return the input as a float array and (left, right, top, bottom).

    input: (..., H, W), at least 2-D; pad: 4 non-negative ints; mode: "constant", "reflect"
    or "replicate".
    Raises ValueError naming the first problem found.
    """
    input = np.asarray(input, dtype=float)
    if input.ndim < 2:
        raise ValueError(f"pad2d pads the last two axes: input must be at least 2-D, "
                         f"got {input.ndim}-D")
    if mode not in ("constant", "reflect", "replicate"):
        raise ValueError(f"mode must be 'constant', 'reflect' or 'replicate', got {mode!r}")
    if (not isinstance(pad, (tuple, list)) or len(pad) != 4
            or not all(isinstance(p, (int, np.integer)) for p in pad)):
        raise ValueError(f"pad must be 4 ints (left, right, top, bottom), got {pad!r}")
    left, right, top, bottom = map(int, pad)
    if min(left, right, top, bottom) < 0:
        raise ValueError(f"pad2d adds rows and columns, it does not crop: got pad {pad!r}")
    h, w = input.shape[-2:]
    if mode != "constant" and 0 in (h, w):
        raise ValueError(f"{mode} padding needs at least one row and column, got {h} x {w}")
    if mode == "reflect" and (max(top, bottom) >= h or max(left, right) >= w):
        raise ValueError(f"reflect padding must be smaller than the input: pad {pad!r} "
                         f"for height {h} and width {w}")
    return input, (left, right, top, bottom)


def pad2d(input, pad, mode="constant", value=0.0):
    """Pad the last two axes of ``input``, as ``torch.nn.functional.pad`` with a 4-tuple.

    input: (..., n_h, n_w); pad: (left, right, top, bottom), PyTorch's order (last axis first).
    Returns (..., top + n_h + bottom, left + n_w + right). Padded rows and columns hold
    ``value`` (mode "constant"), copy the nearest edge pixel ("replicate": [a b c] -> a [a b c] c),
    or mirror the input about its first and last row or column, which are not repeated
    ("reflect": [a b c] -> b [a b c] b). ``value`` is used by "constant" only.
    Raises ValueError for an input below 2-D, an unknown mode, a pad that is not 4 non-negative
    ints, or reflect padding as large as the input.
    """
    input, (left, right, top, bottom) = check_pad2d_args(input, pad, mode)
    h, w = input.shape[-2:]
    if mode == "constant":
        out = np.full(input.shape[:-2] + (top + h + bottom, left + w + right), float(value))
        out[..., top:top + h, left:left + w] = input
        return out
    # Padded position i (counted from the first input row, so it runs from -top to h + bottom - 1)
    # copies input row rows[i]; likewise for columns.
    rows, cols = np.arange(-top, h + bottom), np.arange(-left, w + right)
    if mode == "replicate":
        rows, cols = rows.clip(0, h - 1), cols.clip(0, w - 1)
    else:  # reflect about row 0 and row h - 1
        rows = (h - 1) - np.abs((h - 1) - np.abs(rows))
        cols = (w - 1) - np.abs((w - 1) - np.abs(cols))
    return input[..., rows[:, None], cols]
