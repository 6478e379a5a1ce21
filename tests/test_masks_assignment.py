"""The masks assignment graded end to end: honest, partial, the usual mistakes and cheating."""

import pytest

import solutions.masks
from tests.conftest import (NO_TORCH, PATCH_COMPARISONS, SWALLOW_ERRORS, feedback_pages,
                            hidden_failures)
from tests.test_batchnorm_assignment import variant

ALL_ANSWERS = dict.fromkeys(["padding_mask", "masked_mean", "masked_max", "masked_softmax",
                             "scaled_dot_product_attention"])

SOFTMAX_THEN_MASK = (
    "def masked_softmax(scores, mask, dim=-1):\n"
    "    scores, mask = broadcast_mask(scores, mask)\n"
    "    exps = np.exp(scores - scores.max(axis=dim, keepdims=True))\n"
    "    weights = np.where(mask, 0.0, exps / exps.sum(axis=dim, keepdims=True))\n")

MISTAKES = {  # name -> (solution cell, wrong code), one mistake each
    "padding_mask_true_at_tokens": ("padding_mask", variant(
        solutions.masks.padding_mask, ("np.arange(max_len)[None, :] >= lengths[:, None]",
                                       "np.arange(max_len)[None, :] < lengths[:, None]"))),
    "padding_mask_of_no_sequence": ("padding_mask", variant(
        solutions.masks.padding_mask, ("int(lengths.max(initial=0))", "int(lengths.max())"))),
    "negative_lengths_accepted": ("padding_mask", variant(
        solutions.masks.padding_mask, ("if np.any(lengths < 0):", "if False:"))),
    "mean_multiplies_by_the_mask": ("masked_mean", variant(
        solutions.masks.masked_mean, ("np.where(mask, 0.0, x).sum(axis=dim)",
                                      "(x * ~mask).sum(axis=dim)"))),
    "key_padding_mask_of_any_type": ("scaled_dot_product_attention", variant(
        solutions.masks.scaled_dot_product_attention,
        ("if padded.dtype != bool or padded.shape", "if padded.shape"))),
    "mean_over_every_position": ("masked_mean", variant(
        solutions.masks.masked_mean, ("np.maximum(kept, 1)", "x.shape[dim]"))),
    "max_with_a_tiny_fill": ("masked_max", variant(
        solutions.masks.masked_max, ("np.where(mask, -np.inf, x)", "np.where(mask, 1e-10, x)"))),
    "softmax_with_a_tiny_fill": ("masked_softmax", variant(
        solutions.masks.masked_softmax,
        ("np.where(mask, -np.inf, scores)", "np.where(mask, 1e-10, scores)"))),
    "softmax_nan_on_masked_rows": ("masked_softmax", variant(
        solutions.masks.masked_softmax,
        ("np.divide(exps, total, out=np.zeros_like(exps), where=total > 0)", "exps / total"))),
    "mask_after_softmax": ("masked_softmax", SOFTMAX_THEN_MASK + "    return weights\n"),
    "mask_after_softmax_renormalized": ("masked_softmax", SOFTMAX_THEN_MASK + (
        "    total = weights.sum(axis=dim, keepdims=True)\n"
        "    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)\n")),
    "torch_softmax": ("masked_softmax", (
        "import torch\n"
        "def masked_softmax(scores, mask, dim=-1):\n"
        "    scores, mask = broadcast_mask(scores, mask)\n"
        "    filled = torch.tensor(scores).masked_fill(torch.tensor(mask), float('-inf'))\n"
        "    return torch.softmax(filled, dim).nan_to_num(0.0).numpy()\n")),
    "numpy_masked_array": ("masked_mean", (
        "def masked_mean(x, mask, dim):\n"
        "    x, mask = broadcast_mask(x, mask)\n"
        "    return np.ma.masked_array(x, mask).mean(axis=dim).filled(0.0)\n")),
    "torch_attention": ("scaled_dot_product_attention", (
        "import torch\n"
        "def scaled_dot_product_attention(query, key, value, attn_mask=None,\n"
        "                                 key_padding_mask=None, is_causal=False):\n"
        "    t = lambda a: torch.tensor(np.asarray(a))\n"
        "    if attn_mask is not None and np.asarray(attn_mask).dtype == bool:\n"
        "        attn_mask = ~np.asarray(attn_mask)\n"
        "    if key_padding_mask is not None:\n"
        "        keep = ~key_padding_mask.reshape(key_padding_mask.shape[:1]\n"
        "            + (1,) * (np.ndim(query) - 2) + key_padding_mask.shape[-1:])\n"
        "        attn_mask = keep if attn_mask is None else attn_mask & keep\n"
        "    return torch.nn.functional.scaled_dot_product_attention(t(query), t(key), t(value),\n"
        "        attn_mask=None if attn_mask is None else t(attn_mask),\n"
        "        is_causal=is_causal).numpy()\n")),
}


TINY_FILL_MAX = MISTAKES["max_with_a_tiny_fill"][1]
PATCH_TORCH = (  # PyTorch's masked max becomes the student's: the two always agree
    "import torch\n"
    "torch.masked.amax = lambda input, dim, *, mask, **kwargs: torch.as_tensor(\n"
    "    masked_max(input.numpy(), ~mask.numpy(), dim))\n")
