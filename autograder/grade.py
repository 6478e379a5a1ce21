"""Grade a folder of submissions: each in its own folder and kernel, one gradebook writer.

nbgrader's autograde runs student code inside the course directory, one submission at a time,
and its gradebook is one SQLite file that is not safe for concurrent writers. So each submission
is rebuilt from the released notebook (its answers only), given back the instructor's hidden
tests and run by ``autograder.execute`` in a fresh temporary folder, with a sandboxed kernel;
the grader judges the outputs in its own process. Workers run submissions in parallel, each
writes its result to ``OUT/results/<student>.json``, and only this process writes the course's
gradebook and ``OUT/grades.csv``. Whatever happens to a submission, it gets a row with a status
and a reason:

- ``graded``: autograded; ``reason`` lists the failed tests (or says that all passed);
- ``missing``: no notebook in the student's folder;
- ``invalid``: the file is not a readable Jupyter notebook;
- ``timeout``: the notebook ran past the time limit for a whole notebook;
- ``error``: the notebook could not be run to the end (e.g. the kernel died); ``reason`` says why.
"""

import csv
import functools
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import numpy as np
from nbgrader.api import Gradebook, MissingEntry
from nbformat.v4 import new_output

from autograder import COURSE_DIR
from autograder.course import released_notebook_path, run_group, source_notebook_path
from autograder.feedback import feedback_html
from autograder.hidden import load
from autograder.sandbox import kernelspec, kill_cgroup
from autograder.submission import read_submission, rebuild, with_hidden_tests
from autograder.verdict import cell_verdicts

#: What of the course directory no kernel may see: the gradebook and every notebook but the release.
PRIVATE = ("gradebook.db", "source", "submitted", "autograded", "feedback")
#: Where each submission gets its private folder while it is graded (the grader's user's only).
GRADING_DIR = Path(tempfile.gettempdir()) / "cnnbook-grading"
CSV_COLUMNS = ["student", "assignment", "score", "max_score", "status", "reason"]
MAX_REASON = 500


@dataclass(frozen=True)
class Limits:
    """What one submission may use; exceeding a limit ends it with a status that names it."""
    cell_timeout: int = 60       # seconds, then the cell is interrupted and the next one runs
    notebook_timeout: int = 600  # seconds for the whole submission, then status "timeout"
    memory_mb: int = 4096        # address space of the kernel: beyond it, MemoryError
    processes: int = 256         # tasks (processes and threads): beyond it, fork fails


@dataclass
class Result:
    student: str
    assignment: str
    score: float
    max_score: float
    status: str
    reason: str
    tests: dict = field(default_factory=dict)  # grade_id -> [score, max_score, message]
    fingerprint: str = ""  # of the submission and the assignment: unchanged means no re-grade

    def row(self):
        return {name: getattr(self, name) for name in CSV_COLUMNS}


def gradebook_url(course_dir):
    return f"sqlite:///{Path(course_dir) / 'gradebook.db'}"


@functools.cache
def source_notebook(assignment):
    """The instructor's notebook: hidden tests included, read once per run."""
    return nbformat.read(source_notebook_path(assignment), as_version=4)


def test_points(assignment):
    """grade_id -> points of every test cell, from the instructor's source notebook."""
    return {cell.metadata.nbgrader.grade_id: float(cell.metadata.nbgrader.points)
            for cell in source_notebook(assignment).cells
            if cell.metadata.get("nbgrader", {}).get("grade")}


def max_score(assignment):
    return sum(test_points(assignment).values())


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


def show_hidden_verdicts(notebook, verdicts, assignment):
    """Replace each hidden-case cell's raw results by its verdict, for the feedback page."""
    hidden = load(assignment)
    for cell in notebook.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in hidden:
            message = verdicts.get(gid)
            cell.outputs = [new_output("error", ename="HiddenTestFailed", evalue=message,
                                       traceback=[]) if message else
                            new_output("stream", name="stdout", text="passed\n")]


