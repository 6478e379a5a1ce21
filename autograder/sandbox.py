"""Start student code inside limits: ``python -m autograder.sandbox [options] -- CMD...``.

The grader starts every process that runs a student's code through this launcher: the notebook's
kernel (the kernel spec ``python3`` points here, see ``kernelspec``) and the process that runs the
answers on the hidden cases (``autograder.answers``). It applies the limits to itself, then
becomes CMD:

- address space (``--memory-mb``): a memory bomb fails with MemoryError instead of taking the
  machine; files the process writes (``--file-mb``); no core dumps;
- an environment of its own: only the variables of ``ENVIRONMENT`` are kept, so no secret of the
  grader's (``CNNBOOK_HIDDEN_SEED``, tokens) reaches student code;
- no network (Linux, when allowed to create a network namespace, e.g. as root): an empty network
  namespace; the kernel talks to the grader over Unix sockets (``transport = ipc``);
- at most ``--max-processes`` tasks and ``--memory-mb`` of memory for all its processes
  together, its tmpfs files included, in a cgroup of its own (Linux, where the grader may create
  cgroups): a fork bomb fails with an OSError, many memory-hungry children are killed; the grader
  kills whatever is left in that cgroup afterwards (``kill_cgroup``), daemons included;
- a view of its own (``--private``, Linux as root): the process is the first of new PID, mount
  and IPC namespaces whose root is a fresh, read-only file system holding only what Python needs
  (``/usr``, ``/lib``, a few files of ``/etc``, the Python installation and the virtual
  environment), a ``/proc`` of its own with ``/proc/sys`` read-only, a ``/dev`` of five devices,
  and its own ``/dev/shm``, ``/tmp`` and working folder of ``--work-mb`` each. ``/sys``,
  ``/root``, ``/home``, the cgroups, the course directory, the submissions and every other
  student's folder do not exist there. The virtual environment's
  ``site-packages`` shows every package but the course's own (``--packages``: only those
  distributions and what they require; ``--course``: the ``solutions`` package too, less any
  ``--withhold`` module). Then it becomes the user nobody, without any capability, for good.

The process finds ``CNNBOOK_NETWORK`` (isolated/shared), ``CNNBOOK_PROCESSES`` (limited/
unlimited), ``CNNBOOK_MEMORY`` (limited/per process) and ``CNNBOOK_FILES`` (private/shared) in
its environment: what this platform allowed.
"""

import argparse
import contextlib
import ctypes
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import resource
import signal
import sys
import sysconfig
import time
from pathlib import Path

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWPID = 0x20000, 0x8000000, 0x40000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
READ_ONLY = MS_RDONLY | MS_NOSUID | MS_NODEV
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
CGROUP_ROOT = Path("/sys/fs/cgroup")
#: What a cgroup limits: controller -> its files (cgroup v1's, then v2's name).
CGROUP_LIMITS = {"pids": ("pids.max",), "memory": ("memory.limit_in_bytes", "memory.max")}
#: The user student code runs as: it owns nothing outside its working folder.
NOBODY = 65534
#: The variables student code may see; everything else of the grader's environment is dropped.
ENVIRONMENT = ("LANG", "LC_ALL", "TZ", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "PYTHONHASHSEED")
#: What of /etc programs need: the dynamic linker's cache, users, time zone, fonts, MIME types.
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group",
       "nsswitch.conf", "hosts", "alternatives", "fonts", "mime.types")
DEVICES = ("null", "zero", "full", "random", "urandom")
#: The course's own packages: never importable by student code (``--course`` shows solutions).
COURSE_PACKAGES = ("autograder", "solutions")


def libc():
    return ctypes.CDLL(None, use_errno=True)


def unshare(namespaces):
    """Move this process into new ``namespaces`` (CLONE_NEW* flags); False where not permitted
    (not Linux, not privileged)."""
    return sys.platform.startswith("linux") and libc().unshare(namespaces) == 0


def cgroup_folders(name):
    """Where the cgroup ``name`` lives: a folder in each cgroup v1 hierarchy that limits what
    we limit (pids, memory), else one folder in the unified (v2) hierarchy."""
    v1 = [CGROUP_ROOT / controller / name for controller in CGROUP_LIMITS
          if (CGROUP_ROOT / controller / "cgroup.procs").exists()]
    return v1 or [CGROUP_ROOT / name]


