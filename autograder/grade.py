"""Grade a folder of submissions with nbgrader, one private course directory per submission.

nbgrader's gradebook is one SQLite file that is not safe for concurrent writers, and its
autograde runs student code inside the course directory. So each submission is autograded in a
fresh temporary course directory holding only the instructor's source notebook, a copy of the
gradebook and that one submission; workers run these in parallel, each writes its result to
``OUT/results/<student>.json``, and only this process writes the course's gradebook and
``OUT/grades.csv``. Whatever happens to a submission, it gets a row with a status and a reason:

- ``graded``: autograded; ``reason`` lists the failed tests (or says that all passed);
- ``missing``: no notebook in the student's folder;
- ``invalid``: the file is not a readable Jupyter notebook;
- ``timeout``: the notebook ran past the time limit for a whole notebook;
- ``error``: nbgrader could not grade it (e.g. the kernel died); ``reason`` says why.
"""

import csv
import json
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.utils import is_grade

from autograder import COURSE_DIR
from autograder.course import nbgrader, source_notebook_path

CSV_COLUMNS = ["student", "assignment", "score", "max_score", "status", "reason"]
NOTEBOOK_TIMEOUT = 600  # seconds for one whole submission, all cells together
MAX_REASON = 500


@dataclass
class Result:
    student: str
    assignment: str
    score: float
    max_score: float
    status: str
    reason: str
    tests: dict = field(default_factory=dict)  # grade_id -> [score, max_score, message]

    def row(self):
        return {name: getattr(self, name) for name in CSV_COLUMNS}


def gradebook_url(course_dir):
    return f"sqlite:///{Path(course_dir) / 'gradebook.db'}"


def max_score(assignment):
    with Gradebook(gradebook_url(COURSE_DIR)) as gb:
        return float(gb.find_assignment(assignment).max_score)


def find_notebook(folder, assignment):
    """The student's notebook and a note when it was not named ``<assignment>.ipynb``."""
    expected = folder / f"{assignment}.ipynb"
    if expected.is_file():
        return expected, ""
    notebooks = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    if len(notebooks) == 1:
        return notebooks[0], f"graded {notebooks[0].name} (expected {expected.name}); "
    found = ", ".join(p.name for p in notebooks) or "no notebook"
    return None, f"no {expected.name} in the student's folder (found {found})"


def read_submission(path):
    """The notebook as nbformat v4, or raise ValueError with a readable reason."""
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # nbformat raises many types for a broken file
        first_line = (str(error).strip().split("\n") or [""])[0][:200]
        raise ValueError(f"not a readable Jupyter notebook ({type(error).__name__}: {first_line})")
    return nb


def test_messages(notebook):
    """The test cells' grade_ids in notebook order, and the first error line of each failure."""
    order, messages = [], {}
    for cell in notebook.cells:
        if not is_grade(cell):
            continue
        order.append(cell.metadata.nbgrader.grade_id)
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            evalue = str(errors[-1].get("evalue", "")).strip().split("\n")[0][:200]
            ename = errors[-1].get("ename", "Error")
            messages[order[-1]] = f"{ename}: {evalue}" if evalue else ename
    return order, messages


def failure_reason(log):
    """A short, readable cause from nbgrader's log of a failed autograde."""
    if "DeadKernelError" in log or "Kernel died" in log:
        return "the kernel died while running the notebook (a crash, os._exit or out of memory)"
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error" in line]
    return "nbgrader could not grade it: " + ((errors or lines or ["no output"])[-1][:300])


