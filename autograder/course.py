"""The course directory's data flow: assignments/*.md -> source/ -> release/ (nbgrader)."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile

import nbformat

from autograder import ASSIGNMENTS_DIR, COURSE_DIR, PACKAGE_DIR
from autograder.notebook import build_source_notebook

MAX_LOG = 100_000  # bytes kept of the end of a command's output


def assignment_names():
    """Every assignment with a readable source in ``autograder/assignments/``, sorted."""
    return sorted(path.stem for path in ASSIGNMENTS_DIR.glob("*.md"))


def source_notebook_path(assignment, course_dir=COURSE_DIR):
    return course_dir / "source" / assignment / f"{assignment}.ipynb"


def released_notebook_path(assignment, course_dir=COURSE_DIR):
    return course_dir / "release" / assignment / f"{assignment}.ipynb"


def generate(assignment):
    """Write the instructor notebook ``source/<a>/<a>.ipynb`` from ``assignments/<a>.md``."""
    markdown = ASSIGNMENTS_DIR / f"{assignment}.md"
    if not markdown.exists():
        known = ", ".join(assignment_names())
        raise ValueError(f"no assignment {assignment!r}: the course has {known}")
    nb = build_source_notebook(markdown.read_text(), assignment)
    path = source_notebook_path(assignment, COURSE_DIR)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def nbgrader(course_dir, *args):
    """Run one nbgrader command in ``course_dir``; return (exit code, its output).

    The course's nbgrader_config.py is put in ``course_dir`` first, with ``COURSE_ROOT`` telling
    it where it is.
    """
    if not (course_dir / "nbgrader_config.py").exists():
        shutil.copy(PACKAGE_DIR / "nbgrader_config.py", course_dir)
    return run_group([sys.executable, "-m", "nbgrader", *args], course_dir,
                     env={"COURSE_ROOT": str(course_dir)})


def run_group(command, cwd, timeout=None, env=None):
    """Run ``command`` in ``cwd`` in its own process group; return (exit code, end of its output).

    The group is killed when the command ends or times out (``subprocess.TimeoutExpired`` is
    raised), with whatever the command started in it (a kernel starts a session of its own:
    ``autograder.sandbox.kill_cgroup`` ends those). The output goes to a file, not a pipe, so a
    process that outlives the command and keeps the output open cannot make the grader wait.
    """
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **(env or {})},
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            process.wait(timeout=timeout)
        finally:
            _kill_group(process.pid)
            process.wait()
        log.seek(max(0, log.seek(0, os.SEEK_END) - MAX_LOG))
        return process.returncode, log.read().decode(errors="replace")


def _kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def release(assignment):
    """Generate the source notebook, then nbgrader's student version in ``release/``."""
    generate(assignment)
    code, output = nbgrader(COURSE_DIR, "generate_assignment", assignment, "--force")
    path = released_notebook_path(assignment)
    if code != 0 or not path.exists():
        raise RuntimeError(f"nbgrader could not release {assignment}:\n{output}")
    return path
