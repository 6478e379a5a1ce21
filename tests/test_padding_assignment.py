"""The padding assignment graded end to end: honest, partial, wrong and cheating answers."""

import inspect

import pytest

import solutions.padding
from tests.conftest import PATCH_COMPARISONS, SWALLOW_ERRORS, feedback_pages

ALL_ANSWERS = {"sizes": None, "even_kernel": None, "pad2d": None}
PAD2D = inspect.getsource(solutions.padding.pad2d)
REFLECT = ("        rows = (h - 1) - np.abs((h - 1) - np.abs(rows))\n"
           "        cols = (w - 1) - np.abs((w - 1) - np.abs(cols))\n")
SYMMETRIC = (  # numpy's "symmetric" mode, which repeats the edge: [a b c] -> b a [a b c] c b
    "        rows = np.where(rows < 0, -rows - 1, np.where(rows >= h, 2 * h - 1 - rows, rows))\n"
    "        cols = np.where(cols < 0, -cols - 1, np.where(cols >= w, 2 * w - 1 - cols, cols))\n")
INDEXING = "    rows, cols = np.arange("
EDGE_REPEATED = PAD2D.replace(REFLECT, SYMMETRIC)

WRONG_PAD2D = {  # typical wrong pad2d answers: name -> code
    "wrong_order": PAD2D.replace("input, (left, right, top, bottom) = check_pad2d_args",
                                 "input, (top, bottom, left, right) = check_pad2d_args"),
    "constant_only": PAD2D.replace(INDEXING, "    raise NotImplementedError(mode)\n" + INDEXING),
    "edge_repeated": EDGE_REPEATED,
    "np_pad": "def pad2d(input, pad, mode='constant', value=0.0):\n"
              "    input, (left, right, top, bottom) = check_pad2d_args(input, pad, mode)\n"
              "    widths = [(0, 0)] * (input.ndim - 2) + [(top, bottom), (left, right)]\n"
              "    if mode == 'constant':\n"
              "        return np.pad(input, widths, constant_values=value)\n"
              "    modes = {'reflect': 'reflect', 'replicate': 'edge'}\n"
              "    return np.pad(input, widths, mode=modes[mode])\n",
}
PATCH_REFERENCE = (  # F.pad, which the grader once asked for the answer, becomes the student's
    "import torch\n"
    "torch.nn.functional.pad = lambda input, pad, mode='constant', value=0.0: torch.as_tensor(\n"
    "    pad2d(input.numpy(), pad, mode, value=0.0 if value is None else value))\n")
CHEATS = {  # on top of edge_repeated's wrong reflect mode: they must gain nothing over it
    "patch_comparisons": EDGE_REPEATED + PATCH_COMPARISONS,
    "swallow_errors": EDGE_REPEATED + SWALLOW_ERRORS,
}
WRONG_NUMBERS = {  # name -> (cell, answer)
    "ceil_on_top": ("even_kernel", "same_top = 2\nsame_bottom = 1\n"),  # d2l's other split
    "off_by_one": ("sizes", "valid_width = 32 - 5\nsame_p = 2\nfull_width = 32 + 2 * 4 - 5\n"),
}


def test_wrong_answers_are_edits_of_the_solution_that_took():
    assert all(code != PAD2D for code in WRONG_PAD2D.values())


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("padding")
    rows = course.grade("padding", {
        "correct": ALL_ANSWERS,
        "blank": {},
        "questions_only": {"sizes": None, "even_kernel": None},
        **{name: {**ALL_ANSWERS, "pad2d": code} for name, code in WRONG_PAD2D.items()},
        **{name: {**ALL_ANSWERS, "pad2d": code} for name, code in CHEATS.items()},
        # Naming PyTorch's padding in pad2d's cell, even to replace it, forfeits pad2d's points.
        "patch_reference": {**ALL_ANSWERS, "pad2d": EDGE_REPEATED + PATCH_REFERENCE},
        **{name: {**ALL_ANSWERS, cell: code} for name, (cell, code) in WRONG_NUMBERS.items()},
    }, out)
    return rows, out / "grades"


@pytest.mark.parametrize("student, score", [
    ("correct", 10), ("blank", 0), ("questions_only", 3),
    ("wrong_order", 3), ("constant_only", 7), ("edge_repeated", 7), ("np_pad", 3),
    ("ceil_on_top", 9), ("off_by_one", 8), ("patch_comparisons", 7), ("swallow_errors", 7),
    ("patch_reference", 3),
])
def test_each_submission_gets_the_score_it_deserves(graded, student, score):
    rows, _ = graded
    assert (float(rows[student]["score"]), float(rows[student]["max_score"]),
            rows[student]["status"]) == (score, 10, "graded")


def test_reasons_say_what_went_wrong(graded):
    rows, _ = graded
    assert rows["correct"]["reason"] == "all tests passed"
    expected = {
        "blank": ["sizes-hidden (sizes with the answers valid_width, same_p and full_width",
                  "raised NameError)"],
        "questions_only": ["pad2d-constant-hidden (pad2d with a different pad on each side of a "
                           "wide input: raised NotImplementedError)"],
        "wrong_order": ["pad2d-constant-hidden (pad2d with a different pad on each side of a wide "
                        "input: wrong shape (6, 9), expected (4, 11))"],
        "constant_only": ["pad2d-modes-hidden (pad2d with reflect mode and a different pad on "
                          "each side: raised NotImplementedError)"],
        "edge_repeated": ["pad2d-modes-hidden (pad2d with reflect mode and a different pad on "
                          "each side: wrong values)"],
        "np_pad": ["pad2d-constant-hidden (pad2d with a different pad on each side of a wide "
                   "input: calls the library's numpy.", ": no credit)"],
        "patch_reference": ["pad2d-constant-hidden (pad2d uses the library's pad: no credit)",
                            "pad2d-modes-hidden (pad2d with reflect mode and a different pad on "
                            "each side: wrong values)"],
        "ceil_on_top": ["even_kernel-hidden (even_kernel with the answers same_top and "
                        "same_bottom", "value 1 of 2: wrong values)"],
        "off_by_one": ["sizes-hidden (sizes with the answers valid_width, same_p and full_width",
                       "value 1 of 3: wrong values)"],
    }
    for student, phrases in expected.items():
        for phrase in phrases:
            assert phrase in rows[student]["reason"], (student, rows[student]["reason"])


@pytest.mark.parametrize("student", CHEATS)
def test_tampering_with_the_kernel_gains_nothing(graded, student):
    """The hidden verdicts of the honest wrong answer: patches may only make visible tests pass."""
    rows, _ = graded

    def hidden_verdicts(row):
        parts = row["reason"].removeprefix("failed: ").split("; ")
        return row["score"], [part for part in parts if "-hidden (" in part]

    assert hidden_verdicts(rows[student]) == hidden_verdicts(rows["edge_repeated"])


def test_feedback_shows_verdicts_but_no_hidden_test(graded):
    _, out = graded
    pages = feedback_pages(out, ["correct", "wrong_order", "np_pad"])
    for html in pages.values():
        assert "first_tap" not in html
