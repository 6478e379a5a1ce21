"""A class at scale: 200 mixed submissions graded with two workers, every row present and right.

The batch cycles through honest, partial, wrong, cheating, blank, corrupt and misnamed work of the
convolution assignment (corr2d and conv_output_size: 6 points, conv2d: 4), and the roster names
students who handed in nothing. It prints the grader's throughput on this machine.
"""

import itertools
import time

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.test_convolution_assignment import ALL_ANSWERS, CHEATS

COPIES = 200
ABSENT = [f"absent-{i}" for i in range(5)]
KINDS = {  # kind -> (answers, or the raw text of the file; expected score; status)
    "correct": (ALL_ANSWERS, 10, "graded"),
    "partial": ({"corr2d": None}, 3, "graded"),
    "wrong": ({**ALL_ANSWERS, "conv2d": CHEATS["no_stride"]}, 6, "graded"),
    "library": ({**ALL_ANSWERS, "conv2d": CHEATS["torch"]}, 6, "graded"),
    "blank": ({}, 0, "graded"),
    "corrupt": ('{"cells": [', 0, "invalid"),
    "misnamed": (ALL_ANSWERS, 10, "graded"),  # handed in as "convolution (1).ipynb"
}


def expected(student):
    """(score, status) a student of this batch deserves: their kind is in their name."""
    if student in ABSENT:
        return 0, "missing"
    _, score, status = KINDS[student.split("-")[0]]
    return score, status


@pytest.fixture(scope="module")
def batch(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("load")
    kinds = itertools.islice(itertools.cycle(KINDS), COPIES)
    students = {f"{kind}-{i:03d}": KINDS[kind][0] for i, kind in enumerate(kinds)}
    roster = out / "roster.txt"
    roster.write_text("\n".join([*students, *ABSENT]))
    folders = out / "submissions"
    for student in (s for s in students if s.startswith("misnamed")):
        (folders / student).mkdir(parents=True)
        nbformat.write(course.student_notebook("convolution", KINDS["misnamed"][0]),
                       folders / student / "convolution (1).ipynb")
    start = time.perf_counter()
    rows = course.grade("convolution", {s: a for s, a in students.items()
                                        if not s.startswith("misnamed")}, out,
                        "--roster", roster, workers=2)
    seconds = time.perf_counter() - start
    return rows, students, seconds


def test_every_student_has_one_row_with_the_score_they_deserve(batch, capsys):
    rows, students, seconds = batch
    with capsys.disabled():
        print(f"\n{len(students)} submissions graded in {seconds:.0f} s with 2 workers: "
              f"{len(students) / seconds * 60:.1f} per minute")
    assert sorted(rows) == sorted([*students, *ABSENT])
    wrong = {student: (row["score"], row["status"], row["reason"])
             for student, row in rows.items()
             if (float(row["score"]), row["status"]) != expected(student)}
    assert wrong == {}


def test_the_gradebook_holds_every_score(batch, course):
    rows, _, _ = batch
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gb:
        for student, row in rows.items():
            if row["status"] == "graded":
                assert gb.find_submission("convolution", student).score == float(row["score"])
        in_gradebook = [s.id for s in gb.students if s.id in rows]
    assert sorted(in_gradebook) == sorted(rows)
