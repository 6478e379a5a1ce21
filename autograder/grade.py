"""Grade a folder of submissions: each in its own folder and sandboxes, one gradebook writer.

nbgrader's autograde runs student code inside the course directory, one submission at a time,
and its gradebook is one SQLite file that is not safe for concurrent writers. So each submission
is rebuilt from the released notebook (its answers only) and run by ``autograder.execute`` in a
fresh temporary folder with a sandboxed kernel, for the feedback page; then its answers run on the
hidden cases in a second sandboxed process (``autograder.answers``), and the grader judges the
records in its own process. Workers run submissions in parallel, each writes its result to
``OUT/results/<student>.json``, and only this process writes the course's gradebook and
``OUT/grades.csv``. Whatever happens to a submission, it gets a row with a status and a reason:

- ``graded``: autograded; ``reason`` lists the failed tests (or says that all passed);
- ``missing``: no notebook in the student's folder;
- ``invalid``: the file is not a readable Jupyter notebook (or a link, or too large);
- ``timeout``: the notebook ran past the time limit for a whole notebook;
- ``error``: the notebook could not be run to the end (e.g. the kernel died); ``reason`` says why.
"""

import csv
import functools
import hashlib
import itertools
import json
import os
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
from autograder.answers import Runner, answer_cells, hidden_outcomes, runner_view
from autograder.course import released_notebook_path, run_group, source_notebook_path
from autograder.feedback import feedback_html, sanitize_notebook
from autograder.hidden import assignment_module, cases_for, draw_cases, imports, load
from autograder.sandbox import capped_folder, kernelspec, kill_cgroup, sandbox_command
from autograder.submission import read_bytes, read_submission, rebuild, unanswered
from autograder.verdict import hidden_verdicts, visible_verdicts

#: Where each submission gets its private folder while it is graded (the grader's user's only).
GRADING_DIR = Path(tempfile.gettempdir()) / "cnnbook-grading"
CSV_COLUMNS = ["student", "assignment", "score", "max_score", "status", "reason"]
MAX_REASON = 500  # characters of a reason in grades.csv (the results JSON keeps all of it)
SOCKETS_MB = 1  # the folder of the kernel's sockets and connection file
#: Names of cgroups: unique in this process, whatever the student's name.
CGROUP_NAMES = (f"cnnbook-{os.getpid()}-{n}" for n in itertools.count())


@dataclass(frozen=True)
class Limits:
    """What one submission may use; exceeding a limit ends it with a status that names it."""
    cell_timeout: int = 60       # seconds, then the cell (or hidden test) is stopped
    notebook_timeout: int = 600  # seconds for the whole notebook, then status "timeout"
    memory_mb: int = 4096        # address space of each sandboxed process: beyond it, MemoryError
    processes: int = 256         # tasks (processes and threads): beyond it, fork fails
    file_mb: int = 64            # size of one file the student's code writes
    work_mb: int = 256           # its working folder, /tmp and /dev/shm are each this size


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
    """The student's notebook and a note when it was not named ``<assignment>.ipynb``.

    Whatever the entry is (a link, a folder), it is only read by ``read_bytes``. nbgrader's
    collected layout, ``<student>/<assignment>/<notebook>.ipynb``, is looked into too.
    """
    nested = folder / assignment
    if nested.is_dir() and not nested.is_symlink():
        folder = nested
    expected = folder / f"{assignment}.ipynb"
    notebooks = sorted(p for p in folder.iterdir() if p.suffix == ".ipynb")
    if expected in notebooks:
        return expected, ""
    if len(notebooks) == 1:
        return notebooks[0], f"graded {readable(notebooks[0].name)} (expected {expected.name}); "
    found = ", ".join(readable(p.name) for p in notebooks) or "no notebook"
    return None, f"no {expected.name} in the student's folder (found {found})"


def show_hidden_verdicts(notebook, verdicts, assignment):
    """Give each hidden test cell its verdict as output, for the feedback page."""
    hidden = load(assignment)
    for cell in notebook.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in hidden:
            message = verdicts.get(gid)
            text = f"Hidden tests failed: {message}\n" if message else "Hidden tests passed.\n"
            cell.outputs = [new_output("stream", name="stdout", text=text)]


