"""The ``cnnbook`` command: one subcommand for each step of the course's data flow."""

import argparse
import sys
from pathlib import Path

from autograder import course
from autograder.grade import Limits, grade


def release(args):
    for name in course.assignment_names() if args.all else args.assignments:
        print(f"released {course.release(name)}")


def validate(args):
    """Run a notebook and report its visible tests, as a student would before handing in, and
    say what the hidden tests will check."""
    import tempfile

    from autograder.execute import execute
    from autograder.hidden import load
    from autograder.submission import read_bytes, read_submission
    from autograder.verdict import visible_verdicts

    path = Path(args.notebook).resolve()
    assignment = args.assignment or path.stem
    notebook = read_submission(read_bytes(path))
    with tempfile.TemporaryDirectory() as sockets:  # a kernel over Unix sockets, no TCP port
        execute(notebook, path.parent, sockets, args.timeout)
    verdicts = visible_verdicts(notebook, assignment)
    failed = {gid: message for gid, message in verdicts.items() if message}
    for gid, message in failed.items():
        print(f"FAILED {gid}: {message}")
    cases = {}
    for test in load(assignment).values():
        cases[test.function] = cases.get(test.function, 0) + len(test.cases())
    if cases:
        print("When it is graded, hidden tests check " + ", ".join(
            f"{name} ({n} case{'s' * (n > 1)})" for name, n in cases.items())
            + ": they run your answer cells and the provided cells alone.")
    if failed:
        print(f"{len(failed)} failing visible tests out of {len(verdicts)}.")
        return 1
    print(f"All {len(verdicts)} visible tests passed.")
    return 0


def grade_command(args):
    limits = Limits(cell_timeout=args.cell_timeout, notebook_timeout=args.timeout,
                    memory_mb=args.memory_mb, processes=args.max_processes)
    roster = Path(args.roster).read_text().split() if args.roster else ()
    results = grade(args.assignment, args.submissions, args.out, workers=args.workers,
                    limits=limits, force=args.force, roster=roster)
    for r in results:
        print(f"{r.student:20} {r.score:5.1f}/{r.max_score:<5.1f} {r.status:8} {r.reason}")
    print(f"wrote {args.out}/grades.csv ({len(results)} rows), summary.md and scores.png")


def train_command(args):
    if args.nproc_per_node is not None:
        return train_distributed(args)
    from solutions.train import train_and_report

    metrics = train_and_report(args.model, args.data, args.out or f"runs/{args.model}-{args.data}",
                               epochs=args.epochs, device=args.device, data_dir=args.data_dir)
    print(f"wrote {args.out or f'runs/{args.model}-{args.data}'}: checkpoint.pt, metrics.json, plots")
    print(f"test_accuracy={metrics['test_accuracy']:.3f}")


def train_distributed(args):
    """Start ``solutions.distributed`` on ``--nproc-per-node`` processes with PyTorch's elastic
    launcher (torchrun): on this machine alone, or on several with ``--nnodes`` and
    ``--rdzv-endpoint``. Rank 0 prints the same lines as a single process."""
    import subprocess

    import torch

    from solutions.train import check_run, select_device

    check_run(args.model, args.device)
    if args.nproc_per_node < 1:
        raise ValueError(f"--nproc-per-node must be at least 1, got {args.nproc_per_node}")
    gpus = torch.cuda.device_count()
    if select_device(args.device).type == "cuda" and args.nproc_per_node > gpus:
        raise ValueError(f"--nproc-per-node {args.nproc_per_node} asks for more processes than "
                         f"this machine has GPUs ({gpus}): one process drives one GPU")
    launcher = [sys.executable, "-m", "torch.distributed.run",
                f"--nproc-per-node={args.nproc_per_node}"]
    launcher += ([f"--nnodes={args.nnodes}", "--rdzv-backend=c10d",
                  f"--rdzv-endpoint={args.rdzv_endpoint}"] if args.rdzv_endpoint
                 else ["--standalone"])
    out = args.out or f"runs/{args.model}-{args.data}"
    program = ["-m", "solutions.distributed", "--model", args.model, "--data", args.data,
               "--epochs", str(args.epochs), "--device", args.device, "--out", out]
    program += ["--data-dir", args.data_dir] if args.data_dir else []
    done = subprocess.run(launcher + program)
    if done.returncode != 0:
        raise RuntimeError(f"the distributed run failed (exit status {done.returncode}); "
                           "each process's error is above")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="cnnbook", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("release", help="generate the instructor notebook and release it")
    p.add_argument("assignments", nargs="*", help="assignment ids, e.g. convolution")
    p.add_argument("--all", action="store_true", help="every assignment of the course")
    p.set_defaults(run=release)

    p = commands.add_parser("validate", help="run a notebook's visible tests")
    p.add_argument("notebook")
    p.add_argument("--assignment", help="assignment id (default: the notebook's file name)")
    p.add_argument("--timeout", type=int, default=60, help="seconds allowed for each cell")
    p.set_defaults(run=validate)

    p = commands.add_parser("grade", help="autograde SUBMISSIONS/<student>/<assignment>.ipynb")
    p.add_argument("assignment")
    p.add_argument("submissions")
    p.add_argument("--out", required=True, help="folder for grades.csv and feedback/")
    p.add_argument("--workers", type=int, default=1, help="submissions graded at once")
    p.add_argument("--force", action="store_true",
                   help="grade again submissions already graded in --out")
    p.add_argument("--roster", help="file of student ids: those without a folder get a row too")
    p.add_argument("--cell-timeout", type=int, default=Limits.cell_timeout,
                   help="seconds before a cell is interrupted (default %(default)s)")
    p.add_argument("--timeout", type=int, default=Limits.notebook_timeout,
                   help="seconds for a whole submission (default %(default)s)")
    p.add_argument("--memory-mb", type=int, default=Limits.memory_mb,
                   help="address space of a submission's kernel (default %(default)s)")
    p.add_argument("--max-processes", type=int, default=Limits.processes,
                   help="processes and threads of a submission's kernel, where cgroups allow"
                        " (default %(default)s)")
    p.set_defaults(run=grade_command)

    p = commands.add_parser("train", help="train a network, e.g. LeNet on the bundled digits")
    p.add_argument("--model", default="lenet", help="lenet, lenet5, vgg or resnet")
    p.add_argument("--data", default="digits", help="digits, mnist, fashion-mnist or cifar10")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    p.add_argument("--data-dir", help="folder with the MNIST/Fashion-MNIST/CIFAR-10 files")
    p.add_argument("--out", help="folder for the run's files (default runs/MODEL-DATA)")
    p.add_argument("--nproc-per-node", type=int,
                   help="train data-parallel on this many processes (torchrun; gloo on CPUs, "
                        "NCCL on GPUs, one process per GPU)")
    p.add_argument("--nnodes", default="1", help="machines in a multi-node run (with "
                                                 "--rdzv-endpoint)")
    p.add_argument("--rdzv-endpoint", help="HOST:PORT where the nodes of a multi-node run meet")
    p.set_defaults(run=train_command)

    args = parser.parse_args(argv)
    if args.command == "release" and not (args.all or args.assignments):
        parser.error("name an assignment or pass --all")
    try:
        return args.run(args) or 0
    except (ValueError, RuntimeError) as error:
        print(f"cnnbook {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
