"""The padding assignment graded end to end: honest, partial, wrong and cheating answers."""

import inspect

import pytest

import solutions.padding

ALL_ANSWERS = {"sizes": None, "even_kernel": None, "pad2d": None}
POINTS = {"sizes-hidden": 2, "even_kernel-hidden": 1, "pad2d-constant-hidden": 4,
          "pad2d-modes-hidden": 3}
PAD2D = inspect.getsource(solutions.padding.pad2d)
REFLECT = ("        rows = (h - 1) - np.abs((h - 1) - np.abs(rows))\n"
           "        cols = (w - 1) - np.abs((w - 1) - np.abs(cols))\n")
SYMMETRIC = (  # numpy's "symmetric" mode, which repeats the edge: [a b c] -> b a [a b c] c b
    "        rows = np.where(rows < 0, -rows - 1, np.where(rows >= h, 2 * h - 1 - rows, rows))\n"
    "        cols = np.where(cols < 0, -cols - 1, np.where(cols >= w, 2 * w - 1 - cols, cols))\n")
INDEXING = "    rows, cols = np.arange("

WRONG_PAD2D = {  # typical wrong pad2d answers: name -> code
    "wrong_order": PAD2D.replace("input, (left, right, top, bottom) = check_pad2d_args",
                                 "input, (top, bottom, left, right) = check_pad2d_args"),
    "constant_only": PAD2D.replace(INDEXING, "    raise NotImplementedError(mode)\n" + INDEXING),
    "edge_repeated": PAD2D.replace(REFLECT, SYMMETRIC),
    "np_pad": "def pad2d(input, pad, mode='constant', value=0.0):\n"
              "    input, (left, right, top, bottom) = check_pad2d_args(input, pad, mode)\n"
              "    widths = [(0, 0)] * (input.ndim - 2) + [(top, bottom), (left, right)]\n"
              "    if mode == 'constant':\n"
              "        return np.pad(input, widths, constant_values=value)\n"
              "    modes = {'reflect': 'reflect', 'replicate': 'edge'}\n"
              "    return np.pad(input, widths, mode=modes[mode])\n",
}
WRONG_NUMBERS = {  # name -> (cell, answer)
    "ceil_on_top": ("even_kernel", "same_top = 2\nsame_bottom = 1\n"),  # d2l's other split
    "off_by_one": ("sizes", "valid_width = 32 - 5\nsame_p = 2\nfull_width = 32 + 2 * 4 - 5\n"),
}


def test_wrong_answers_are_edits_of_the_solution_that_took():
    assert all(code != PAD2D for code in WRONG_PAD2D.values())


def test_points_add_up_to_what_the_notebook_promises(course):
    source = course.source("padding")
    points = {c.metadata.nbgrader.grade_id: c.metadata.nbgrader.get("points")
              for c in source.cells if c.metadata.nbgrader["grade"]}
    assert {k: v for k, v in points.items() if v} == POINTS
    assert "10 in all" in "".join(c.source for c in source.cells)


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("padding")
    rows = course.grade("padding", {
        "correct": ALL_ANSWERS,
        "blank": {},
        "questions_only": {"sizes": None, "even_kernel": None},
        **{name: {**ALL_ANSWERS, "pad2d": code} for name, code in WRONG_PAD2D.items()},
        **{name: {**ALL_ANSWERS, cell: code} for name, (cell, code) in WRONG_NUMBERS.items()},
    }, out)
    return rows, out / "grades"


@pytest.mark.parametrize("student, score", [
    ("correct", 10), ("blank", 0), ("questions_only", 3),
    ("wrong_order", 3), ("constant_only", 7), ("edge_repeated", 7), ("np_pad", 3),
    ("ceil_on_top", 9), ("off_by_one", 8),
])
def test_each_submission_gets_the_score_it_deserves(graded, student, score):
    rows, _ = graded
    assert (float(rows[student]["score"]), float(rows[student]["max_score"]),
            rows[student]["status"]) == (score, 10, "graded")


def test_reasons_say_what_went_wrong(graded):
    rows, _ = graded
    assert rows["correct"]["reason"] == "all tests passed"
    assert "no credit" in rows["np_pad"]["reason"] and "numpy" in rows["np_pad"]["reason"]
    assert "pad2d in reflect mode" in rows["edge_repeated"]["reason"]
    assert "same_top" in rows["ceil_on_top"]["reason"]
    assert "valid_width" in rows["off_by_one"]["reason"]


def test_feedback_shows_verdicts_but_no_hidden_test(graded):
    _, out = graded
    for student in ["correct", "wrong_order", "np_pad"]:
        html = (out / "feedback" / f"{student}.html").read_text()
        assert "BEGIN HIDDEN TESTS" not in html and "default_rng" not in html
        assert "no_library_call" not in html and "first_tap" not in html
