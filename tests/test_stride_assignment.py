"""The stride assignment graded end to end: honest, partial, wrong and cheating answers."""

import inspect

import pytest

import solutions.stride

ALL_ANSWERS = {"sizes": None, "corr2d_strided": None, "receptive_field": None}
POINTS = {"sizes-hidden": 2, "corr2d_strided-hidden": 4, "receptive_field-hidden": 4}
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


def test_wrong_answers_are_edits_of_the_solution_that_took():
    assert all(code not in (CORR2D_STRIDED, RECEPTIVE_FIELD) for _, code in WRONG.values())


def test_points_add_up_to_what_the_notebook_promises(course):
    source = course.source("stride")
    points = {c.metadata.nbgrader.grade_id: c.metadata.nbgrader.get("points")
              for c in source.cells if c.metadata.nbgrader["grade"]}
    assert {k: v for k, v in points.items() if v} == POINTS
    assert "10 in all" in "".join(c.source for c in source.cells)


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("stride")
    rows = course.grade("stride", {
        "correct": ALL_ANSWERS,
        "blank": {},
        "questions_only": {"sizes": None},
        **{name: {**ALL_ANSWERS, cell: code} for name, (cell, code) in WRONG.items()},
    }, out)
    return rows, out / "grades"


@pytest.mark.parametrize("student, score", [
    ("correct", 10), ("blank", 0), ("questions_only", 2), ("size_without_plus_one", 6),
    ("swapped_stride", 6), ("torch", 6), ("strides_not_compounded", 6),
    ("rows_left_ignoring_k", 8),
])
def test_each_submission_gets_the_score_it_deserves(graded, student, score):
    rows, _ = graded
    assert (float(rows[student]["score"]), float(rows[student]["max_score"]),
            rows[student]["status"]) == (score, 10, "graded")


def test_reasons_say_what_went_wrong(graded):
    rows, _ = graded
    assert rows["correct"]["reason"] == "all tests passed"
    assert "vertical stride of 3 and a horizontal stride of 2" in rows["swapped_stride"]["reason"]
    assert "wrong shape" in rows["size_without_plus_one"]["reason"]
    assert "no credit" in rows["torch"]["reason"]
    assert "receptive_field is wrong" in rows["strides_not_compounded"]["reason"]
    assert "dropped_rows" in rows["rows_left_ignoring_k"]["reason"]


def test_feedback_shows_verdicts_but_no_hidden_test(graded):
    _, out = graded
    for student in ["correct", "swapped_stride", "strides_not_compounded"]:
        html = (out / "feedback" / f"{student}.html").read_text()
        assert "BEGIN HIDDEN TESTS" not in html and "default_rng" not in html
        assert "measured_field" not in html and "no_library_convolution" not in html
