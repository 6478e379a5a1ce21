"""A catalogue of attacks and broken submissions, graded in one batch: none gains a point, none
harms another student, and every one gets a row with a readable reason.

Each case is a student of the convolution assignment. An honest answer to corr2d and
conv_output_size is worth 6 points, conv2d 4 more. A cheat on conv2d must score exactly what an
honest wrong conv2d scores (6), whatever it tampers with; vandals who answer honestly must get
their 10 and leave the machine as it was. Add a case when you think of an attack (the sandbox
itself is attacked line by line in tests/test_sandbox.py).
"""

import ast
import hashlib
import html
import html.parser
import os
import re
import socket
import subprocess
import threading
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.hidden import encode, judge, load
from solutions.convolution import check_conv2d_args
from tests.conftest import REPO, SWALLOW_ERRORS, feedback_pages

SECRET = "this term's secret"
CORE_PATTERN = Path("/proc/sys/kernel/core_pattern")
CORE_PATTERN_BEFORE = CORE_PATTERN.read_text() if CORE_PATTERN.exists() else ""

CORRECT = {"corr2d": None, "conv_output_size": None, "conv2d": None}
ZEROS_CONV2D = """
def conv2d(input, weight, bias=None, stride=1, padding=0):
    input, weight, bias, (s_h, s_w), (p_h, p_w) = check_conv2d_args(
        input, weight, bias, stride, padding)
    h = (input.shape[2] + 2 * p_h - weight.shape[2]) // s_h + 1
    w = (input.shape[3] + 2 * p_w - weight.shape[3]) // s_w + 1
    return np.zeros((input.shape[0], weight.shape[0], h, w))
"""


#: Finds the cases in the answer process's memory and writes them, as lines the grader reads,
#: into every text that could reach the student's page: a failure, a missing name, an error.
#: The marker is built at run time, so that only a leak, never the code, shows "LEAKED".
LEAK = ("import base64, gc, io, json, os, pickle\n"
        "jobs = [o for o in gc.get_objects()\n"
        "        if type(o) is dict and 'tests' in o and 'cells' in o]\n"
        "if jobs:\n"
        "    out = [o for o in gc.get_objects() if isinstance(o, io.TextIOWrapper)\n"
        "           and isinstance(o.name, int) and o.name > 2][0]\n"
        "    data = 'LEAK' + 'ED' + base64.b64encode(pickle.dumps(jobs[0]['tests'][0]['cases']))"
        ".decode()[:3000]\n"
        "    print(json.dumps({'setup': [data]}), file=out, flush=True)\n"
        "    for test in jobs[0]['tests']:\n"
        "        print(json.dumps({'grade_id': test['grade_id'], 'failed': data, 'missing': data,"
        " 'outcomes': [{'raised': data}, {'library': data}, {'value': {'error': data}}]}),"
        " file=out, flush=True)\n"
        "    os._exit(0)\n")
#: Writes host settings, the cgroups and other students' folders, and fills shared memory.
VANDAL = ("import glob, os\n"
          "for path, text in [('/proc/sys/kernel/core_pattern', '|/tmp/owned.sh'),\n"
          "                   ('/sys/fs/cgroup/pids/pids.max', 'max')]:\n"
          "    try:\n        open(path, 'w').write(text)\n    except OSError:\n        pass\n"
          "for folder in glob.glob('/sys/fs/cgroup/*/cnnbook-*') + glob.glob("
          "'/tmp/cnnbook-grading/*'):\n"
          "    try:\n        os.mkdir(folder + '/owned')\n    except OSError:\n        pass\n"
          "for path in ['/dev/shm/owned'] + [f'{folder}/owned' for folder in glob.glob("
          "'/tmp/cnnbook-grading/*/sockets')]:\n"
          "    try:\n        with open(path, 'wb') as file:\n"
          "            for _ in range(4096):\n                file.write(b'x' * 2**20)\n"
          "    except OSError:\n        pass\n"
          "    print('wrote', path, os.path.getsize(path) // 2**20 if os.path.exists(path) "
          "else 0, 'MB')\n")

