"""The convolution assignment graded end to end: honest, partial, wrong, cheating and broken work."""

import csv
import inspect
import json

import nbformat
import pytest

import solutions.convolution
from tests.conftest import NO_TORCH, cnnbook, feedback_pages

ALL_ANSWERS = {"corr2d": None, "conv_output_size": None, "conv2d": None}

CHEATS = {  # wrong conv2d answers the hidden tests must catch: name -> code
    "zeros": "def conv2d(input, weight, bias=None, stride=1, padding=0):\n"
             "    input, weight, bias, (s_h, s_w), (p_h, p_w) = check_conv2d_args(\n"
             "        input, weight, bias, stride, padding)\n"
             "    h = (input.shape[2] + 2 * p_h - weight.shape[2]) // s_h + 1\n"
             "    w = (input.shape[3] + 2 * p_w - weight.shape[3]) // s_w + 1\n"
             "    return np.zeros((input.shape[0], weight.shape[0], h, w))\n",
    "no_bias": inspect.getsource(solutions.convolution.conv2d_loops)
               .replace("def conv2d_loops(", "def conv2d(")
               .replace("if bias is not None:", "if False:"),
    "no_stride": "def conv2d(input, weight, bias=None, stride=1, padding=0):\n"
                 "    X = np.pad(input, ((0, 0), (0, 0), pair(padding), pair(padding)))\n"
                 "    Y = np.stack([np.stack([sum(corr2d(x[c], w[c]) for c in range(len(w)))\n"
                 "                            for w in weight]) for x in X])\n"
                 "    return Y if bias is None else Y + np.asarray(bias)[None, :, None, None]\n",
    "torch": "import torch\n"
             "def conv2d(input, weight, bias=None, stride=1, padding=0):\n"
             "    t = lambda a: None if a is None else torch.tensor(np.asarray(a, dtype=float))\n"
             "    return torch.nn.functional.conv2d(t(input), t(weight), t(bias),\n"
             "                                      stride=stride, padding=padding).numpy()\n",
}