def autograde_one(assignment, student, notebook, out_dir, timeout=NOTEBOOK_TIMEOUT):
    """Autograde one submission in a private course directory; return its Result."""
    with tempfile.TemporaryDirectory(prefix=f"cnnbook-{student}-") as tmp:
        course = Path(tmp)
        shutil.copy(COURSE_DIR / "gradebook.db", course)
        source = source_notebook_path(assignment, course)
        source.parent.mkdir(parents=True)
        shutil.copy(source_notebook_path(assignment), source)
        submitted = course / "submitted" / student / assignment / f"{assignment}.ipynb"
        submitted.parent.mkdir(parents=True)
        nbformat.write(notebook, submitted)

        top = Result(student, assignment, 0.0, max_score(assignment), "error", "")
        try:
            code, log = nbgrader(
                course, "autograde", assignment, "--student", student, "--force", timeout=timeout)
        except subprocess.TimeoutExpired:
            top.status = "timeout"
            top.reason = f"the notebook ran for more than {timeout} s in all"
            return top
        autograded = course / "autograded" / student / assignment / f"{assignment}.ipynb"
        if code != 0 or not autograded.exists():
            top.reason = failure_reason(log)
            return top

        with Gradebook(gradebook_url(course)) as gb:
            submission = gb.find_submission(assignment, student)
            top.score, top.max_score = float(submission.score), float(submission.max_score)
            grades = {g.name: (float(g.score), float(g.max_score))
                      for nb in submission.notebooks for g in nb.grades}
        order, messages = test_messages(nbformat.read(autograded, as_version=4))
        top.tests = {gid: [*grades[gid], messages.get(gid, "")] for gid in order if gid in grades}
        failed = [f"{gid} ({messages[gid]})" if gid in messages else gid
                  for gid, (score, most, _) in top.tests.items() if score < most or gid in messages]
        top.status = "graded"
        top.reason = ("failed: " + "; ".join(failed)) if failed else "all tests passed"

        code, log = nbgrader(course, "generate_feedback", assignment, "--student", student, "--force",
                             timeout=timeout)
        html = course / "feedback" / student / assignment / f"{assignment}.html"
        if html.exists():
            (out_dir / "feedback").mkdir(exist_ok=True)
            shutil.copy(html, out_dir / "feedback" / f"{student}.html")
        else:
            top.reason += "; no feedback: " + failure_reason(log)
        for step in ("submitted", "autograded", "feedback"):  # nbgrader's layout, for formgrader
            kept = COURSE_DIR / step / student / assignment
            if (course / step / student / assignment).exists():
                shutil.rmtree(kept, ignore_errors=True)
                shutil.copytree(course / step / student / assignment, kept)
        return top


def grade_student(assignment, folder, out_dir):
    """Grade one student's folder and save ``results/<student>.json``; never raises."""
    student = folder.name
    path, note = find_notebook(folder, assignment)
    try:
        if path is None:
            result = Result(student, assignment, 0.0, max_score(assignment), "missing", note)
        else:
            result = autograde_one(assignment, student, read_submission(path), out_dir)
            result.reason = note + result.reason
    except ValueError as error:
        result = Result(student, assignment, 0.0, max_score(assignment), "invalid", str(error))
    except Exception as error:  # the batch goes on: this row records what went wrong
        result = Result(student, assignment, 0.0, max_score(assignment), "error",
                        f"grader error: {type(error).__name__}: {error}")
    result.reason = result.reason[:MAX_REASON]
    (out_dir / "results" / f"{student}.json").write_text(json.dumps(asdict(result), indent=1))
    return result


def record_in_gradebook(results):
    """Write the graded results into the course's gradebook: one writer, after all workers."""
    with Gradebook(gradebook_url(COURSE_DIR)) as gb:
        for result in results:
            gb.update_or_create_student(result.student)
            if result.status != "graded":
                continue
            try:
                submission = gb.find_submission(result.assignment, result.student)
            except MissingEntry:
                submission = gb.add_submission(result.assignment, result.student)
            for grade in (g for nb in submission.notebooks for g in nb.grades):
                grade.auto_score = result.tests.get(grade.name, [0.0])[0]
            gb.db.commit()


def write_csv(results, path):
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(result.row() for result in results)


def grade(assignment, submissions, out_dir, workers=1):
    """Grade every ``submissions/<student>/`` for ``assignment``; return the Results, by student.

    Writes ``out_dir/grades.csv``, ``out_dir/feedback/<student>.html`` and the course gradebook.
    """
    submissions, out_dir = Path(submissions), Path(out_dir)
    if not source_notebook_path(assignment).exists() or not (COURSE_DIR / "gradebook.db").exists():
        raise ValueError(f"{assignment} is not released yet: run `cnnbook release {assignment}`")
    if not submissions.is_dir():
        raise ValueError(f"{submissions} is not a folder of <student>/{assignment}.ipynb")
    (out_dir / "results").mkdir(parents=True, exist_ok=True)
    folders = sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(lambda f: grade_student(assignment, f, out_dir), folders))
    record_in_gradebook(results)
    write_csv(results, out_dir / "grades.csv")
    return results