def digest(array):
    return hashlib.sha256(np.asarray(array, dtype=float).tobytes()).hexdigest()


def lookup_table():
    """conv2d answering the public hidden cases from a table made with the course's own code
    (the repository is public): only an instructor's secret CNNBOOK_HIDDEN_SEED defeats it."""
    test = load("convolution")["conv2d-hidden"]
    table = {digest(case.args[0]): test.reference(*case.args, **case.kwargs).tolist()
             for case in test.cases() if case.raises is None}
    return ("import hashlib\n"
            f"TABLE = {table!r}\n"
            "def conv2d(input, weight, bias=None, stride=1, padding=0):\n"
            "    check_conv2d_args(input, weight, bias, stride, padding)\n"
            "    key = hashlib.sha256(np.asarray(input, dtype=float).tobytes()).hexdigest()\n"
            "    return np.array(TABLE.get(key, 0.0))\n")


def cheat(code):
    """Honest corr2d and conv_output_size; conv2d replaced by ``code``."""
    return {"corr2d": None, "conv_output_size": None, "conv2d": code}


ANSWERS = {  # student -> answers for Course.student_notebook
    "honest_partial": {"corr2d": None},
    "honest_zeros": cheat(ZEROS_CONV2D),
    "swallow_errors": cheat(ZEROS_CONV2D + SWALLOW_ERRORS),
    "patch_torch": cheat(ZEROS_CONV2D + "import torch, torch.nn.functional as F\n"
                         "F.conv2d = lambda input, weight, bias=None, stride=1, padding=0, "
                         "*args: torch.as_tensor(conv2d(input.numpy(), weight.numpy(), None, "
                         "stride, padding))\ntorch.conv2d = F.conv2d\n"),
    "patch_numpy": cheat(ZEROS_CONV2D + "np.allclose = lambda *args, **kwargs: True\n"
                         "np.testing.assert_allclose = lambda *args, **kwargs: None\n"
                         "np.array_equal = lambda *args, **kwargs: True\n"),
    "override_eq": cheat("class Anything(np.ndarray):\n"
                         "    def __eq__(self, other): return True\n"
                         "    def __array_finalize__(self, obj): pass\n" + ZEROS_CONV2D.replace(
                             "return np.zeros((input.shape[0], weight.shape[0], h, w))",
                             "return np.zeros((input.shape[0], weight.shape[0], h, w))"
                             ".view(Anything)")),
    "replace_helpers": cheat(ZEROS_CONV2D + "import autograder.checks, autograder.hidden\n"
                             "autograder.checks.assert_matches = lambda *a, **k: None\n"
                             "autograder.hidden.judge = lambda *a, **k: None\n"),
    "forge_results": cheat(ZEROS_CONV2D + "import autograder.hidden as h\n"
                           "from IPython.display import display\n"
                           "h.run_hidden_test = lambda a, gid, f: display({h.RESULTS_MIME: "
                           "{'grade_id': gid, 'outcomes': []}}, raw=True)\n"),
    # The library the exercise asks to implement, reached every way students found.
    "library_torch": cheat("import torch\n"
                           "def conv2d(input, weight, bias=None, stride=1, padding=0):\n"
                           "    t = lambda a: None if a is None else torch.as_tensor(a)\n"
                           "    return torch.nn.functional.conv2d(t(input), t(weight), t(bias),\n"
                           "                                      stride, padding).numpy()\n"),
    "library_hidden_name": cheat("import torch\n"
                                 "def conv2d(input, weight, bias=None, stride=1, padding=0):\n"
                                 "    op = getattr(torch.nn.functional, 'con' + 'v2d')\n"
                                 "    t = lambda a: None if a is None else torch.as_tensor(a)\n"
                                 "    return op(t(input), t(weight), t(bias), stride, padding)"
                                 ".numpy()\n"),
    "library_no_profiler": cheat("import sys, torch\nsys.setprofile = lambda *args: None\n"
                                 "def conv2d(input, weight, bias=None, stride=1, padding=0):\n"
                                 "    t = lambda a: None if a is None else torch.as_tensor(a)\n"
                                 "    return torch.conv2d(t(input), t(weight), t(bias), stride,"
                                 " padding).numpy()\n"),
    "import_solutions": {"corr2d": None, "conv2d": None, "conv_output_size":
                         "from solutions.convolution import conv_output_size\n"},
    "private_alias": cheat("def conv2d(input, weight, bias=None, stride=1, padding=0):\n"
                           "    import torch\n"
                           "    t = lambda a: None if a is None else torch.as_tensor(a)\n"
                           "    return torch._C._nn.thnn_conv2d(t(input), t(weight), "
                           "weight.shape[2:], t(bias), stride, padding).numpy()\n"),
    "magic_map": cheat("%time 0\nimport torch.nn.functional as F, torch\n"
                       "def conv2d(input, weight, bias=None, stride=1, padding=0):\n"
                       "    t = lambda a: None if a is None else torch.as_tensor(a)\n"
                       "    return next(map(F.conv2d, [t(input)], [t(weight)], [t(bias)], "
                       "[stride], [padding])).numpy()\n"),
    "exec_solutions": cheat("def conv2d(input, weight, bias=None, stride=1, padding=0):\n"
                            "    import importlib, inspect\n"
                            "    module = importlib.import_module('sol' + 'utions.convolution')\n"
                            "    space = {}\n"
                            "    exec(inspect.getsource(module), space)\n"
                            "    return space['conv2d_loops'](input, weight, bias, stride, "
                            "padding)\n"),
    "thread_call": cheat("import threading\n"
                         "def conv2d(input, weight, bias=None, stride=1, padding=0):\n"
                         "    out = []\n"
                         "    def work():\n"
                         "        import torch\n"
                         "        t = lambda a: None if a is None else torch.as_tensor(a)\n"
                         "        out.append(torch.conv2d(t(input), t(weight), t(bias), stride, "
                         "padding).numpy())\n"
                         "    thread = threading.Thread(target=work)\n"
                         "    thread.start()\n    thread.join()\n    return out[0]\n"),
    # The hidden cases carried out in the answer process's own words, for a table next time.
    "leak_cases": cheat(ZEROS_CONV2D + LEAK),
    # The runner's own outcome() replaced: records that carry numbers and names of any size.
    "forged_records": cheat(ZEROS_CONV2D + "import gc\n"
                            "for space in [o for o in gc.get_objects() if type(o) is dict\n"
                            "              and 'outcome' in o and 'run_cells' in o]:\n"
                            "    space['outcome'] = lambda *args: {'value': "
                            "{'argument': 7 * 10**300}, 'args': []}\n"),
    # Full marks with nothing implemented: build the hidden cases, answer them, forge records.
    "forge_with_grader": cheat(ZEROS_CONV2D + "import os\n"
                               "SEED = os.environ.get('CNNBOOK_HIDDEN_SEED')\n"
                               "import autograder.assignments.convolution as a\n"),
    "loops_forever": cheat("def conv2d(input, weight, bias=None, stride=1, padding=0):\n"
                           "    while True:\n        pass\n"),
    "sys_exit": {**CORRECT, "conv2d": None},  # SystemExit appended below
    "memory_bomb": CORRECT,
    "huge_output": CORRECT,
    "network": CORRECT,
    "os_exit": CORRECT,
    "segfault": CORRECT,
    "lookup_table": cheat(lookup_table()),
    "daemon": CORRECT,
    "fork_bomb": CORRECT,
    "snoop": CORRECT,
    "vandal": CORRECT,
    "huge_display": CORRECT,
    "widget_flood": CORRECT,
    "many_outputs": CORRECT,
    "xss": CORRECT,
}
APPENDED = {  # student -> code appended to their conv2d cell, after an honest conv2d
    "sys_exit": "\nimport sys\nsys.exit(0)\n",
    "memory_bomb": "\nhoard = []\nwhile True:\n    hoard.append(bytearray(2**26))\n",
    "huge_output": "\nprint('x' * 200_000_000)\n",
    "os_exit": "\nimport os\nos._exit(1)\n",
    "segfault": "\nimport ctypes\nctypes.string_at(0)\n",
    # Runs in the answer process too (it loads the answer cells).
    "vandal": "\n" + VANDAL,
}
LAST_CELL = {  # student -> a cell of their own at the end of the notebook, after every test
    "vandal": VANDAL,
    # Outputs that would take the grader's memory, or make a feedback page nobody can open.
    "huge_display": "from IPython.display import display\n"
                    "for _ in range(5):\n"
                    "    display({'application/json': {'x': 'y' * 16_000_000}}, raw=True)\n",
    "many_outputs": "for i in range(20_000):\n    display(i)\n",
    # Widget state is kept by Jupyter outside the outputs: 8 widgets of 20 MB each.
    "widget_flood": "from comm import create_comm\n"
                    "for i in range(8):\n"
                    "    create_comm(target_name='jupyter.widget', data={'state': {\n"
                    "        '_model_module': 'x', '_model_name': 'y', 'blob': 'A' * 20_000_000}})\n",
    # Script in the feedback page (and in formgrader's copy).
    "xss": "from IPython.display import HTML, Javascript, display\n"
           "display(HTML('<script>document.title = \"owned\"</script><img src=x "
           "onerror=\"document.title = 1\">'))\n"
           "display(Javascript('document.title = 2'))\n",
    # A daemon: double fork, new session, so killing the kernel's process group misses it.
    "daemon": "import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
              "        os.execv('/bin/sleep', ['sleep', '617'])\n    os._exit(0)\nos.wait()\n",
    # Fork until the process limit stops it (only where the grader can limit processes).
    "fork_bomb": "import os\nchildren = 0\n"
                 "while os.environ.get('CNNBOOK_PROCESSES') == 'limited' and children < 100_000:\n"
                 "    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
                 "    if pid == 0:\n        os.execv('/bin/sleep', ['sleep', '618'])\n"
                 "    children += 1\nprint(f'forked {children} children', os.environ.get("
                 "'CNNBOOK_PROCESSES'))\n",
}
EXPECTED = {  # student -> (score, status, a phrase of the reason)
    "honest_partial": (3, "graded", "conv2d-hidden"),
    "honest_zeros": (6, "graded", "conv2d with several channels in and out, with bias: wrong"),
    "swallow_errors": (6, "graded", "wrong values"),
    "patch_torch": (6, "graded", "wrong values"),
    "patch_numpy": (6, "graded", "wrong values"),
    "override_eq": (6, "graded", "wrong values"),
    "replace_helpers": (6, "graded", "wrong values"),
    "forge_results": (6, "graded", "wrong values"),
    "forge_with_grader": (6, "graded", "wrong values"),
    "library_torch": (6, "graded", "No module named 'torch'"),
    "library_hidden_name": (6, "graded", "No module named 'torch'"),
    "library_no_profiler": (6, "graded", "No module named 'torch'"),
    "import_solutions": (7, "graded", "No module named 'solutions'"),
    "private_alias": (6, "graded", "raised ModuleNotFoundError"),
    "magic_map": (6, "graded", "No module named 'torch'"),
    "exec_solutions": (6, "graded", "raised ModuleNotFoundError"),
    "thread_call": (6, "graded", "raised IndexError"),
    "loops_forever": (6, "graded", "ran past the 20 s limit"),
    "leak_cases": (0, "graded", "raised an exception"),
    "forged_records": (0, "graded", "returned one of its arguments, not a new value"),
    "sys_exit": (10, "graded", "all tests passed"),
    "memory_bomb": (10, "graded", "all tests passed"),
    "huge_output": (10, "graded", "all tests passed"),
    "network": (10, "graded", "all tests passed"),
    "os_exit": (0, "error", "the kernel died while running cell"),
    "segfault": (0, "error", "the kernel died while running cell"),
    "lookup_table": (6, "graded", "conv2d-hidden"),
    "daemon": (10, "graded", "all tests passed"),
    "fork_bomb": (10, "graded", "all tests passed"),
    "snoop": (10, "graded", "all tests passed"),
    "vandal": (10, "graded", "all tests passed"),
    "huge_display": (10, "graded", "all tests passed"),
    "widget_flood": (10, "graded", "all tests passed"),
    "undecodable_name": (10, "graded", "graded \\xff.ipynb (expected convolution.ipynb)"),
    "many_outputs": (10, "graded", "all tests passed"),
    "xss": (10, "graded", "all tests passed"),
    "edited_tests": (3, "graded", "conv2d-hidden"),
    "deleted_tests": (3, "graded", "conv2d-hidden"),
    "reordered_cells": (3, "graded", "conv2d-hidden"),
    "fake_test_cell": (3, "graded", "conv2d-hidden"),
    "old_format": (3, "graded", "conv2d-hidden"),
    "extra_files": (10, "graded", "all tests passed"),
    "empty_file": (0, "invalid", "not a readable Jupyter notebook"),
    "not_json": (0, "invalid", "not a readable Jupyter notebook"),
    "no_cells": (0, "invalid", "no cells"),
    # Files that are not notebooks, or that would stop the batch.
    "link_to_memory": (0, "invalid", "links are not followed"),
    "link_to_source": (0, "invalid", "links are not followed"),
    "sparse_64_gb": (0, "invalid", "larger than 20 MB"),
    "folder_named_notebook": (0, "invalid", "not a regular file"),
    "huge_cell": (0, "invalid", "characters; the limit is 100,000"),
    "bad_metadata": (0, "invalid", "malformed nbgrader metadata"),
    # Names that would break a spreadsheet, a socket path or a cgroup, or be skipped.
    "=HYPERLINK(\"example.com\",\"click\")": (10, "graded", "all tests passed"),
    "n" * 240: (10, "graded", "all tests passed"),
    ".dotted": (10, "graded", "all tests passed"),
}
ODD_NAMES = ["=HYPERLINK(\"example.com\",\"click\")", "n" * 240, ".dotted"]


