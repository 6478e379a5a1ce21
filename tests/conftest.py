"""Shared fixtures: a private nbgrader course directory with the assignments released in it, and
the book built into the checkout's _build/html."""

import copy
import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
HTML = REPO / "_build" / "html"


STATEMENT = re.compile(r"(for |return |raise |[\w, \[\]]+ [+]?= )")


def solution_statements(source):
    """Distinctive statements of a function's body (after its docstring): the answer itself."""
    body = source.split('"""')[-1] if '"""' in source else source.split(":\n", 1)[1]
    lines = (line.strip() for line in body.splitlines())
    return [line for line in lines if len(line) > 25 and STATEMENT.match(line)]


def hidden_test_lines(notebook):
    """Distinctive lines of a source notebook's hidden tests: what no student may see."""
    return [line.strip() for cell in notebook.cells if "BEGIN HIDDEN TESTS" in cell.source
            for line in cell.source.split("### BEGIN HIDDEN TESTS")[1].splitlines()
            if len(line.strip()) > 20]


def toc_pages():
    """Every page in _toc.yml, root first, as paths without suffix (e.g. "book/convolution")."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc["parts"]:
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


def build_book():
    """Release the assignments and build the book as `make book` does; return the build log."""
    bin_dir = Path(sys.executable).parent
    log = ""
    for command in ([bin_dir / "cnnbook", "release", "--all"],
                    [bin_dir / "jupyter-book", "build", "-W", "."]):
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1200)
        assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        log += done.stdout + done.stderr
    return log


@pytest.fixture(scope="session")
def book():
    """The book built into _build/html (unchanged chapters come from the execution cache)."""
    build_book()
    return HTML


def hidden_failures(row):
    """The hidden tests a row's reason says failed (a cheat may well pass the visible ones).

    Their grade ids only: each submission's cases are drawn from its own digest, so two
    submissions with the same bug may fail on other cases of the same test.
    """
    return [part.split(" (")[0] for part in row["reason"].removeprefix("failed: ").split("; ")
            if "-hidden (" in part]


#: What no feedback page may show: the hidden tests' fences, where they live, their inputs' maker.
HIDDEN_CODE = ("BEGIN HIDDEN TESTS", "HIDDEN[", "default_rng")


def feedback_pages(out, students):
    """student -> their feedback page, each checked to show none of ``HIDDEN_CODE``."""
    pages = {student: (out / "feedback" / f"{student}.html").read_text() for student in students}
    for student, html in pages.items():
        assert [code for code in HIDDEN_CODE if code in html] == [], student
    return pages


#: Why the hidden tests of a NumPy exercise whose answer cells import torch could not run.
NO_TORCH = ("could not run: loading your answer cells raised ModuleNotFoundError: No module named "
            "'torch' (the hidden tests may import numpy only))")


# Code a cheating student appends to an answer: it must gain nothing (see hidden_failures).
SWALLOW_ERRORS = "get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)\n"
PATCH_COMPARISONS = (  # every comparison passes in the student's kernel
    "import torch\n"
    "np.allclose = np.array_equal = torch.allclose = torch.equal = lambda *args, **kwargs: True\n"
    "np.testing.assert_allclose = lambda *args, **kwargs: None\n")


def cnnbook(*args, env=None, check=True, timeout=900):
    """Run the ``cnnbook`` command as an instructor would; return the finished process."""
    done = subprocess.run([sys.executable, "-m", "autograder.cli", *map(str, args)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"cnnbook {args} failed:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    """A course directory outside the checkout, with every assignment released."""
    root = tmp_path_factory.mktemp("course")
    env = {**os.environ, "CNNBOOK_COURSE_DIR": str(root)}
    cnnbook("release", "--all", env=env)
    return Course(root, env)


class Course:
    def __init__(self, root, env):
        self.root, self.env = root, env

    def source(self, assignment):
        return nbformat.read(self.root / "source" / assignment / f"{assignment}.ipynb", 4)

    def released_path(self, assignment):
        return self.root / "release" / assignment / f"{assignment}.ipynb"

    def released(self, assignment):
        return nbformat.read(self.released_path(assignment), 4)

    def student_notebook(self, assignment, answers):
        """The released notebook with some solution cells answered.

        answers: grade_id -> code, or -> None to take the instructor's solution.
        """
        solutions = {cell.metadata.nbgrader.grade_id: cell.source
                     for cell in self.source(assignment).cells
                     if cell.metadata.get("nbgrader", {}).get("solution")}
        nb = copy.deepcopy(self.released(assignment))
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id] or solutions[grade_id]
        return nb

    def cnnbook(self, *args, check=True, env=None):
        """Run ``cnnbook`` on this course, with ``env`` added to its environment."""
        return cnnbook(*args, env={**self.env, **(env or {})}, check=check)

    def grade(self, assignment, students, out, *options, workers=2, env=None):
        """Grade ``students`` (name -> answers, or -> raw file text), ``workers`` at once.

        Returns the rows of grades.csv by student.
        """
        submissions = out / "submissions"
        for student, answers in students.items():
            folder = submissions / student
            folder.mkdir(parents=True, exist_ok=True)
            if isinstance(answers, str):
                (folder / f"{assignment}.ipynb").write_text(answers)
            else:
                nbformat.write(self.student_notebook(assignment, answers),
                               folder / f"{assignment}.ipynb")
        self.cnnbook("grade", assignment, submissions, "--out", out / "grades", "--workers", workers,
                     *options, env=env)
        with open(out / "grades" / "grades.csv") as file:
            return {row["student"]: row for row in csv.DictReader(file)}