def join_cgroup(name, max_processes, memory_mb):
    """Move this process into a new cgroup ``name`` of at most ``max_processes`` tasks and
    ``memory_mb`` of memory (its tmpfs files included), for it and all its children together.

    Returns the set of what could be limited ("pids", "memory"): empty where no cgroup can be
    made (no permission, no controller).
    """
    values = {"pids": str(max_processes), "memory": str(memory_mb * 2**20)}
    limited = set()
    for folder in cgroup_folders(name):
        try:
            folder.mkdir()
        except OSError:
            continue
        for controller, files in CGROUP_LIMITS.items():
            for file in files:  # a real cgroup comes with its control files
                if (folder / file).exists():
                    try:
                        (folder / file).write_text(values[controller])
                        limited.add(controller)
                    except OSError:
                        pass
        try:
            (folder / "cgroup.procs").write_text(str(os.getpid()))
        except OSError:
            folder.rmdir()
    return limited


def kill_cgroup(name):
    """Kill every process left in the cgroup ``name`` and remove it; nothing if there is none."""
    for folder in cgroup_folders(name):
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


@contextlib.contextmanager
def capped_folder(path, megabytes):
    """``path`` as a tmpfs of at most ``megabytes`` while the block runs, where this process may
    mount one (Linux, root), e.g. a folder the grader shares with a sandbox; else as it is."""
    try:
        mounted = sys.platform.startswith("linux") and tmpfs(path, megabytes, 0o755) is None
    except OSError:  # not permitted
        mounted = False
    try:
        yield
    finally:
        if mounted:
            libc().umount2(str(path).encode(), MNT_DETACH)


def mount(source, target, kind=None, flags=0, options=None):
    encode = lambda text: None if text is None else str(text).encode()  # noqa: E731
    if libc().mount(encode(source), encode(target), encode(kind), flags, encode(options)) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {source} on {target}: {os.strerror(error)}")


def bind(source, target, writable=False):
    """Show ``source`` at ``target``, read-only unless ``writable``, never set-uid or devices."""
    mount(source, target, flags=MS_BIND)
    mount(None, target, flags=MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV
          | (0 if writable else MS_RDONLY))


def tmpfs(target, megabytes, mode, owner=0, flags=MS_NOSUID | MS_NODEV):
    options = f"size={megabytes}m,mode={mode:o},uid={owner},gid={owner}"
    mount("tmpfs", target, "tmpfs", flags, options)


def distribution_entries(names, site_packages):
    """The top-level entries of ``site_packages`` that the distributions ``names`` and every
    distribution they require (at any depth) installed: packages, modules, their ``.libs``."""
    seen, entries, todo = set(), set(), list(names)
    while todo:
        name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        for file in dist.files or ():
            if file.parts and file.parts[0] != "..":
                entries.add(file.parts[0])
        todo += [re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0]
                 for requirement in dist.requires or () if "extra ==" not in requirement]
    return sorted(entry for entry in entries if (Path(site_packages) / entry).exists())