@pytest.fixture(scope="module")
def listener():
    """A server on loopback that counts connections: student code must never reach it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    accepted, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


def tampered(course, kind):
    """An honest corr2d only (3 points), its notebook tampered with in one way."""
    nb = course.student_notebook("convolution", {"corr2d": None})
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    if kind == "edited_tests":
        for cell in tests:
            cell.source = "pass"
            cell.metadata.nbgrader["points"] = 100
    elif kind == "deleted_tests":
        nb.cells = [c for c in nb.cells if c not in tests]
    elif kind == "reordered_cells":
        nb.cells = nb.cells[::-1]
    elif kind == "fake_test_cell":
        bonus = nbformat.v4.new_code_cell("pass")
        bonus.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                      "points": 50, "grade_id": "bonus", "schema_version": 3}
        nb.cells.insert(3, bonus)
    elif kind == "old_format":
        return nbformat.writes(nbformat.v4.downgrade(nb), version=3)
    return nbformat.writes(nb)


def snoop(looks, writes):
    """A last cell that reads ``looks`` (name -> path) and prints what it found; where the
    kernel's files are private, it also writes ``writes`` and kills every process it sees."""
    return (f"import os, signal\nfound = {{}}\nfor name, path in {looks!r}.items():\n"
            "    try:\n        found[name] = (sorted(os.listdir(path)) if os.path.isdir(path)\n"
            "                       else open(path, 'rb').read(16))\n"
            "    except OSError as error:\n        found[name] = type(error).__name__\n"
            "if os.environ.get('CNNBOOK_FILES') == 'private':  # else it could do harm here\n"
            f"    for path in {writes!r}:\n        try:\n"
            "            open(path, 'w').write('forged')\n"
            "        except OSError:\n            pass\n"
            "    for pid in [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
            "        if pid != os.getpid():\n            os.kill(pid, signal.SIGKILL)\n"
            "print('found', found, 'files', os.environ.get('CNNBOOK_FILES'))\n")


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory, listener):
    port, _ = listener
    out = tmp_path_factory.mktemp("adversarial")
    last_cell = {**LAST_CELL, "snoop": snoop(
        {"submissions": str(out / "submissions"), "output": str(out / "grades"),
         "gradebook": str(course.root / "gradebook.db")},
        [str(out / "grades" / "forged.json"), str(REPO / "autograder" / "forged.py")])}
    students = {}
    for student, answers in ANSWERS.items():
        nb = course.student_notebook("convolution", answers)
        extra = APPENDED.get(student, "")
        if student == "network":
            extra = (f"\nimport socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}),"
                     " timeout=3).close()\nexcept OSError:\n    pass\n")
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "conv2d":
                cell.source += extra
        if student in last_cell:
            nb.cells.append(nbformat.v4.new_code_cell(last_cell[student]))
        if student == "xss":
            nb.cells.append(nbformat.v4.new_markdown_cell(
                '<script>document.title = 3</script><img src=x onerror="document.title = 4">'
                '<a href="javascript:document.title = 5">a link</a>'))
        students[student] = nbformat.writes(nb)
    for kind in ["edited_tests", "deleted_tests", "reordered_cells", "fake_test_cell",
                 "old_format"]:
        students[kind] = tampered(course, kind)
    students["extra_files"] = nbformat.writes(course.student_notebook("convolution", CORRECT))
    students["empty_file"] = ""
    students["not_json"] = "print('this is a script, not a notebook')"
    students["no_cells"] = nbformat.writes(nbformat.v4.new_notebook())
    big = course.student_notebook("convolution", CORRECT)
    big.cells[-1].source = "x = 1\n" * 400_000
    students["huge_cell"] = nbformat.writes(big)
    broken = course.student_notebook("convolution", CORRECT)
    broken.cells[3].metadata["nbgrader"] = "a solution, trust me"
    students["bad_metadata"] = nbformat.writes(broken)
    for name in ODD_NAMES:
        students[name] = nbformat.writes(course.student_notebook("convolution", CORRECT))
    folders = out / "submissions"
    for student in ["link_to_memory", "link_to_source", "sparse_64_gb", "folder_named_notebook"]:
        (folders / student).mkdir(parents=True)
    notebook = Path("convolution.ipynb")
    (folders / "link_to_memory" / notebook).symlink_to("/proc/self/mem")
    (folders / "link_to_source" / notebook).symlink_to(
        course.root / "source" / "convolution" / notebook)
    with open(folders / "sparse_64_gb" / notebook, "wb") as file:
        file.truncate(64 * 2**30)
    (folders / "folder_named_notebook" / notebook).mkdir()
    (folders / "undecodable_name").mkdir()  # a file name that is not UTF-8, in every report
    (folders / "undecodable_name" / os.fsdecode(b"\xff.ipynb")).write_text(
        nbformat.writes(course.student_notebook("convolution", CORRECT)))
    for name in ["data.csv", "notes.txt", "convolution-old.ipynb"]:
        (out / "submissions" / "extra_files").mkdir(parents=True, exist_ok=True)
        (out / "submissions" / "extra_files" / name).write_text("not graded")
    rows = course.grade("convolution", students, out,
                        "--cell-timeout", 20, "--timeout", 300, "--memory-mb", 3072,
                        env={"CNNBOOK_HIDDEN_SEED": SECRET})
    return {spreadsheet_name(student): row for student, row in rows.items()}, out / "grades"