def failure_reason(log):
    """A short, readable cause from the log of a notebook that could not be run to the end."""
    if "DeadKernelError" in log or "Kernel died" in log:
        where = re.search(r"while running (.*)$", log, re.M)
        return ("the kernel died" + (f" while running {where[1]}" if where else "")
                + " (a crash, os._exit or out of memory)")
    exceptions = re.findall(r"^\s*(\w+(?:Error|Exception|Exit)\b.*)$", log, re.M)
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    return "the notebook could not be run: " + ((exceptions or lines or ["no output"])[-1][:300])


def autograde_one(assignment, student, notebook, out_dir, limits, hidden=()):
    """Run one submission in a private folder and a sandboxed kernel; return its Result.

    hidden: paths the kernel must not see.
    """
    with tempfile.TemporaryDirectory(prefix=f"{student}-", dir=GRADING_DIR) as tmp:
        graded, work = Path(tmp) / f"{assignment}.ipynb", Path(tmp) / "work"
        work.mkdir()
        released = nbformat.read(released_notebook_path(assignment), as_version=4)
        nbformat.write(with_hidden_tests(rebuild(released, notebook), source_notebook(assignment)),
                       graded)
        top = Result(student, assignment, 0.0, max_score(assignment), "error", "")
        cgroup = f"cnnbook-{Path(tmp).name}"
        spec = kernelspec(Path(tmp) / "jupyter", memory_mb=limits.memory_mb, cgroup=cgroup,
                          max_processes=limits.processes, hidden=hidden)
        try:
            code, log = run_group([sys.executable, "-m", "autograder.execute", graded, graded,
                                   f"--cell-timeout={limits.cell_timeout}"],
                                  work, timeout=limits.notebook_timeout,
                                  env={"JUPYTER_PATH": str(spec)})
        except subprocess.TimeoutExpired:
            top.status = "timeout"
            top.reason = f"the notebook ran for more than {limits.notebook_timeout} s in all"
            return top
        finally:
            kill_cgroup(cgroup)  # what the kernel left running, daemons included
        if code != 0:
            top.reason = failure_reason(log)
            return top

        # Scores come from the instructor's points and the grader's verdicts only.
        notebook = nbformat.read(graded, as_version=4)
        verdicts = cell_verdicts(notebook, assignment)
        for gid, points in test_points(assignment).items():
            message = verdicts.get(gid, "the test did not run")
            top.tests[gid] = [points if message is None else 0.0, points, message]
        top.score = sum(score for score, _, _ in top.tests.values())
        failed = [f"{gid} ({message})" for gid, (_, _, message) in top.tests.items() if message]
        top.status = "graded"
        top.reason = ("failed: " + "; ".join(failed)) if failed else "all tests passed"
        show_hidden_verdicts(notebook, verdicts, assignment)
        html = feedback_html(notebook, assignment, student, top.tests)
        (out_dir / "feedback").mkdir(exist_ok=True)
        (out_dir / "feedback" / f"{student}.html").write_text(html)
        keep_for_formgrader(assignment, student, notebook, html)
        return top


def keep_for_formgrader(assignment, student, notebook, html):
    """The graded notebook and its feedback page where nbgrader's formgrader looks for them."""
    for step, suffix, text in [("autograded", "ipynb", nbformat.writes(notebook)),
                               ("feedback", "html", html)]:
        folder = COURSE_DIR / step / student / assignment
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / f"{assignment}.{suffix}").write_text(text)


@functools.cache
def source_digest(assignment):
    return hashlib.sha256(source_notebook_path(assignment).read_bytes()).digest()


def fingerprint(path, assignment):
    """Hash of the submitted file (or its absence) and of the instructor's source notebook."""
    digest = hashlib.sha256(source_digest(assignment))
    digest.update(path.read_bytes() if path is not None else b"missing")
    return digest.hexdigest()


