"""The multichannel assignment graded end to end: honest, partial, wrong and cheating answers."""

import pytest

ALL_ANSWERS = {"corr2d": None, "corr2d_multi_in": None, "corr2d_multi_in_out": None,
               "layer": None}
POINTS = {"corr2d-hidden": 1, "corr2d_multi_in-hidden": 3, "corr2d_multi_in_out-hidden": 3,
          "layer-hidden": 3}
LAYER = ("weight_shape = {weight}\nnum_params = {params}\n"
         "output_shape = (8, 64, 32, 32)\n")

WRONG = {  # typical wrong answers: name -> (cell, code)
    "channels_not_summed": ("corr2d_multi_in", (
        "def corr2d_multi_in(X, K):\n"
        "    return np.stack([corr2d(x, k) for x, k in zip(X, K)])\n")),
    "channels_averaged": ("corr2d_multi_in", (
        "def corr2d_multi_in(X, K):\n"
        "    return np.mean([corr2d(x, k) for x, k in zip(X, K)], axis=0)\n")),
    "channels_last": ("corr2d_multi_in_out", (
        "def corr2d_multi_in_out(X, K):\n"
        "    return np.stack([corr2d_multi_in(X, k) for k in K], axis=-1)\n")),
    "torch": ("corr2d_multi_in_out", (
        "import torch\n"
        "def corr2d_multi_in_out(X, K):\n"
        "    t = lambda a: torch.tensor(np.asarray(a, dtype=float))\n"
        "    return torch.nn.functional.conv2d(t(X)[None], t(K))[0].numpy()\n")),
    "bias_forgotten": ("layer", LAYER.format(weight=(64, 3, 3, 3), params=64 * 3 * 3 * 3)),
    "in_and_out_swapped": ("layer", LAYER.format(weight=(3, 64, 3, 3), params=1792)),
}


def test_points_add_up_to_what_the_notebook_promises(course):
    source = course.source("multichannel")
    points = {c.metadata.nbgrader.grade_id: c.metadata.nbgrader.get("points")
              for c in source.cells if c.metadata.nbgrader["grade"]}
    assert {k: v for k, v in points.items() if v} == POINTS
    assert "10 in all" in "".join(c.source for c in source.cells)


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("multichannel")
    rows = course.grade("multichannel", {
        "correct": ALL_ANSWERS,
        "blank": {},
        "corr2d_only": {"corr2d": None},
        **{name: {**ALL_ANSWERS, cell: code} for name, (cell, code) in WRONG.items()},
    }, out)
    return rows, out / "grades"


@pytest.mark.parametrize("student, score", [
    ("correct", 10), ("blank", 0), ("corr2d_only", 1),
    # corr2d_multi_in_out is built on corr2d_multi_in, so it fails with it
    ("channels_not_summed", 4), ("channels_averaged", 4),
    ("channels_last", 7), ("torch", 7), ("bias_forgotten", 7), ("in_and_out_swapped", 7),
])
def test_each_submission_gets_the_score_it_deserves(graded, student, score):
    rows, _ = graded
    assert (float(rows[student]["score"]), float(rows[student]["max_score"]),
            rows[student]["status"]) == (score, 10, "graded")


def test_reasons_say_what_went_wrong(graded):
    rows, _ = graded
    assert rows["correct"]["reason"] == "all tests passed"
    assert "wrong shape" in rows["channels_not_summed"]["reason"]
    assert "corr2d_multi_in with three input channels: wrong values" in (
        rows["channels_averaged"]["reason"])
    assert "wrong shape" in rows["channels_last"]["reason"]
    assert "no credit" in rows["torch"]["reason"]
    assert "num_params" in rows["bias_forgotten"]["reason"]
    assert "weight_shape" in rows["in_and_out_swapped"]["reason"]


def test_feedback_shows_verdicts_but_no_hidden_test(graded):
    _, out = graded
    for student in ["correct", "channels_not_summed", "bias_forgotten"]:
        html = (out / "feedback" / f"{student}.html").read_text()
        assert "BEGIN HIDDEN TESTS" not in html and "default_rng" not in html
        assert "torch.nn.Conv2d(3, 64" not in html and "no_library_convolution" not in html