def failure_reason(log):
    """A short, readable cause from the log of a notebook that could not be run to the end."""
    if "DeadKernelError" in log or "Kernel died" in log:
        where = re.search(r"while running (.*)$", log, re.M)
        return ("the kernel died" + (f" while running {where[1]}" if where else "")
                + " (a crash, os._exit or out of memory)")
    exceptions = re.findall(r"^\s*(\w+(?:Error|Exception|Exit)\b.*)$", log, re.M)
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    return "the notebook could not be run: " + ((exceptions or lines or ["no output"])[-1][:300])


class Sandbox:
    """The folders of one submission's sandboxed processes, under a private temporary folder:
    ``work`` (their working folder), ``sockets`` (shared with the kernel), ``root`` (where each
    builds its view)."""

    def __init__(self, tmp, limits, assignment):
        self.tmp, self.limits = Path(tmp), limits
        for name in ("work", "sockets", "root"):
            (self.tmp / name).mkdir()
        self.imports, self.withhold = imports(assignment)
        self.cgroups = []  # of the answer processes started, removed by ``hidden``

    def view(self, *options):
        return ["--private", f"--root={self.tmp / 'root'}", *options]

    def course(self):
        return (["--course", *(f"--withhold={module}" for module in self.withhold)]
                if "solutions" in self.imports else [])

    def run_notebook(self, graded):
        """Run the notebook in a sandboxed kernel (all libraries but the course's); return
        (exit code, log)."""
        cgroup = next(CGROUP_NAMES)
        prefix = sandbox_command(self.limits, cgroup, self.view(
            f"--share={self.tmp / 'sockets'}", *self.course()))
        spec = kernelspec(self.tmp / "jupyter", prefix)
        with capped_folder(self.tmp / "sockets", SOCKETS_MB):  # the kernel writes there
            try:
                return run_group([sys.executable, "-m", "autograder.execute", graded, graded,
                                  f"--cell-timeout={self.limits.cell_timeout}",
                                  f"--sockets={self.tmp / 'sockets'}"],
                                 self.tmp / "work", timeout=self.limits.notebook_timeout,
                                 env={"JUPYTER_PATH": str(spec)})
            finally:
                kill_cgroup(cgroup)  # what the kernel left running, daemons included

    def start_answers(self, payload, lines):
        """Start an answer process (``autograder.answers``) in its own cgroup and view."""
        cgroup = next(CGROUP_NAMES)
        self.cgroups.append(cgroup)
        options, command = runner_view(self.imports)
        prefix = sandbox_command(self.limits, cgroup, self.view(*options, *self.course()))
        return Runner(prefix + command, self.tmp / "work", payload, lines)

    def hidden(self, notebook, assignment, cases):
        """The answer process's results for every hidden test on its ``cases``, and its cells'
        errors."""
        try:
            return hidden_outcomes(list(load(assignment).items()), answer_cells(notebook), cases,
                                   assignment_module(assignment), self.start_answers,
                                   self.limits)
        finally:
            for cgroup in self.cgroups:
                kill_cgroup(cgroup)


def autograde_one(assignment, student, notebook, out_dir, limits, digest):
    """Run one submission in a private folder and sandboxed processes; return its Result.

    digest: of the submitted file, from which its hidden cases are drawn (``cases_for``).
    """
    with tempfile.TemporaryDirectory(prefix="submission-", dir=GRADING_DIR) as tmp:
        graded = Path(tmp) / f"{assignment}.ipynb"
        released = nbformat.read(released_notebook_path(assignment), as_version=4)
        rebuilt = rebuild(released, notebook)
        nbformat.write(rebuilt, graded)
        sandbox = Sandbox(tmp, limits, assignment)
        top = Result(student, assignment, 0.0, max_score(assignment), "error", "")
        try:
            code, log = sandbox.run_notebook(graded)
        except subprocess.TimeoutExpired:
            top.status = "timeout"
            top.reason = f"the notebook ran for more than {limits.notebook_timeout} s in all"
            return top
        if code != 0:
            top.reason = failure_reason(log)
            return top

        # Scores come from the instructor's points and the grader's verdicts only.
        notebook = sanitize_notebook(nbformat.read(graded, as_version=4))
        with cases_for(digest):
            cases = draw_cases(load(assignment).items())
        results, setup = sandbox.hidden(notebook, assignment, cases)
        verdicts = {**visible_verdicts(notebook, assignment),
                    **hidden_verdicts(notebook, assignment, cases, results, setup)}
        for gid, points in test_points(assignment).items():
            message = verdicts.get(gid, "the test did not run")
            top.tests[gid] = [points if message is None else 0.0, points, message]
        top.score = sum(score for score, _, _ in top.tests.values())
        failed = [f"{gid} ({message})" for gid, (_, _, message) in top.tests.items() if message]
        top.status = "graded"
        top.reason = ("failed: " + "; ".join(failed)) if failed else "all tests passed"
        if unanswered(released, rebuilt):
            top.reason = "nothing answered: every answer cell is as released; " + top.reason
        show_hidden_verdicts(notebook, verdicts, assignment)
        html = feedback_html(notebook, assignment, student, top.tests)
        (out_dir / "feedback").mkdir(exist_ok=True)
        (out_dir / "feedback" / f"{file_name(student)}.html").write_text(html)
        keep_for_formgrader(assignment, student, notebook, html)
        return top