def previous_result(saved, stamp):
    """The saved Result of an earlier run for the same submission, or None."""
    try:
        result = Result(**json.loads(saved.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return result if result.fingerprint == stamp else None


def grade_student(assignment, folder, out_dir, limits=Limits(), force=False, hidden=()):
    """Grade one student's folder and save ``results/<student>.json``; never raises.

    Without ``force``, a submission already graded in ``out_dir`` (same file, same assignment)
    is not run again: an interrupted batch resumes where it stopped.
    """
    student = folder.name
    path, note = find_notebook(folder, assignment) if folder.is_dir() else (
        None, "no folder for this student")
    saved = out_dir / "results" / f"{student}.json"
    stamp = fingerprint(path, assignment)
    if not force and (result := previous_result(saved, stamp)):
        return result
    try:
        if path is None:
            result = Result(student, assignment, 0.0, max_score(assignment), "missing", note)
        else:
            result = autograde_one(assignment, student, read_submission(path), out_dir, limits,
                                   hidden)
            result.reason = note + result.reason
    except ValueError as error:
        result = Result(student, assignment, 0.0, max_score(assignment), "invalid", str(error))
    except Exception as error:  # the batch goes on: this row records what went wrong
        result = Result(student, assignment, 0.0, max_score(assignment), "error",
                        f"grader error: {type(error).__name__}: {error}")
    result.reason, result.fingerprint = result.reason[:MAX_REASON], stamp
    partial = saved.with_suffix(".tmp")
    partial.write_text(json.dumps(asdict(result), indent=1))
    partial.replace(saved)  # atomic: an interrupted run never leaves half a result
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


def write_summary(assignment, results, out_dir):
    """``summary.md`` (statistics, statuses, tests ranked by failures) and ``scores.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scores = np.array([r.score for r in results]) if results else np.zeros(0)
    top = max_score(assignment)
    statuses = Counter(r.status for r in results)
    failures = Counter(gid for r in results for gid, (score, most, message) in r.tests.items()
                       if message or score < most)
    lines = [f"# {assignment}: {len(results)} submissions", "",
             f"- mean {scores.mean():.2f} / {top:g}, median {np.median(scores):.2f}"
             if len(scores) else "- no submissions",
             "- " + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())), "",
             "| test | students failing |", "| --- | --- |"]
    lines += [f"| {gid} | {n} |" for gid, n in failures.most_common()]
    (out_dir / "summary.md").write_text("\n".join(lines) + "\n")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(scores, bins=np.linspace(0, top, int(top) + 2) if top else 10, edgecolor="black")
    ax.set(xlabel=f"score (out of {top:g})", ylabel="students", title=assignment)
    fig.tight_layout()
    fig.savefig(out_dir / "scores.png", dpi=100)
    plt.close(fig)


def grade(assignment, submissions, out_dir, workers=1, limits=Limits(), force=False, roster=()):
    """Grade every ``submissions/<student>/`` (and every student of ``roster``) for ``assignment``.

    Writes ``out_dir/grades.csv``, ``summary.md``, ``scores.png``, ``feedback/<student>.html``
    and the course gradebook; returns the Results, by student.
    """
    submissions, out_dir = Path(submissions), Path(out_dir)
    if not source_notebook_path(assignment).exists() or not (COURSE_DIR / "gradebook.db").exists():
        raise ValueError(f"{assignment} is not released yet: run `cnnbook release {assignment}`")
    if not submissions.is_dir():
        raise ValueError(f"{submissions} is not a folder of <student>/{assignment}.ipynb")
    (out_dir / "results").mkdir(parents=True, exist_ok=True)
    load(assignment), source_notebook(assignment)  # read before any submission runs
    names = {p.name for p in submissions.iterdir() if p.is_dir() and not p.name.startswith(".")}
    folders = [submissions / name for name in sorted(names | set(roster))]
    GRADING_DIR.mkdir(mode=0o700, exist_ok=True)
    hidden = [*(COURSE_DIR / name for name in PRIVATE), submissions.resolve(), out_dir.resolve(),
              GRADING_DIR]  # the other submissions' folders
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(lambda folder: grade_student(
            assignment, folder, out_dir, limits, force, hidden), folders))
    record_in_gradebook(results)
    write_csv(results, out_dir / "grades.csv")
    write_summary(assignment, results, out_dir)
    return results
