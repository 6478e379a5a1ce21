"""Start a student's kernel inside limits: ``python -m autograder.sandbox [options] -- CMD...``.

The grader points the kernel spec ``python3`` at this launcher (see ``kernelspec``), which applies
the limits to itself and then becomes the kernel:

- address space (``--memory-mb``): a memory bomb fails with MemoryError instead of taking the
  machine; files the kernel writes (``--file-mb``); no core dumps;
- no network (Linux, when allowed to create a network namespace, e.g. as root): the kernel gets
  an empty network namespace and talks to the grader over Unix sockets (``transport = ipc``);
- at most ``--max-processes`` tasks (processes and threads: a fork bomb fails with an OSError), in
  a pids cgroup of its own (Linux, where the grader may create cgroups, e.g. as root); after the
  notebook ends, the grader kills whatever is left in that cgroup (``kill_cgroup``), daemons that
  left the process group included.

The kernel finds ``CNNBOOK_NETWORK`` (isolated/shared) and ``CNNBOOK_PROCESSES`` (limited/
unlimited) in its environment: what this platform allowed.
"""

import argparse
import ctypes
import json
import os
import resource
import signal
import sys
import time
from pathlib import Path

CLONE_NEWNET = 0x40000000
#: Where a pids cgroup can be made: cgroup v1's pids hierarchy, else the unified (v2) one.
CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))


def isolate_network():
    """Move this process into a new, empty network namespace; False where not permitted."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.unshare(CLONE_NEWNET) == 0


def join_cgroup(name, max_processes):
    """Move this process into a new pids cgroup ``name`` of at most ``max_processes`` tasks.

    Returns False where no cgroup can be made (no permission, no pids controller).
    """
    for root in CGROUP_ROOTS:
        folder = root / name
        try:
            folder.mkdir()
        except OSError:
            continue
        try:  # a real cgroup comes with its control files (a plain folder would not)
            if (folder / "pids.max").exists():
                (folder / "pids.max").write_text(str(max_processes))
                (folder / "cgroup.procs").write_text(str(os.getpid()))
                return True
        except OSError:
            pass
        folder.rmdir()
    return False


def kill_cgroup(name):
    """Kill every process left in the cgroup ``name`` and remove it; nothing if there is none."""
    for root in CGROUP_ROOTS:
        folder = root / name
        if not folder.is_dir():
            continue
        for _ in range(200):  # a fork bomb may still be forking while it is killed
            pids = (folder / "cgroup.procs").read_text().split()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.01)
        folder.rmdir()


def limit(kind, megabytes):
    size = megabytes * 2**20
    resource.setrlimit(kind, (size, size))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.sandbox")
    parser.add_argument("--memory-mb", type=int, default=4096)
    parser.add_argument("--file-mb", type=int, default=64)
    parser.add_argument("--network", action="store_true", help="keep the network")
    parser.add_argument("--cgroup", help="name of the pids cgroup to create and join")
    parser.add_argument("--max-processes", type=int, default=256)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    limit(resource.RLIMIT_AS, args.memory_mb)
    limit(resource.RLIMIT_FSIZE, args.file_mb)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if not args.network:
        os.environ["CNNBOOK_NETWORK"] = "isolated" if isolate_network() else "shared"
    limited = args.cgroup and join_cgroup(args.cgroup, args.max_processes)
    os.environ["CNNBOOK_PROCESSES"] = "limited" if limited else "unlimited"
    os.execv(command[0], command)


def kernelspec(folder, memory_mb=4096, file_mb=64, cgroup=None, max_processes=256):
    """Write a ``python3`` kernel spec under ``folder`` (put it on JUPYTER_PATH) that sandboxes."""
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "autograder.sandbox", f"--memory-mb={memory_mb}",
            f"--file-mb={file_mb}", f"--max-processes={max_processes}"]
    argv += [f"--cgroup={cgroup}"] if cgroup else []
    argv += ["--", sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "Python 3 (cnnbook sandbox)", "language": "python"}))
    return folder


if __name__ == "__main__":
    main()
