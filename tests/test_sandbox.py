"""autograder.sandbox, attacked directly: what student code can and cannot do in its view.

Each test runs a few lines of Python as a student would, through the launcher the grader uses,
and asserts on what happened to the machine (files, /dev/shm, core_pattern), not only on what the
snippet says. They need Linux and root, as in CI; elsewhere they skip.
"""

import json
import os
import socket
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from autograder.answers import runner_view
from autograder.grade import Limits
from autograder.sandbox import NOBODY, kill_cgroup, sandbox_command

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0,
    reason="the private view needs Linux and root (as in CI)")
SECRET = "a secret the grader holds"
CORE_PATTERN = Path("/proc/sys/kernel/core_pattern")
#: What every snippet starts with: attempt(action) says "done" or the exception it raised.
ATTEMPT = """
import json, os
def attempt(action):
    try:
        action()
        return "done"
    except BaseException as error:
        return type(error).__name__
"""


@pytest.fixture
def folders(tmp_path):
    for name in ("work", "root", "sockets"):
        (tmp_path / name).mkdir()
    return tmp_path


def run(folders, code, *view, limits=Limits(work_mb=32)):
    """Run ``code`` in the sandbox, after ``ATTEMPT``; return what it printed last, as JSON."""
    command = sandbox_command(limits, None, ["--private", f"--root={folders / 'root'}", *view])
    code = ATTEMPT + textwrap.dedent(code)
    done = subprocess.run([*command, "--", sys.executable, "-c", code],
                          cwd=folders / "work", capture_output=True, text=True, timeout=120,
                          env={**os.environ, "CNNBOOK_HIDDEN_SEED": SECRET, "API_TOKEN": SECRET})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])




def test_student_code_runs_as_nobody_without_capabilities(folders):
    seen = run(folders, """
        import json, os
        status = dict(line.split(":\\t") for line in open("/proc/self/status").read().splitlines()
                      if line.startswith("Cap"))
        print(json.dumps([os.getuid(), os.getgid(), os.getgroups(), status["CapEff"].strip(),
                          status["CapBnd"].strip(), os.environ["CNNBOOK_FILES"]]))""")
    assert seen == [NOBODY, NOBODY, [], "0" * 16, "0" * 16, "private"]


def test_kernel_settings_and_the_host_cannot_be_changed(folders):
    before = CORE_PATTERN.read_text()
    seen = run(folders, """
        print(json.dumps({
            "core_pattern": attempt(lambda: open("/proc/sys/kernel/core_pattern", "w")
                                    .write("|/tmp/h.sh")),
            "sysrq": attempt(lambda: open("/proc/sysrq-trigger", "w").write("b")),
            "sys": attempt(lambda: os.listdir("/sys")),
            "cgroups": attempt(lambda: os.listdir("/sys/fs/cgroup")),
            "mount": __import__("ctypes").CDLL(None).mount(b"tmpfs", b"/tmp", b"tmpfs", 0, None),
        }))""")
    assert seen == {"core_pattern": "OSError", "sysrq": "FileNotFoundError",  # read-only; absent
                    "sys": "FileNotFoundError", "cgroups": "FileNotFoundError", "mount": -1}
    assert CORE_PATTERN.read_text() == before


def test_the_grader_and_other_students_do_not_exist_in_the_view(folders, tmp_path_factory):
    other = tmp_path_factory.mktemp("another-student")
    (other / "convolution.ipynb").write_text("{}")
    repo = Path(__file__).resolve().parents[1]
    paths = {"repo": str(repo / "autograder"), "tests": str(repo / "tests"),
             "ssh": "/root/.ssh", "root's files": "/root/.bashrc",
             "other": str(other), "opt": "/opt", "home": "/home", "var": "/var",
             "base site-packages": sysconfig.get_path("purelib", vars={"base": sys.base_prefix})}
    seen = run(folders, f"""
        import json, os
        print(json.dumps({{name: os.listdir(path) if os.path.exists(path) else "absent"
                          for name, path in {paths!r}.items()}}))""")
    assert seen.pop("base site-packages") in ("absent", [])  # Python's own: shown, empty
    assert seen == {name: "absent" for name in seen}
    python_home = Path(sys.base_prefix)  # /root shows the way to Python, nothing else
    if python_home.is_relative_to("/root"):
        assert run(folders, "import json, os; print(json.dumps(os.listdir('/root')))") == [
            python_home.relative_to("/root").parts[0]]