def keep_for_formgrader(assignment, student, notebook, html):
    """The graded notebook and its feedback page where nbgrader's formgrader looks for them."""
    for step, suffix, text in [("autograded", "ipynb", nbformat.writes(notebook)),
                               ("feedback", "html", html)]:
        folder = COURSE_DIR / step / file_name(student) / assignment
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / f"{assignment}.{suffix}").write_text(text)


@functools.cache
def assignment_digest(assignment):
    """What a grade depends on besides the submission: the instructor's notebook, the hidden
    tests' code, the grader's records and the secret seed (a digest of it)."""
    digest = hashlib.sha256(source_notebook_path(assignment).read_bytes())
    for path in [Path(assignment_module(assignment).__file__), Path(__file__).parent / "hidden.py",
                 Path(__file__).parent / "records.py"]:
        digest.update(path.read_bytes())
    digest.update(os.environ.get("CNNBOOK_HIDDEN_SEED", "").encode())
    return digest.digest()


def fingerprint(content, assignment):
    """Hash of the submitted file's bytes (None: absent) and of ``assignment_digest``."""
    digest = hashlib.sha256(assignment_digest(assignment))
    digest.update(content if content is not None else b"missing")
    return digest.hexdigest()


def previous_result(saved, stamp):
    """The saved Result of an earlier run for the same submission, or None."""
    try:
        result = Result(**json.loads(saved.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return result if result.fingerprint == stamp else None


def readable(name):
    """A file or folder name as text every report can hold: bytes that are not UTF-8 escaped."""
    return name.encode(errors="surrogateescape").decode(errors="backslashreplace")


def file_name(student):
    """A file name for the student's results and feedback, whatever the length of their name."""
    if len(student.encode()) <= 200:
        return student
    return student.encode()[:150].decode(errors="ignore") + "-" + hashlib.sha256(
        student.encode()).hexdigest()[:16]


def grade_student(assignment, folder, out_dir, limits=Limits(), force=False):
    """Grade one student's folder and save ``results/<student>.json``; never raises.

    Without ``force``, a submission already graded in ``out_dir`` (same file, same assignment,
    same hidden tests and seed) is not run again: an interrupted batch resumes where it stopped.
    """
    student = readable(folder.name)
    saved = out_dir / "results" / f"{file_name(student)}.json"
    stamp = ""
    try:
        if not folder.is_dir() or folder.is_symlink():
            path, note = None, ("no folder for this student" if not os.path.lexists(folder)
                                else "the student's entry is not a folder")
        else:
            path, note = find_notebook(folder, assignment)
        content = read_bytes(path) if path is not None else None
        stamp = fingerprint(content, assignment)
        if not force and (result := previous_result(saved, stamp)):
            return result
        if path is None:
            result = Result(student, assignment, 0.0, max_score(assignment), "missing", note)
        else:
            result = autograde_one(assignment, student, read_submission(content), out_dir,
                                   limits, hashlib.sha256(content).hexdigest())
            result.reason = note + result.reason
    except ValueError as error:
        result = Result(student, assignment, 0.0, max_score(assignment), "invalid", str(error))
    except Exception as error:  # the batch goes on: this row records what went wrong
        result = Result(student, assignment, 0.0, max_score(assignment), "error",
                        f"grader error: {type(error).__name__}: {error}")
    result.fingerprint = stamp
    partial = saved.with_suffix(".tmp")
    try:
        partial.write_text(json.dumps(asdict(result), indent=1))
        partial.replace(saved)  # atomic: an interrupted run never leaves half a result
    except OSError:  # e.g. a full disk: the row is still written, the run cannot resume it
        partial.unlink(missing_ok=True)
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


def spreadsheet_cell(value):
    """``value`` as a spreadsheet shows it as text: a leading ``= + - @`` (a formula) is escaped."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(results, path):
    """``grades.csv``: a row a student; reasons shortened, every text cell safe to open."""
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for result in results:
            row = result.row()
            row["reason"] = shorten(row["reason"], MAX_REASON)
            writer.writerow({key: value if isinstance(value, float) else spreadsheet_cell(value)
                             for key, value in row.items()})


def shorten(text, most):
    """``text``, cut at a word boundary to at most ``most`` characters, with "..." if cut."""
    if len(text) <= most:
        return text
    return text[:most - 3].rsplit(" ", 1)[0] + "..."


def write_gradescope(results, out_dir):
    """``gradescope/<student>/results.json`` in Gradescope's autograder format: the total score
    and one entry per hidden test (its points, the grader's verdict; never a hidden input)."""
    for result in results:
        tests = [{"name": gid, "score": score, "max_score": points,
                  "output": message or "passed", "visibility": "visible"}
                 for gid, (score, points, message) in result.tests.items() if points > 0]
        if not tests:  # not graded: the reason is all there is to say
            tests = [{"name": result.status, "score": 0.0, "max_score": result.max_score,
                      "output": result.reason, "visibility": "visible"}]
        folder = out_dir / "gradescope" / file_name(result.student)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "results.json").write_text(json.dumps(
            {"score": result.score, "output": result.reason, "tests": tests}, indent=1))


def write_summary(assignment, results, out_dir):
    """``summary.md`` (statistics, statuses, tests ranked by failures) and ``scores.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    scores = np.array([r.score for r in results]) if results else np.zeros(0)
    top = max_score(assignment)
    statuses = Counter(r.status for r in results)
    hidden = load(assignment)
    failures = Counter(gid for r in results for gid, (score, most, message) in r.tests.items()
                       if gid in hidden and (message or score < most))
    lines = [f"# {assignment}: {len(results)} submissions", "",
             f"- mean {scores.mean():.2f} / {top:g}, median {np.median(scores):.2f}"
             if len(scores) else "- no submissions",
             "- " + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())), "",
             "| hidden test | students failing |", "| --- | --- |"]
    lines += [f"| {gid} | {n} |" for gid, n in failures.most_common()]
    (out_dir / "summary.md").write_text("\n".join(lines) + "\n")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(scores, bins=np.linspace(0, top, int(top) + 2) if top else 10, edgecolor="black")
    ax.set(xlabel=f"score (out of {top:g})", ylabel="students", title=assignment)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # students come whole
    fig.tight_layout()
    fig.savefig(out_dir / "scores.png", dpi=100)
    plt.close(fig)


def grade(assignment, submissions, out_dir, workers=1, limits=Limits(), force=False, roster=()):
    """Grade every ``submissions/<student>/`` (and every student of ``roster``) for ``assignment``.

    Writes ``out_dir/grades.csv``, ``summary.md``, ``scores.png``, ``feedback/<student>.html``,
    ``gradescope/<student>/results.json`` and the course gradebook; returns the Results, by
    student.
    """
    submissions, out_dir = Path(submissions), Path(out_dir)
    if not source_notebook_path(assignment).exists() or not (COURSE_DIR / "gradebook.db").exists():
        raise ValueError(f"{assignment} is not released yet: run `cnnbook release {assignment}`")
    if not submissions.is_dir():
        raise ValueError(f"{submissions} is not a folder of <student>/{assignment}.ipynb")
    (out_dir / "results").mkdir(parents=True, exist_ok=True)
    load(assignment), source_notebook(assignment)  # read before any submission runs
    names = {p.name for p in submissions.iterdir()}  # every entry is a student, odd ones too
    folders = [submissions / name for name in sorted(names | set(roster))]
    GRADING_DIR.mkdir(mode=0o700, exist_ok=True)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(lambda folder: grade_student(
            assignment, folder, out_dir, limits, force), folders))
    record_in_gradebook(results)
    write_csv(results, out_dir / "grades.csv")
    write_gradescope(results, out_dir)
    write_summary(assignment, results, out_dir)
    return results
