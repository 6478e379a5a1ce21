"""Run a submission's answers on the hidden cases, in a sandboxed process of their own.

The notebook's kernel never sees a hidden case. After the notebook has run (for the feedback
page), the grader starts ``answer_runner.py`` through ``autograder.sandbox``, in a view where only
the exercise's libraries exist (``IMPORTS`` of the assignment's module; NumPy alone by default,
so no ``torch``, ``scipy``, ``solutions`` or ``autograder`` can be imported however the code is
written), and without ``CNNBOOK_HIDDEN_SEED``. It sends the provided and answer cells and the
cases over a pipe, and reads back one JSON line of plain records per test. A test that runs past
the cell time limit, or kills its process, fails alone: the tests after it run in a new process.
"""

import json
import os
import queue
import signal
import subprocess
import sys
import threading

import cloudpickle

from autograder import PACKAGE_DIR

#: The runner and the two modules it imports, beside it.
RUNNER_FILES = ("answer_runner.py", "records.py", "checks.py")
#: Libraries every answer process has: IPython runs the cells, cloudpickle reads the cases.
RUNNER_PACKAGES = ("ipython", "cloudpickle")
MAX_LINE = 16 * 2**20  # bytes of one test's records: what the grader parses at most


def answer_cells(notebook):
    """The code the hidden tests run: the provided cells and the answer cells, in order."""
    cells = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        provided = meta.get("locked") and not meta.get("grade")
        if cell.cell_type == "code" and (meta.get("solution") or provided):
            cells.append(cell.source)
    return cells


def runner_view(imports):
    """The sandbox options and command of an answer process whose answers may use ``imports``
    (distributions; ``solutions`` is the sandbox's ``--course``): the runner and its two
    modules are shown where they are, nothing else of the grader's."""
    packages = [name for name in (*imports, *RUNNER_PACKAGES) if name != "solutions"]
    files = [PACKAGE_DIR / name for name in RUNNER_FILES]
    return ([f"--packages={','.join(packages)}", *(f"--expose={file}" for file in files)],
            ["--", sys.executable, "-E", "-s", str(files[0])])


class Runner:
    """One answer process: its payload written, its lines read (at most ``lines``) in threads."""

    def __init__(self, command, cwd, payload, lines):
        self.process = subprocess.Popen(command, cwd=cwd, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._write, args=(payload,), daemon=True).start()
        threading.Thread(target=self._read, args=(lines,), daemon=True).start()

    def _write(self, payload):
        try:
            self.process.stdin.write(payload)
            self.process.stdin.close()
        except OSError:  # it died before reading everything: the reader says so
            pass

    def _read(self, lines):
        for _ in range(lines):
            line = self.process.stdout.readline(MAX_LINE)
            if not line.endswith(b"\n"):
                self.lines.put("too large" if len(line) >= MAX_LINE else "died")
                return
            self.lines.put(line)

    def next(self, timeout):
        """The next line as a dict, or what happened instead: timeout, died, too large."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return "timeout"
        if isinstance(line, str):
            return line
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            return "garbled"
        return record if isinstance(record, dict) else "garbled"

    def stop(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self.process.stdout.close()


def payload(cells, tests, cases, module):
    """The pickle the runner reads: cells, and each test's ``cases`` (``draw_cases``).

    Classes and functions of the assignment's own module (a probe network) travel by value: the
    runner cannot import the grader's modules.
    """
    cloudpickle.register_pickle_by_value(module)
    specs = [{"grade_id": grade_id, "call": test.call or test.function, "lend": test.lend,
              "cases": [(case.args, case.kwargs, case.check_args) for case in cases[grade_id]],
              "seed": test.seed, "forbidden": test.forbidden, "course": test.course}
             for grade_id, test in tests]
    return cloudpickle.dumps({"cells": cells, "tests": specs})


def what_happened(event, limit):
    return {"timeout": f"ran past the {limit} s limit",
            "died": "its process died (a crash, os._exit or out of memory)",
            "too large": f"its results are larger than {MAX_LINE // 2**20} MB",
            "garbled": "its results could not be read"}.get(event, "no result")


def hidden_outcomes(tests, cells, cases, module, start, limits):
    """grade_id -> ``{"outcomes": [...]}`` or ``{"failed": reason}`` for each of ``tests``
    (grade_id, HiddenTest) on its ``cases``; and the errors the cells raised when loaded.

    start: payload -> a started Runner (in the sandbox, with a fresh cgroup).
    """
    results, setup, pending = {}, [], list(tests)
    while pending:
        runner = start(payload(cells, pending, cases, module), 1 + len(pending))
        try:
            first = runner.next(limits.cell_timeout)
            if not isinstance(first, dict) or "setup" not in first:
                reason = ("your answer cells could not be loaded: "
                          + what_happened(first, limits.cell_timeout))
                results.update((grade_id, {"failed": reason}) for grade_id, _ in pending)
                break
            setup = [str(error) for error in first["setup"]][:5]
            while pending:
                grade_id, test = pending.pop(0)
                line = runner.next(limits.cell_timeout)
                if isinstance(line, dict) and line.get("grade_id") == grade_id:
                    results[grade_id] = {key: line[key] for key in ("outcomes", "missing")
                                         if key in line}  # a "failed" is the grader's word
                    continue
                results[grade_id] = {"failed": f"{test.function} on the hidden cases: "
                                               + what_happened(line, limits.cell_timeout)}
                break  # the tests after it get a new process
        finally:
            runner.stop()
    return results, setup
