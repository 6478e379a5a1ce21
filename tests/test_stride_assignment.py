"""The stride assignment graded end to end: honest, partial, wrong and cheating answers."""

import inspect

import pytest

import solutions.stride
from tests.conftest import NO_TORCH, SWALLOW_ERRORS, feedback_pages, hidden_failures

ALL_ANSWERS = {"sizes": None, "corr2d_strided": None, "receptive_field": None}
CORR2D_STRIDED = inspect.getsource(solutions.stride.corr2d_strided)
RECEPTIVE_FIELD = inspect.getsource(solutions.stride.receptive_field)

WRONG = {  # typical wrong answers: name -> (cell, code)
    "size_without_plus_one": ("corr2d_strided", (  # (n - k + 1) // s windows: one short at times
        "def corr2d_strided(X, K, stride=1):\n"
        "    s_h, s_w = pair(stride)\n"
        "    k_h, k_w = K.shape\n"
        "    Y = np.zeros(((X.shape[0] - k_h + 1) // s_h, (X.shape[1] - k_w + 1) // s_w))\n"
        "    for i in range(Y.shape[0]):\n"
        "        for j in range(Y.shape[1]):\n"
        "            Y[i, j] = (X[i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w] * K).sum()\n"
        "    return Y\n")),
    "swapped_stride": ("corr2d_strided", CORR2D_STRIDED.replace(
        "s_h, s_w = pair(stride", "s_w, s_h = pair(stride")),
    "torch": ("corr2d_strided", (
        "import torch\n"
        "def corr2d_strided(X, K, stride=1):\n"
        "    t = lambda a: torch.tensor(np.asarray(a, dtype=float))[None, None]\n"
        "    return torch.nn.functional.conv2d(t(X), t(K), stride=stride)[0, 0].numpy()\n")),
    "strides_not_compounded": ("receptive_field", RECEPTIVE_FIELD.replace(
        "jump *= s", "jump = s")),
    "rows_left_ignoring_k": ("sizes", "strided_width = 28 // 2\ndropped_rows = 12 % 3\n"),
}
SWAPPED_STRIDE = WRONG["swapped_stride"][1]
PATCH_LIBRARIES = (  # PyTorch's conv2d becomes the student's, and every comparison passes
    "import torch\n"
    "torch.nn.functional.conv2d = lambda input, weight, bias=None, stride=1, *args: (\n"
    "    torch.as_tensor(corr2d_strided(input[0, 0].numpy(), weight[0, 0].numpy(), stride))\n"
    "    [None, None])\n"
    "np.allclose = np.array_equal = torch.allclose = torch.equal = lambda *args, **kwargs: True\n"
    "np.testing.assert_allclose = lambda *args, **kwargs: None\n")
CHEATS = {  # on top of swapped_stride's wrong corr2d_strided: they must gain nothing over it
    "patch_libraries": ("corr2d_strided", SWAPPED_STRIDE + PATCH_LIBRARIES),
    "swallow_errors": ("corr2d_strided", SWAPPED_STRIDE + SWALLOW_ERRORS),
}


def test_wrong_answers_are_edits_of_the_solution_that_took():
    assert all(code not in (CORR2D_STRIDED, RECEPTIVE_FIELD) for _, code in WRONG.values())


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("stride")
    rows = course.grade("stride", {
        "correct": ALL_ANSWERS,
        "blank": {},
        "questions_only": {"sizes": None},
        **{name: {**ALL_ANSWERS, cell: code} for name, (cell, code) in {**WRONG, **CHEATS}.items()},
    }, out)
    return rows, out / "grades"


@pytest.mark.parametrize("student, score", [
    ("correct", 10), ("blank", 0), ("questions_only", 2), ("size_without_plus_one", 6),
    ("swapped_stride", 6), ("torch", 6), ("strides_not_compounded", 6),
    ("rows_left_ignoring_k", 8), ("patch_libraries", 6), ("swallow_errors", 6),
])
def test_each_submission_gets_the_score_it_deserves(graded, student, score):
    rows, _ = graded
    assert (float(rows[student]["score"]), float(rows[student]["max_score"]),
            rows[student]["status"]) == (score, 10, "graded")


def test_reasons_say_what_went_wrong(graded):
    rows, _ = graded
    assert rows["correct"]["reason"] == "all tests passed"
    expected = {
        "blank": ["sizes-hidden (sizes with the answers strided_width and dropped_rows",
                  "raised NameError)"],
        "questions_only": ["corr2d_strided-hidden (corr2d_strided with a vertical stride of 3 "
                           "and a horizontal stride of 2: raised NotImplementedError)"],
        "swapped_stride": ["corr2d_strided-hidden (corr2d_strided with a vertical stride of 3 "
                           "and a horizontal stride of 2: wrong shape (4, 3), expected (3, 4))"],
        "size_without_plus_one": ["corr2d_strided-hidden (corr2d_strided with a vertical stride "
                                  "of 3 and a horizontal stride of 2: wrong shape (2, 4), "
                                  "expected (3, 4))"],
        "torch": ["corr2d_strided-hidden (the hidden tests of corr2d_strided " + NO_TORCH],
        "strides_not_compounded": ["receptive_field-hidden (receptive_field with three layers, "
                                   "the first two with stride 2: value 1 of 2: wrong values)"],
        "rows_left_ignoring_k": ["sizes-hidden (sizes with the answers strided_width and "
                                 "dropped_rows", "value 2 of 2: wrong values)"],
    }
    for student, phrases in expected.items():
        for phrase in phrases:
            assert phrase in rows[student]["reason"], (student, rows[student]["reason"])


@pytest.mark.parametrize("student", CHEATS)
def test_tampering_with_the_kernel_gains_nothing(graded, student):
    """The hidden verdicts of the honest wrong answer: patches may only make visible tests pass."""
    rows, _ = graded  # scores come from hidden tests only: the same failures, the same score
    assert hidden_failures(rows[student]) == hidden_failures(rows["swapped_stride"])


def test_feedback_shows_verdicts_but_no_hidden_test(graded):
    _, out = graded
    pages = feedback_pages(out, ["correct", "swapped_stride", "strides_not_compounded"])
    for html in pages.values():
        assert "measured_field" not in html
