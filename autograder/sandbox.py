"""Start a student's kernel inside limits: ``python -m autograder.sandbox [options] -- CMD...``.

The grader points the kernel spec ``python3`` at this launcher (see ``kernelspec``), which applies
the limits to itself and then becomes the kernel:

- address space (``--memory-mb``): a memory bomb fails with MemoryError instead of taking the
  machine; files the kernel writes (``--file-mb``); no core dumps;
- no network (Linux, when allowed to create a network namespace, e.g. as root): the kernel gets
  an empty network namespace and talks to the grader over Unix sockets (``transport = ipc``).
"""

import argparse
import ctypes
import json
import os
import resource
import sys

CLONE_NEWNET = 0x40000000


def isolate_network():
    """Move this process into a new, empty network namespace; False where not permitted."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.unshare(CLONE_NEWNET) == 0


def limit(kind, megabytes):
    size = megabytes * 2**20
    resource.setrlimit(kind, (size, size))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.sandbox")
    parser.add_argument("--memory-mb", type=int, default=4096)
    parser.add_argument("--file-mb", type=int, default=64)
    parser.add_argument("--network", action="store_true", help="keep the network")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    limit(resource.RLIMIT_AS, args.memory_mb)
    limit(resource.RLIMIT_FSIZE, args.file_mb)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if not args.network:
        os.environ["CNNBOOK_NETWORK"] = "isolated" if isolate_network() else "shared"
    os.execv(command[0], command)


def kernelspec(folder, memory_mb=4096, file_mb=64):
    """Write a ``python3`` kernel spec under ``folder`` (put it on JUPYTER_PATH) that sandboxes."""
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "autograder.sandbox", f"--memory-mb={memory_mb}",
            f"--file-mb={file_mb}", "--", sys.executable, "-m", "ipykernel_launcher",
            "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "Python 3 (cnnbook sandbox)", "language": "python"}))
    return folder


if __name__ == "__main__":
    main()