def spreadsheet_name(student):
    """The name as grades.csv writes it: a leading ``=`` is escaped."""
    return student[1:] if student.startswith("'=") else student


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_the_submission_gets_exactly_what_it_deserves(graded, student):
    rows, _ = graded
    score, status, phrase = EXPECTED[student]
    row = rows[student]
    assert (float(row["score"]), float(row["max_score"]), row["status"]) == (score, 10, status), row
    assert phrase in row["reason"], row["reason"]


def test_the_lookup_table_answers_every_public_case():
    """So it is a real cheat: without a secret seed it would earn conv2d's points."""
    namespace = {"np": np, "check_conv2d_args": check_conv2d_args}
    exec(lookup_table(), namespace)
    test = load("convolution")["conv2d-hidden"]
    cases, outcomes = test.cases(), []
    for case in cases:
        try:
            outcomes.append({"value": encode(namespace["conv2d"](*case.args, **case.kwargs)),
                             "args": []})
        except ValueError:
            outcomes.append({"raised": "ValueError"})
    assert judge(test, cases, outcomes) is None


def test_every_submission_has_exactly_one_row(graded):
    rows, out = graded
    lines = (out / "grades.csv").read_text().strip().splitlines()
    assert len(lines) == 1 + len(EXPECTED) == 1 + len(rows)