class View:
    """A new root file system under ``root``, built while privileged, entered with ``enter``."""

    def __init__(self, root):
        self.root = Path(root)
        tmpfs(self.root, 1, 0o755)

    def place(self, path, like):
        """Make ``path`` (absolute, as seen inside) a mount point like ``like``; return it."""
        target = self.root / str(path).lstrip("/")
        if os.path.isdir(like):
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
        return target

    def show(self, path, writable=False):
        """Show ``path`` (a folder or file of the grader's) at the same place."""
        if os.path.islink(path):  # merged /usr: /bin -> usr/bin
            target = self.root / str(path).lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.is_symlink():
                target.symlink_to(os.readlink(path))
            return
        if os.path.exists(path):
            bind(os.path.realpath(path), self.place(path, path), writable)

    def hide(self, path):
        """Cover ``path`` (below a shown folder) with an empty read-only folder, or a file with
        ``/dev/null``, which no one may open there (a module hidden so is not importable)."""
        if os.path.isdir(path):
            tmpfs(self.root / str(path).lstrip("/"), 1, 0o755, flags=READ_ONLY)
        elif os.path.exists(path):
            bind("/dev/null", self.root / str(path).lstrip("/"))

    def python(self, packages, course, withhold):
        """The Python installation and the virtual environment, less other packages."""
        for prefix in dict.fromkeys([sys.base_prefix, sys.prefix]):
            self.show(prefix)
        for root in ["/usr", "/usr/local", sys.base_prefix]:
            for folder in Path(root).glob("lib/python3*/*-packages"):  # never the venv's
                self.hide(folder)
        site = self.site_packages
        if packages is not None:  # only these distributions: an empty folder, then each entry
            entries = distribution_entries([*packages, *(["cnnbook"] if course else [])], site)
            tmpfs(self.root / site.lstrip("/"), 1, 0o755)
            for entry in entries:
                self.show(f"{site}/{entry}")
            mount(None, self.root / site.lstrip("/"), flags=MS_REMOUNT | READ_ONLY)
        for name in COURSE_PACKAGES:
            spec = importlib.util.find_spec(name)
            folder = spec and spec.submodule_search_locations and spec.submodule_search_locations[0]
            if not folder:
                continue
            if course and name == "solutions":
                if not Path(folder).is_relative_to(site):  # an editable install
                    self.show(folder)
                for module in withhold:
                    self.hide(f"{folder}/{module}.py")
            elif Path(folder).is_relative_to(site):
                self.hide(folder)

    @property
    def site_packages(self):
        return sysconfig.get_paths()["purelib"]

    def system(self, megabytes):
        """/usr, /lib, what of /etc is needed, five devices, a private /dev/shm and /tmp of at
        most ``megabytes`` each."""
        for path in ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]:
            self.show(path)
        for name in ETC:
            self.show(f"/etc/{name}")
        dev = self.root / "dev"
        dev.mkdir()
        tmpfs(dev, 1, 0o755, flags=MS_NOSUID | MS_NOEXEC)
        for name in DEVICES:
            (dev / name).touch()
            mount(f"/dev/{name}", dev / name, flags=MS_BIND)
        for name, target in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")]:
            (dev / name).symlink_to(target)
        for folder in [dev / "shm", self.root / "tmp"]:
            folder.mkdir()
            tmpfs(folder, megabytes, 0o1777, flags=MS_NOSUID | MS_NODEV | MS_NOEXEC)
        (self.root / "proc").mkdir()

    def work(self, path, megabytes):
        """The working folder: empty, private, at most ``megabytes``, the only place to write."""
        tmpfs(self.place(path, "/"), megabytes, 0o700, owner=NOBODY)

    def enter(self):
        """Make the new root this process's ``/``, the old one gone; a /proc of its own."""
        mount(None, self.root, flags=MS_REMOUNT | READ_ONLY)
        os.chdir(self.root)
        number = SYS_PIVOT_ROOT[platform.machine()]
        if libc().syscall(number, b".", b".") != 0:
            raise OSError(ctypes.get_errno(), "pivot_root")
        if libc().umount2(b".", MNT_DETACH) != 0:
            raise OSError(ctypes.get_errno(), "umount the old root")
        os.chdir("/")
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        bind("/proc/sys", "/proc/sys")  # read-only, like the rest


def confine(args):
    """Go on as the first process of new PID, mount and IPC namespaces, in the view the options
    describe, as the user nobody without capabilities. The caller stays outside as the parent
    and ends with it. False (nothing done) where namespaces cannot be made."""
    if platform.machine() not in SYS_PIVOT_ROOT or not unshare(
            CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC):
        return False
    child = os.fork()
    if child:  # the launcher, outside the namespace: the process's parent, ending with it
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts reach the kernel's group
        signal.signal(signal.SIGTERM, lambda *args: os.kill(child, signal.SIGKILL))
        _, status = os.waitpid(child, 0)
        os._exit(max(0, os.waitstatus_to_exitcode(status)))
    libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    work = os.getcwd()
    mount(None, "/", flags=MS_REC | MS_PRIVATE)  # nothing done here reaches the grader
    for path in args.give:  # files handed over, e.g. the kernel's connection file
        os.chown(path, NOBODY, NOBODY)
    for folder in args.share:
        os.chown(folder, NOBODY, NOBODY)
    view = View(args.root)
    view.system(args.work_mb)
    view.python(args.packages, args.course, args.withhold)
    for path in args.expose + args.give:
        view.show(path)
    for folder in args.share:
        view.show(folder, writable=True)
    view.work(work, args.work_mb)
    view.enter()
    os.chdir(work)
    drop_privileges()
    return True