def test_validate_reports_a_student_notebook_that_passes(course, tmp_path):
    path = tmp_path / "convolution.ipynb"
    nbformat.write(course.student_notebook("convolution", ALL_ANSWERS), path)
    done = course.cnnbook("validate", path, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "hidden tests check corr2d (5 cases), conv_output_size (9 cases), conv2d (6 cases)" in (
        done.stdout)
    assert "TCP" not in done.stdout + done.stderr, "the kernel talks over Unix sockets"


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    """One batch, two workers: honest, blank, partial, cheating and broken submissions."""
    out = tmp_path_factory.mktemp("convolution")
    (out / "submissions" / "renamed").mkdir(parents=True)
    nbformat.write(course.student_notebook("convolution", ALL_ANSWERS),
                   out / "submissions" / "renamed" / "convolution (1).ipynb")
    (out / "submissions" / "empty_folder").mkdir()
    (out / "submissions" / "collected" / "convolution").mkdir(parents=True)  # nbgrader collect
    nbformat.write(course.student_notebook("convolution", ALL_ANSWERS),
                   out / "submissions" / "collected" / "convolution" / "convolution.ipynb")
    rows = course.grade("convolution", {
        "correct": ALL_ANSWERS,
        "blank": {},
        "partial": {"corr2d": None},
        "corrupt": '{"cells": [',
        "another_assignment": nbformat.writes(course.student_notebook("pooling", {})),
        **{f"cheat_{name}": {"corr2d": None, "conv_output_size": None, "conv2d": code}
           for name, code in CHEATS.items()},
    }, out)
    return rows, out / "grades"


@pytest.mark.parametrize("student, score, status", [
    ("correct", 10, "graded"), ("blank", 0, "graded"), ("partial", 3, "graded"),
    ("cheat_zeros", 6, "graded"), ("cheat_no_bias", 6, "graded"),
    ("cheat_no_stride", 6, "graded"), ("cheat_torch", 6, "graded"),
    ("renamed", 10, "graded"), ("corrupt", 0, "invalid"), ("empty_folder", 0, "missing"),
    ("another_assignment", 0, "invalid"), ("collected", 10, "graded"),
])
def test_each_submission_gets_the_score_it_deserves(graded, student, score, status):
    rows, _ = graded
    row = rows[student]
    assert (float(row["score"]), float(row["max_score"]), row["status"]) == (score, 10, status)
    assert row["assignment"] == "convolution"
    assert row["reason"]


def test_grades_csv_has_one_row_per_student_folder(graded):
    rows, out = graded
    assert len(rows) == 12
    with open(out / "grades.csv") as file:
        assert file.readline().strip() == "student,assignment,score,max_score,status,reason"


def test_reasons_say_what_went_wrong(graded):
    rows, _ = graded
    assert rows["correct"]["reason"] == "all tests passed"
    assert "conv2d-hidden" in rows["cheat_zeros"]["reason"]
    assert "conv2d-hidden (the hidden tests of conv2d " + NO_TORCH in rows["cheat_torch"]["reason"]
    assert "convolution (1).ipynb" in rows["renamed"]["reason"]
    assert "not a readable Jupyter notebook" in rows["corrupt"]["reason"]
    assert "no convolution.ipynb" in rows["empty_folder"]["reason"]
    assert "another assignment's notebook" in rows["another_assignment"]["reason"]
    assert rows["blank"]["reason"].startswith("nothing answered: every answer cell is as released")
    assert "nothing answered" not in rows["partial"]["reason"]


def test_feedback_shows_verdicts_but_no_hidden_test(graded):
    _, out = graded
    pages = feedback_pages(out, ["correct", "blank", "partial", "cheat_torch"])
    assert ("Hidden tests failed: corr2d with a square kernel on a wide input: raised "
            "NotImplementedError") in pages["blank"]
    assert "Hidden tests passed." in pages["correct"]


def test_gradebook_records_the_scores(graded, course):
    from nbgrader.api import Gradebook

    rows, _ = graded
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gb:
        for student in ["correct", "partial", "cheat_torch"]:
            assert gb.find_submission("convolution", student).score == float(rows[student]["score"])
    assert (course.root / "autograded" / "partial" / "convolution" / "convolution.ipynb").exists()


def test_grade_before_release_is_a_clear_error(tmp_path):
    import os
    env = {**os.environ, "CNNBOOK_COURSE_DIR": str(tmp_path)}
    done = cnnbook("grade", "convolution", tmp_path, "--out", tmp_path / "out", env=env, check=False)
    assert done.returncode == 2
    assert "not released yet" in done.stderr


def test_summary_ranks_the_tests_students_fail(graded):
    _, out = graded
    summary = (out / "summary.md").read_text()
    assert "# convolution: 12 submissions" in summary
    table = summary.split("| --- | --- |\n")[1]
    ranked = [line.split("|")[1].strip() for line in table.splitlines()]
    assert ranked[0] == "conv2d-hidden"  # every wrong answer in the batch fails it
    assert all(test.endswith("-hidden") for test in ranked), "visible tests carry no points"
    assert (out / "scores.png").stat().st_size > 5_000


def test_a_rerun_grades_only_what_changed_and_the_roster_adds_absentees(graded, course):
    rows, out = graded
    submissions = out.parent / "submissions"
    before = {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    nbformat.write(course.student_notebook("convolution", {"corr2d": None}),
                   submissions / "blank" / "convolution.ipynb")
    roster = out.parent / "roster.txt"
    roster.write_text("correct\nblank\nghost\n")
    course.cnnbook("grade", "convolution", submissions, "--out", out, "--roster", roster)
    after = {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    regraded = {name for name in before if after[name] != before[name]}
    assert regraded == {"blank.json"}
    with open(out / "grades.csv") as file:
        rerun = {row["student"]: row for row in csv.DictReader(file)}
    assert float(rerun["blank"]["score"]) == 3
    assert (rerun["ghost"]["status"], rerun["ghost"]["reason"]) == ("missing", "no folder for this student")
    assert len(rerun) == len(rows) + 1


def test_gradescope_results_hold_each_hidden_test_and_no_hidden_input(graded):
    rows, out = graded
    results = {student: json.loads((out / "gradescope" / student / "results.json").read_text())
               for student in ["correct", "partial", "corrupt"]}
    assert results["correct"]["score"] == 10
    assert [(t["name"], t["score"], t["max_score"]) for t in results["partial"]["tests"]] == [
        ("corr2d-hidden", 3, 3), ("conv_output_size-hidden", 0, 3), ("conv2d-hidden", 0, 4)]
    assert results["partial"]["tests"][1]["output"].startswith(
        "conv_output_size with a stride that does not divide evenly: raised")
    assert results["corrupt"]["tests"][0]["name"] == "invalid"
    assert all("[" not in test["output"] for student in ["correct", "partial"]
               for test in results[student]["tests"]), "no array of a hidden case in a verdict"