def test_student_code_reaches_no_network(graded, listener):
    _, accepted = listener
    assert accepted == []


def process_limit_applies(out):
    """Whether this platform let the grader limit a kernel's processes (as the kernel saw it)."""
    feedback = (out / "feedback" / "fork_bomb.html").read_text()
    assert "children unlimited" in feedback or "children limited" in feedback
    return "children limited" in feedback


def test_a_fork_bomb_stops_at_the_process_limit(graded):
    _, out = graded
    if not process_limit_applies(out):
        pytest.skip("no pids cgroup can be made here: processes are not limited")
    forked = int(re.search(r"forked (\d+) children", (out / "feedback" / "fork_bomb.html")
                           .read_text())[1])
    assert 0 < forked < 256


def test_nothing_a_student_started_is_left_running(graded):
    _, out = graded
    if not process_limit_applies(out):
        pytest.skip("no pids cgroup can be made here: a daemon can outlive its kernel")
    left = subprocess.run(["pgrep", "-f", "sleep 61[78]"], capture_output=True, text=True)
    assert left.stdout == "", left.stdout


def test_a_kernel_sees_no_other_work_and_writes_nothing_the_grader_reads(graded):
    _, out = graded
    page = html.unescape(re.sub(r"<[^>]+>", "", (out / "feedback" / "snoop.html").read_text()))
    found, files = re.search(r"^found (\{.*\}) files (\w+)$", page, re.M).groups()
    if files != "private":
        pytest.skip("no mount and PID namespaces here: the kernel shares the grader's files")
    assert ast.literal_eval(found) == dict.fromkeys(["submissions", "output", "gradebook"],
                                                    "FileNotFoundError")
    assert not (out / "forged.json").exists() and not (REPO / "autograder" / "forged.py").exists()