def test_no_secret_of_the_grader_is_in_the_environment(folders):
    seen = run(folders, "import json, os; print(json.dumps(dict(os.environ)))")
    assert SECRET not in json.dumps(seen)
    assert "CNNBOOK_HIDDEN_SEED" not in seen and "API_TOKEN" not in seen


def test_it_sees_no_other_process(folders):
    seen = run(folders, "import json, os; print(json.dumps(sorted(int(p) for p in "
                        "os.listdir('/proc') if p.isdigit())))")
    assert seen == [1]


def test_it_reaches_no_network(folders):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    try:
        seen = run(folders, f"""
            import socket
            print(json.dumps(attempt(lambda: socket.create_connection(("127.0.0.1", {port}),
                                                                      timeout=3))))""")
    finally:
        server.close()
    assert seen == "OSError"


def test_its_working_folder_and_shared_memory_are_small_and_its_own(folders):
    shm_before = set(os.listdir("/dev/shm"))
    seen = run(folders, """
        def fill(folder):
            for n in range(100):  # 100 files of 8 MB, each under the file-size limit
                with open(f"{folder}/fill-{n}", "wb") as file:
                    file.write(b"x" * 2**23)
        places = {"work": ".", "shm": "/dev/shm", "tmp": "/tmp", "etc": "/etc", "usr": "/usr/lib"}
        print(json.dumps({name: attempt(lambda: fill(place)) for name, place in places.items()}))
        """)
    assert seen == {"work": "OSError", "shm": "OSError", "tmp": "OSError", "etc": "OSError",
                    "usr": "OSError"}
    assert set(os.listdir("/dev/shm")) == shm_before
    assert os.listdir(folders / "work") == []  # the kernel's folder was a view of its own


def test_an_answer_process_can_import_numpy_and_nothing_of_the_exercise(folders):
    options, _ = runner_view(("numpy",))
    seen = run(folders, """
        import importlib, sys
        sys.path += ["/opt/pypi", "/root/.pyenv/versions", "/work",
                     "/usr/lib/python3/dist-packages"]
        print(json.dumps({name: attempt(lambda: importlib.import_module(name)) for name in
                          ["numpy", "torch", "scipy", "sklearn", "solutions", "autograder",
                           "autograder.hidden", "jax"]}))""", *options)
    assert seen == {"numpy": "done", **{name: "ModuleNotFoundError" for name in
                    ["torch", "scipy", "sklearn", "solutions", "autograder",
                     "autograder.hidden", "jax"]}}


def test_an_answer_process_of_a_pytorch_exercise_has_torch_and_not_the_withheld_course(folders):
    options, _ = runner_view(("numpy", "torch", "scikit-learn", "tqdm", "solutions"))
    seen = run(folders, """
        import importlib
        print(json.dumps({name: attempt(lambda: importlib.import_module(name)) for name in
                          ["torch", "solutions.models", "solutions.transfer", "autograder"]}))""",
               *options, "--course", "--withhold=transfer")
    assert seen == {"torch": "done", "solutions.models": "done",
                    "solutions.transfer": "ModuleNotFoundError",
                    "autograder": "ModuleNotFoundError"}


def test_all_its_processes_together_stay_within_the_memory_limit(folders):
    limits = Limits(memory_mb=512, work_mb=32)
    cgroup = f"cnnbook-test-{os.getpid()}"
    command = sandbox_command(limits, cgroup, ["--private", f"--root={folders / 'root'}"])
    hoard = textwrap.dedent("""
        import os
        for _ in range(3):  # three children of 400 MB each, every one under its own limit
            if os.fork() == 0:
                block = bytearray(400 * 2**20)
                for i in range(0, len(block), 4096):
                    block[i] = 1
                os._exit(0)
        print(os.environ["CNNBOOK_MEMORY"], [os.waitstatus_to_exitcode(os.wait()[1])
                                             for _ in range(3)])
        """)
    try:
        done = subprocess.run([*command, "--", sys.executable, "-c", hoard], cwd=folders / "work",
                              capture_output=True, text=True, timeout=120)
        memory = Path("/sys/fs/cgroup/memory") / cgroup
        peak = (int((memory / "memory.max_usage_in_bytes").read_text())
                if memory.is_dir() else None)
    finally:
        kill_cgroup(cgroup)
    if "limited" not in done.stdout:
        pytest.skip(f"no memory cgroup here: {done.stdout or done.stderr}")
    assert peak is None or peak <= 512 * 2**20
    assert "-9" in done.stdout  # the kernel's OOM killer ended at least one child
