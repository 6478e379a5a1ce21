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
  left the process group included;
- private files (``--private``, Linux as root): the kernel is the first process of a PID
  namespace of its own (it sees and can signal no other process, the grader included) and of a
  mount namespace where every filesystem is read-only but its working folder, and each
  ``--hide`` path is an empty folder (the gradebook, the instructor's notebooks, the submissions,
  the grader's output and the other submissions' folders); then it gives up every capability, so
  it can neither undo that nor write anything the grader reads.

The kernel finds ``CNNBOOK_NETWORK`` (isolated/shared), ``CNNBOOK_PROCESSES`` (limited/
unlimited) and ``CNNBOOK_FILES`` (private/shared) in its environment: what this platform allowed.
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

CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID = 0x40000000, 0x00020000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
#: Where a pids cgroup can be made: cgroup v1's pids hierarchy, else the unified (v2) one.
CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))


def unshare(namespaces):
    """Move this process into new ``namespaces`` (CLONE_NEW* flags); False where not permitted
    (not Linux, not privileged)."""
    return sys.platform.startswith("linux") and (
        ctypes.CDLL(None, use_errno=True).unshare(namespaces) == 0)


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


def _mount(libc, source, target, kind, flags, options=None):
    encode = lambda text: None if text is None else str(text).encode()  # noqa: E731
    if libc.mount(encode(source), encode(target), encode(kind), flags, encode(options)) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {target}: {os.strerror(error)}")


def _mount_points():
    """(mount point, flags to keep) of every mount this process sees."""
    kept = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC}
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _, point, _, options = line.split()[:4]
        point = point.encode().decode("unicode_escape")  # "\040" is a space
        yield point, sum(flag for name, flag in kept.items() if name in options.split(","))


def confine(hidden):
    """Go on as the first process of new PID and mount namespaces, where every filesystem is
    read-only but the working folder and each ``hidden`` path is an empty folder, without any
    capability. The caller stays outside as the parent and ends with it. False (nothing done)
    where namespaces cannot be made."""
    if not unshare(CLONE_NEWNS | CLONE_NEWPID):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    child = os.fork()
    if child:  # the launcher, outside the namespace: the kernel's parent, ending with it
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts reach the kernel's group
        signal.signal(signal.SIGTERM, lambda *args: os.kill(child, signal.SIGKILL))
        _, status = os.waitpid(child, 0)
        os._exit(max(0, os.waitstatus_to_exitcode(status)))
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    work = os.getcwd()
    folder = os.open(work, os.O_RDONLY | os.O_DIRECTORY)  # to bring the folder back if hidden
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)  # nothing done here reaches the grader
    for point, flags in list(_mount_points()):
        if not point.startswith(("/proc", "/sys", "/dev")):
            _mount(libc, None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)
    needed = [Path(p).resolve() for p in (sys.prefix, sys.base_prefix, Path(__file__).parent)]
    covers = []
    for path in map(Path, hidden):  # what Python and this package need is never hidden
        if not path.exists() or any(p.is_relative_to(path.resolve()) for p in needed):
            continue
        if path.is_dir():
            _mount(libc, "tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
            covers.append(path)
        else:
            _mount(libc, "/dev/null", path, None, MS_BIND)
    os.makedirs(work, exist_ok=True)  # inside a cover, if the working folder is hidden
    _mount(libc, f"/proc/self/fd/{folder}", work, None, MS_BIND)
    _mount(libc, None, work, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV)  # writable
    for path in covers:
        _mount(libc, None, path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    _mount(libc, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)  # this namespace's
    os.close(folder)
    os.chdir(work)
    os.environ.update(HOME=work, TMPDIR=work, IPYTHONDIR=f"{work}/.ipython",
                      MPLCONFIGDIR=f"{work}/.matplotlib")
    drop_capabilities(libc)
    return True


def drop_capabilities(libc):
    """Give up every capability, for this process and whatever it executes."""
    for capability in range(64):
        libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)  # beyond the last one: EINVAL
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    if libc.capset(header, (ctypes.c_uint32 * 6)()) != 0:
        raise OSError(ctypes.get_errno(), "capset")
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


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
    parser.add_argument("--private", action="store_true", help="read-only files, hide --hide")
    parser.add_argument("--hide", action="append", default=[], help="a path not to show")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    limit(resource.RLIMIT_AS, args.memory_mb)
    limit(resource.RLIMIT_FSIZE, args.file_mb)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if not args.network:
        os.environ["CNNBOOK_NETWORK"] = "isolated" if unshare(CLONE_NEWNET) else "shared"
    limited = args.cgroup and join_cgroup(args.cgroup, args.max_processes)
    os.environ["CNNBOOK_PROCESSES"] = "limited" if limited else "unlimited"
    private = args.private and confine(args.hide)
    os.environ["CNNBOOK_FILES"] = "private" if private else "shared"
    os.execv(command[0], command)


def kernelspec(folder, memory_mb=4096, file_mb=64, cgroup=None, max_processes=256, hidden=None):
    """Write a ``python3`` kernel spec under ``folder`` (put it on JUPYTER_PATH) that sandboxes.

    hidden: paths the kernel must not see; None: files are not made private.
    """
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "autograder.sandbox", f"--memory-mb={memory_mb}",
            f"--file-mb={file_mb}", f"--max-processes={max_processes}"]
    argv += [f"--cgroup={cgroup}"] if cgroup else []
    argv += ["--private", *(f"--hide={path}" for path in hidden)] if hidden is not None else []
    argv += ["--", sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "Python 3 (cnnbook sandbox)", "language": "python"}))
    return folder


if __name__ == "__main__":
    main()