def test_huge_output_is_cut_in_the_feedback(graded):
    _, out = graded
    assert (out / "feedback" / "huge_output.html").stat().st_size < 2_000_000


def test_no_page_shows_the_secret_the_hidden_cases_or_the_grader(graded):
    _, out = graded
    pages = feedback_pages(out, [student for student, (_, status, _) in EXPECTED.items()
                                 if status == "graded" and student not in ODD_NAMES])
    assert [student for student, page in pages.items() if SECRET in page] == []


def test_vandals_leave_the_machine_as_it_was(graded):
    _, out = graded
    if "files private" not in (out / "feedback" / "snoop.html").read_text():
        pytest.skip("no private view here: a vandal could do harm, so it is not run")
    assert CORE_PATTERN.read_text() == CORE_PATTERN_BEFORE
    assert not Path("/dev/shm/owned").exists()
    assert [str(p) for p in Path("/sys/fs/cgroup").glob("*/cnnbook-*/owned")] == []
    assert [str(p) for p in Path("/tmp/cnnbook-grading").glob("*/owned")] == []


class Elements(html.parser.HTMLParser):
    """Every element's name and attributes of a page."""

    def __init__(self, page):
        super().__init__()
        self.found = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def test_feedback_pages_run_nothing_a_student_wrote(graded):
    _, out = graded
    elements = Elements((out / "feedback" / "xss.html").read_text()).found
    assert [tag for tag, _ in elements if tag in ("script", "iframe", "object", "embed")] == []
    assert [(tag, name) for tag, attrs in elements for name in attrs if name.startswith("on")] == []
    assert [attrs for tag, attrs in elements if "javascript:" in attrs.get("href", "")] == []
    policy = [attrs["content"] for tag, attrs in elements
              if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"]
    assert policy and "script-src" not in policy[0] and "default-src 'none'" in policy[0]
    text = html.unescape(re.sub(r"<[^>]+>", "", (out / "feedback" / "xss.html").read_text()))
    assert "display(Javascript(" in text  # the code shows, as text


def test_formgraders_copy_holds_no_active_output(graded, course):
    notebook = nbformat.read(course.root / "autograded" / "xss" / "convolution" /
                             "convolution.ipynb", 4)
    mimes = {mime for cell in notebook.cells if cell.cell_type == "code"
             for output in cell.outputs for mime in output.get("data", {})}
    assert mimes <= {"text/plain", "image/png", "image/jpeg"}


def test_outputs_that_would_take_the_graders_memory_are_cut(graded):
    _, out = graded
    for student, note in [("huge_display", "an output the feedback page does not show"),
                          ("many_outputs", "more output: cut by the grader"),
                          ("huge_output", "output cut by the grader")]:
        page = out / "feedback" / f"{student}.html"
        assert page.stat().st_size < 2_000_000, student
        assert note in page.read_text(), student


def test_names_that_would_be_formulas_are_text_in_the_spreadsheet(graded):
    _, out = graded
    lines = (out / "grades.csv").read_text().splitlines()
    assert any(line.startswith("\"'=HYPERLINK(") for line in lines)
    assert not any(line.startswith(("=", "\"=")) for line in lines)


def test_nothing_the_answer_process_says_reaches_a_page_or_a_report(graded):
    rows, out = graded
    for report in [out / "feedback" / "leak_cases.html", out / "results" / "leak_cases.json",
                   out / "grades.csv"]:
        assert "LEAKED" not in report.read_text(), report


def test_a_kernel_cannot_fill_the_disk_through_the_folder_it_shares(graded):
    _, out = graded
    page = html.unescape(re.sub(r"<[^>]+>", "", (out / "feedback" / "vandal.html").read_text()))
    shared = re.findall(r"wrote /tmp/cnnbook-grading/\S+/sockets/owned (\d+) MB", page)
    if "files private" not in (out / "feedback" / "snoop.html").read_text():
        pytest.skip("no private view here")
    assert shared and all(int(mb) <= 1 for mb in shared), page[-2000:]


def test_forged_records_carry_no_message_out(graded):
    _, out = graded
    for report in [out / "feedback" / "forged_records.html", out / "results" / "forged_records.json",
                   out / "gradescope" / "forged_records" / "results.json"]:
        text = report.read_text()
        assert not re.search(r"\d{20}", text), report


def test_widget_state_is_not_kept(graded, course):
    graded_copy = (course.root / "autograded" / "widget_flood" / "convolution" /
                   "convolution.ipynb")
    assert graded_copy.stat().st_size < 2_000_000
    assert "widgets" not in nbformat.read(graded_copy, 4).metadata
