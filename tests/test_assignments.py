"""What every assignment must satisfy: its source passes, its release fails and hides answers."""

import re

import pytest

from autograder.course import assignment_names
from autograder.notebook import INCLUDE, function_source
from autograder import ASSIGNMENTS_DIR
from tests.conftest import hidden_test_lines, solution_statements

ASSIGNMENTS = assignment_names()


def included_functions(assignment, tag):
    """(grade_id, reference source) for each function included into a cell tagged ``tag``."""
    text = (ASSIGNMENTS_DIR / f"{assignment}.md").read_text()
    for cell in re.split(r"```\{code-cell\}", text)[1:]:
        if f":tags: [{tag}]" in cell:
            grade_id = re.search(r":id: (\S+)", cell).group(1)
            for match in INCLUDE.finditer(cell):
                yield grade_id, function_source(match["path"], match["alias"])


def included_solutions(assignment):
    """(grade_id, reference source) for each function included into a solution cell."""
    return included_functions(assignment, "solution")


def test_the_course_has_assignments():
    assert "convolution" in ASSIGNMENTS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_cells_come_from_the_solutions_package(course, assignment):
    cells = {c.metadata.nbgrader.grade_id: c.source for c in course.source(assignment).cells}
    included = list(included_solutions(assignment))
    assert included, f"{assignment} has no solution cell included from solutions/"
    for grade_id, source in included:
        assert "### BEGIN SOLUTION" in cells[grade_id]
        for line in solution_statements(source):
            assert line in cells[grade_id]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_passes_its_visible_tests(course, assignment):
    path = course.root / "source" / assignment / f"{assignment}.ipynb"
    done = course.cnnbook("validate", path, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "visible tests passed" in done.stdout


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_fails_its_tests(course, assignment):
    done = course.cnnbook("validate", course.released_path(assignment), check=False)
    assert done.returncode == 1
    assert "failing visible tests" in done.stdout and "NotImplementedError" in done.stdout


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_has_no_solution_and_no_hidden_test(course, assignment):
    text = course.released_path(assignment).read_text()
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    source = course.source(assignment)
    hidden = hidden_test_lines(source)
    answers = [line for _, src in included_solutions(assignment) for line in solution_statements(src)]
    leaked = [line for line in hidden + answers if line in text]
    assert not leaked, f"released {assignment} shows {leaked[:3]}"
    solution_cells = [c for c in source.cells if c.metadata.nbgrader.get("solution")]
    code = "\n".join(c.source for c in course.released(assignment).cells if c.cell_type == "code")
    assert code.count("raise NotImplementedError()") == len(solution_cells)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_an_honest_full_answer_gets_full_marks_and_a_blank_one_none(course, assignment, tmp_path):
    """Under a secret CNNBOOK_HIDDEN_SEED: the traps hold on cases nobody has seen (the
    assignments' own test modules grade the public cases)."""
    solution_ids = [c.metadata.nbgrader.grade_id for c in course.source(assignment).cells
                    if c.metadata.nbgrader.get("solution")]
    rows = course.grade(assignment, {"full": dict.fromkeys(solution_ids), "blank": {}}, tmp_path,
                        env={"CNNBOOK_HIDDEN_SEED": "an instructor's secret"})
    assert rows["full"]["status"] == "graded" and rows["full"]["reason"] == "all tests passed"
    assert float(rows["full"]["score"]) == float(rows["full"]["max_score"]) > 0
    assert (rows["blank"]["status"], float(rows["blank"]["score"])) == ("graded", 0)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_tests_carry_the_points_the_notebook_promises(course, assignment):
    cells = course.source(assignment).cells
    text = "".join(c.source for c in cells if c.cell_type == "markdown")
    promised = re.search(r"(\d+) in all", text)
    assert promised, f"{assignment} does not tell students how many points it is worth"
    points = {c.metadata.nbgrader.grade_id: c.metadata.nbgrader["points"]
              for c in cells if c.metadata.nbgrader["grade"]}
    assert sum(points.values()) == int(promised.group(1))
    assert all(points[gid] == 0 for gid in points if "BEGIN HIDDEN TESTS" not in
               next(c.source for c in cells if c.metadata.nbgrader["grade_id"] == gid))