CHEATS = {  # on top of max_with_a_tiny_fill's wrong masked_max: they must gain nothing over it
    "patch_libraries": ("masked_max", TINY_FILL_MAX + PATCH_TORCH + PATCH_COMPARISONS),
    "swallow_errors": ("masked_max", TINY_FILL_MAX + SWALLOW_ERRORS),
}


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    """One batch, two workers: honest, blank, partial, mistaken and cheating submissions."""
    out = tmp_path_factory.mktemp("masks")
    rows = course.grade("masks", {
        "correct": ALL_ANSWERS,
        "blank": {},
        "partial": {"padding_mask": None, "masked_mean": None},
        **{name: {**ALL_ANSWERS, cell: code}
           for name, (cell, code) in {**MISTAKES, **CHEATS}.items()},
    }, out)
    return rows, out / "grades"


@pytest.mark.parametrize("student, score", [
    ("correct", 10), ("blank", 0), ("partial", 3),
    ("padding_mask_true_at_tokens", 9), ("mean_over_every_position", 8),
    ("padding_mask_of_no_sequence", 9), ("negative_lengths_accepted", 9),
    ("mean_multiplies_by_the_mask", 8), ("key_padding_mask_of_any_type", 8),
    ("max_with_a_tiny_fill", 8),
    # attention uses the student's masked_softmax, so a wrong softmax costs its points too
    ("softmax_with_a_tiny_fill", 5), ("softmax_nan_on_masked_rows", 5),
    ("mask_after_softmax", 5), ("torch_softmax", 5),
    ("mask_after_softmax_renormalized", 7),  # right, but for a huge score at a masked position
    ("numpy_masked_array", 8), ("torch_attention", 8),
    ("patch_libraries", 8), ("swallow_errors", 8),
])
def test_each_submission_gets_the_score_it_deserves(graded, student, score):
    rows, _ = graded
    row = rows[student]
    assert (float(row["score"]), float(row["max_score"]), row["status"]) == (score, 10, "graded")


def test_the_honest_answer_passes_every_test(graded):
    rows, _ = graded
    assert rows["correct"]["reason"] == "all tests passed"


SOFTMAX = "masked_softmax-hidden (masked_softmax with "


@pytest.mark.parametrize("student, failed", [
    ("blank", ["padding_mask-hidden (padding_mask with sequences of different lengths: raised "
               "NotImplementedError)"]),
    ("partial", ["masked_max-hidden (masked_max with values of both signs: raised "
                 "NotImplementedError)"]),
    ("padding_mask_true_at_tokens", ["padding_mask-hidden (padding_mask with sequences of "
                                     "different lengths: wrong values)"]),
    ("mean_over_every_position", ["masked_mean-hidden (masked_mean with a (B, T) batch along T: "
                                  "wrong values)"]),
    ("max_with_a_tiny_fill", ["masked_max-hidden (masked_max with only negative values: wrong "
                              "values)"]),
    ("softmax_with_a_tiny_fill", [SOFTMAX + "a (B, S) batch of scores: wrong values)"]),
    ("softmax_nan_on_masked_rows", [SOFTMAX + "a fully masked row (zeros, never NaN): the "
                                    "result has NaN values)"]),
    ("mask_after_softmax", [SOFTMAX + "a (B, S) batch of scores: wrong values)"]),
    ("mask_after_softmax_renormalized", [SOFTMAX + "a huge score at a masked position (mask "
                                         "before the softmax): wrong values)"]),
    ("torch_softmax", ["masked_softmax-hidden (the hidden tests of masked_softmax " + NO_TORCH]),
    ("numpy_masked_array", ["masked_mean-hidden (masked_mean with a (B, T) batch along T: calls "
                            "the library's numpy.ma.core."]),
    ("torch_attention", ["scaled_dot_product_attention-hidden (the hidden tests of "
                         "scaled_dot_product_attention " + NO_TORCH]),
])
def test_reasons_name_the_failed_tests(graded, student, failed):
    rows, _ = graded
    for phrase in failed:
        assert phrase in rows[student]["reason"], rows[student]["reason"]


@pytest.mark.parametrize("student", CHEATS)
def test_tampering_with_the_kernel_gains_nothing(graded, student):
    """The hidden verdicts of the honest wrong answer: patches may only make visible tests pass."""
    rows, _ = graded  # scores come from hidden tests only: the same failures, the same score
    assert hidden_failures(rows[student]) == hidden_failures(rows["max_with_a_tiny_fill"])


def test_feedback_says_what_is_wrong_without_the_hidden_test(graded):
    _, out = graded
    feedback = feedback_pages(out, ["correct", "blank", "max_with_a_tiny_fill", "torch_softmax",
                                    "softmax_nan_on_masked_rows",
                                    "mask_after_softmax_renormalized"])
    assert "masked_max with only negative values" in feedback["max_with_a_tiny_fill"]
    assert "the result has NaN values" in feedback["softmax_nan_on_masked_rows"]
    assert "a huge score at a masked position" in feedback["mask_after_softmax_renormalized"]