def drop_privileges():
    """Become the user nobody, with no capability and no way to gain one (set-uid programs
    included)."""
    c = libc()
    for capability in range(64):
        c.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)  # beyond the last one: EINVAL
    if c.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "no_new_privs")
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)


def limit(kind, megabytes):
    size = megabytes * 2**20
    resource.setrlimit(kind, (size, size))


def environment(work, reports):
    """The student's environment: the kept variables of ``ENVIRONMENT``, a home of its own."""
    kept = {name: os.environ[name] for name in ENVIRONMENT if name in os.environ}
    return {**kept, "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": work, "TMPDIR": work, "IPYTHONDIR": f"{work}/.ipython",
            "MPLCONFIGDIR": f"{work}/.matplotlib", "LANG": kept.get("LANG", "C.UTF-8"), **reports}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.sandbox")
    parser.add_argument("--memory-mb", type=int, default=4096)
    parser.add_argument("--file-mb", type=int, default=64)
    parser.add_argument("--network", action="store_true", help="keep the network")
    parser.add_argument("--cgroup", help="name of the cgroup to create and join")
    parser.add_argument("--max-processes", type=int, default=256)
    parser.add_argument("--private", action="store_true", help="a view of its own (see above)")
    parser.add_argument("--root", help="an empty folder to build the view's root on")
    parser.add_argument("--work-mb", type=int, default=256,
                        help="size of the working folder, of /tmp and of /dev/shm")
    parser.add_argument("--packages", type=lambda text: text.split(",") if text else [],
                        help="distributions to show, comma-separated (default: all)")
    parser.add_argument("--course", action="store_true", help="show the solutions package")
    parser.add_argument("--withhold", action="append", default=[],
                        help="a module of solutions not to show")
    parser.add_argument("--expose", action="append", default=[],
                        help="a file of the grader's to show, read-only")
    parser.add_argument("--share", action="append", default=[],
                        help="a folder shared with the grader, writable (e.g. for sockets)")
    parser.add_argument("--give", action="append", default=[],
                        help="a file the process must read (shown, and made its own)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    work = os.getcwd()
    limit(resource.RLIMIT_AS, args.memory_mb)
    limit(resource.RLIMIT_FSIZE, args.file_mb)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    reports = {}
    if not args.network:
        reports["CNNBOOK_NETWORK"] = "isolated" if unshare(CLONE_NEWNET) else "shared"
    limited = join_cgroup(args.cgroup, args.max_processes, args.memory_mb) if args.cgroup else ()
    reports["CNNBOOK_PROCESSES"] = "limited" if "pids" in limited else "unlimited"
    reports["CNNBOOK_MEMORY"] = "limited" if "memory" in limited else "per process"
    private = args.private and args.root and confine(args)
    reports["CNNBOOK_FILES"] = "private" if private else "shared"
    os.execve(command[0], command, environment(work, reports))


def sandbox_command(limits, cgroup=None, view=()):
    """The launcher's command line before CMD: ``limits`` (grade.Limits), the pids cgroup, and
    ``view``: options of the private view (empty: files are not made private)."""
    argv = [sys.executable, "-m", "autograder.sandbox", f"--memory-mb={limits.memory_mb}",
            f"--file-mb={limits.file_mb}", f"--work-mb={limits.work_mb}",
            f"--max-processes={limits.processes}"]
    argv += [f"--cgroup={cgroup}"] if cgroup else []
    return argv + list(view)


def kernelspec(folder, prefix):
    """Write a ``python3`` kernel spec under ``folder`` (put it on JUPYTER_PATH) whose kernel is
    started by ``prefix`` (``sandbox_command``), its connection file handed over to it."""
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [*prefix, "--give={connection_file}", "--", sys.executable, "-m",
            "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "Python 3 (cnnbook sandbox)", "language": "python"}))
    return folder


if __name__ == "__main__":
    main()
