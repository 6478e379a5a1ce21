"""The masks assignment graded end to end: honest, partial, the usual mistakes and cheating."""

import pytest

import solutions.masks
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


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    """One batch, two workers: honest, blank, partial, mistaken and cheating submissions."""
    out = tmp_path_factory.mktemp("masks")
    rows = course.grade("masks", {
        "correct": ALL_ANSWERS,
        "blank": {},
        "partial": {"padding_mask": None, "masked_mean": None},
        **{name: {**ALL_ANSWERS, cell: code} for name, (cell, code) in MISTAKES.items()},
    }, out)
    return rows, out / "grades"


@pytest.mark.parametrize("student, score", [
    ("correct", 10), ("blank", 0), ("partial", 3),
    ("padding_mask_true_at_tokens", 9), ("mean_over_every_position", 8),
    ("max_with_a_tiny_fill", 8),
    # attention uses the student's masked_softmax, so a wrong softmax costs its points too
    ("softmax_with_a_tiny_fill", 5), ("softmax_nan_on_masked_rows", 5),
    ("mask_after_softmax", 5), ("torch_softmax", 5),
    ("mask_after_softmax_renormalized", 7),  # right, but for a huge score at a masked position
    ("numpy_masked_array", 8), ("torch_attention", 8),
])
def test_each_submission_gets_the_score_it_deserves(graded, student, score):
    rows, _ = graded
    row = rows[student]
    assert (float(row["score"]), float(row["max_score"]), row["status"]) == (score, 10, "graded")


def test_reasons_name_the_failed_tests(graded):
    rows, _ = graded
    assert rows["correct"]["reason"] == "all tests passed"
    assert "masked_max-hidden" in rows["max_with_a_tiny_fill"]["reason"]
    assert "masked_softmax-hidden" in rows["mask_after_softmax_renormalized"]["reason"]
    for cheat in ("torch_softmax", "torch_attention", "numpy_masked_array"):
        assert "no credit" in rows[cheat]["reason"]
    assert "numpy.ma.core" in rows["numpy_masked_array"]["reason"]


def test_feedback_says_what_is_wrong_without_the_hidden_test(graded):
    _, out = graded
    for student in ["correct", "blank", "max_with_a_tiny_fill", "torch_softmax"]:
        html = (out / "feedback" / f"{student}.html").read_text()
        assert "BEGIN HIDDEN TESTS" not in html and "default_rng" not in html
        assert "no_library_call" not in html and "assert_matches" not in html
    feedback = {name: (out / "feedback" / f"{name}.html").read_text() for name in
                ("max_with_a_tiny_fill", "softmax_nan_on_masked_rows",
                 "mask_after_softmax_renormalized")}
    assert "masked_max of only negative values" in feedback["max_with_a_tiny_fill"]
    assert "NaN or infinite" in feedback["softmax_nan_on_masked_rows"]
    assert "a huge score at a masked position" in feedback["mask_after_softmax_renormalized"]
