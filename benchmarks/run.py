"""How fast the reference code, the grader and the book build are: prints a table and writes
benchmarks/results.md, with the machine it ran on.

- the reference layers (``solutions``) against ``torch.nn.functional`` on the CPU, both in
  float64 (the reference computes in float64), best of several runs; torch's float32 time is
  shown beside, for scale. Pooling and batch norm are measured when ``solutions`` has them;
- the naive ``conv2d_loops`` on a small layer, to show students the gap;
- the grader: honest convolution submissions graded per minute with 1 and 2 workers;
- the book: a cold build (empty execution cache) and a warm one (nothing changed) of a copy.

Usage: ``python benchmarks/run.py [--copies N] [--repeat R]`` (``make bench``).
"""

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's solutions/ and tests/, not an installed copy

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import solutions  # noqa: E402
from tests.conftest import Course, cnnbook  # noqa: E402

RESULTS = REPO / "benchmarks" / "results.md"
TARGET = 2.0  # the reference conv2d forward should take at most this multiple of torch's time
CONV_LAYERS = [  # (N, C_in, H, W), C_out, k: as in a small CIFAR network and a ResNet stage
    ((64, 3, 32, 32), 64, 3),
    ((32, 64, 32, 32), 128, 3),
    ((8, 256, 14, 14), 256, 3),
]
LOOPS_LAYER = ((2, 3, 16, 16), 4, 3)
FEATURE_MAPS = (32, 64, 32, 32)  # input of the pooling and batch norm layers


def best_times(*functions, repeat):
    """The fastest of ``repeat`` runs of each function, in seconds, after one warm-up run.

    The functions take turns, so that a busy moment of a shared machine slows all of them.
    """
    best = [float("inf")] * len(functions)
    for run in range(repeat + 1):
        for i, function in enumerate(functions):
            start = time.perf_counter()
            function()
            if run:  # run 0 warms up
                best[i] = min(best[i], time.perf_counter() - start)
    return best


def machine():
    """CPU model, cores, how busy the machine was, and library versions, as lines of text."""
    cpu = platform.processor() or platform.machine()
    if Path("/proc/cpuinfo").exists():
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                 .splitlines() if line.startswith("model name")]
        cpu = names[0] if names else cpu
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return [f"CPU: {cpu}, {os.cpu_count()} cores (torch uses {torch.get_num_threads()} threads); "
            f"load average when the run started: {load}",
            f"Python {platform.python_version()}, NumPy {np.__version__}, "
            f"PyTorch {torch.__version__}, {platform.system()} {platform.release()}"]


class Table:
    """Rows of a Markdown table, printed as they come."""

    def __init__(self, *columns):
        self.lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
        print(*self.lines, sep="\n")

    def row(self, *cells):
        self.lines.append("| " + " | ".join(map(str, cells)) + " |")
        print(self.lines[-1], flush=True)


def ms(seconds):
    return f"{seconds * 1e3:.1f}"


def random_arrays(*shapes):
    rng = np.random.default_rng(0)
    return [rng.normal(size=shape) for shape in shapes]


def conv_table(repeat):
    table = Table("layer", "ours (ms)", "torch float64 (ms)", "ours / torch", "ours GFLOP/s",
                  "torch float32 (ms)", f"within {TARGET:g}x")
    for shape, c_out, k in CONV_LAYERS:
        x, w = random_arrays(shape, (c_out, shape[1], k, k))
        tx, tw = torch.from_numpy(x), torch.from_numpy(w)
        np.testing.assert_allclose(solutions.conv2d(x, w, padding=k // 2),
                                   F.conv2d(tx, tw, padding=k // 2).numpy(), rtol=1e-9, atol=1e-9)
        sx, sw = tx.float(), tw.float()
        ours, theirs, single = best_times(lambda: solutions.conv2d(x, w, padding=k // 2),
                                          lambda: F.conv2d(tx, tw, padding=k // 2),
                                          lambda: F.conv2d(sx, sw, padding=k // 2), repeat=repeat)
        n, c_in, h, width = shape
        flops = 2 * n * c_out * h * width * c_in * k * k  # padding k // 2 keeps H x W
        table.row(f"conv2d {n}x{c_in}x{h}x{width} -> {c_out}, k{k} p{k // 2}", ms(ours),
                  ms(theirs), f"{ours / theirs:.2f}", f"{flops / ours / 1e9:.1f}", ms(single),
                  "yes" if ours <= TARGET * theirs else "NO")
    return table


def other_layers_table(repeat):
    """Pooling and batch norm against torch, for those that solutions has; None if none."""
    x, = random_arrays(FEATURE_MAPS)
    mean, var, gamma, beta = random_arrays(*[(FEATURE_MAPS[1],)] * 4)
    var = np.abs(var) + 0.5
    t = torch.from_numpy
    cases = [  # (name, arguments in torch's order, description)
        ("max_pool2d", (x, 2), "2x2, stride 2"),
        ("max_pool2d", (x, 3, 1, 1), "3x3, stride 1, padding 1"),
        ("avg_pool2d", (x, 2), "2x2, stride 2"),
        ("batch_norm", (x, mean, var, gamma, beta), "inference, running statistics"),
    ]
    cases = [case for case in cases if hasattr(solutions, case[0])]
    if not cases:
        print("Not in `solutions` yet.")
        return None
    table = Table("layer", "ours (ms)", "torch float64 (ms)", "ours / torch")
    for name, args, what in cases:
        ours_fn = getattr(solutions, name)
        torch_args = [t(a) if isinstance(a, np.ndarray) else a for a in args]
        theirs_fn = getattr(F, name)
        label = f"{name} {'x'.join(map(str, args[0].shape))}, {what}"
        try:
            np.testing.assert_allclose(ours_fn(*args), theirs_fn(*torch_args).numpy(),
                                       rtol=1e-7, atol=1e-9)
        except (TypeError, ValueError, AssertionError) as error:
            reason = (str(error).strip().splitlines() or [""])[0][:80].replace("|", "/")
            table.row(label, f"not measured: {type(error).__name__} {reason}", "", "")
            continue
        ours, theirs = best_times(lambda: ours_fn(*args), lambda: theirs_fn(*torch_args),
                                  repeat=repeat)
        table.row(label, ms(ours), ms(theirs), f"{ours / theirs:.2f}")
    return table


def loops_table(repeat):
    shape, c_out, k = LOOPS_LAYER
    x, w = random_arrays(shape, (c_out, shape[1], k, k))
    table = Table("layer", "conv2d_loops (ms)", "conv2d (ms)", "torch float64 (ms)",
                  "loops / conv2d")
    tx, tw = torch.from_numpy(x), torch.from_numpy(w)
    loops, fast, theirs = best_times(lambda: solutions.conv2d_loops(x, w, padding=1),
                                     lambda: solutions.conv2d(x, w, padding=1),
                                     lambda: F.conv2d(tx, tw, padding=1), repeat=repeat)
    table.row(f"{'x'.join(map(str, shape))} -> {c_out}, k{k} p1", ms(loops), f"{fast * 1e3:.3f}",
              f"{theirs * 1e3:.3f}", f"{loops / fast:.0f}x")
    return table


def grader_table(copies):
    """Grade ``copies`` honest convolution submissions in a temporary course directory."""
    table = Table("workers", "submissions", "seconds", "submissions per minute")
    with tempfile.TemporaryDirectory(prefix="cnnbook-bench-") as tmp:
        root = Path(tmp) / "course"
        root.mkdir()
        env = {**os.environ, "CNNBOOK_COURSE_DIR": str(root)}
        cnnbook("release", "convolution", env=env)
        course = Course(root, env)
        honest = {cell.metadata.nbgrader.grade_id: None  # None: the instructor's answer
                  for cell in course.source("convolution").cells
                  if cell.metadata.get("nbgrader", {}).get("solution")}
        for workers in (1, 2):
            students = {f"student{i:02}": honest for i in range(copies)}
            start = time.perf_counter()
            rows = course.grade("convolution", students, Path(tmp) / f"workers{workers}",
                                workers=workers)
            seconds = time.perf_counter() - start
            wrong = [s for s, row in rows.items()
                     if float(row["score"]) != float(row["max_score"]) or not float(row["score"])]
            assert not wrong, f"honest submissions did not get full marks: {wrong}"
            table.row(workers, copies, f"{seconds:.1f}", f"{copies / seconds * 60:.1f}")
    return table


def book_table():
    """Build a copy of the book twice: cold (empty execution cache), then nothing changed."""
    table = Table("book build", "seconds")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    with tempfile.TemporaryDirectory(prefix="cnnbook-bench-") as tmp:
        copy = Path(tmp) / "cnnbook"
        shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(
            ".git", ".venv", "_build", ".pytest_cache", ".hypothesis", "*.egg-info"))
        env = {**os.environ, "PYTHONPATH": str(copy)}
        for label in ("cold: empty execution cache", "warm: nothing changed"):
            start = time.perf_counter()
            subprocess.run([jupyter_book, "build", "--quiet", "-W", "."], cwd=copy, env=env,
                           check=True, capture_output=True)
            table.row(label, f"{time.perf_counter() - start:.1f}")
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=4, help="submissions graded per run")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per layer (best kept)")
    args = parser.parse_args(argv)

    about = machine()
    print(*about, sep="\n")
    sections = []
    for title, measure in [
            ("Convolution forward, reference vs PyTorch (CPU)", lambda: conv_table(args.repeat)),
            ("Pooling and batch norm, reference vs PyTorch (CPU)",
             lambda: other_layers_table(args.repeat)),
            ("The naive loops, for scale", lambda: loops_table(args.repeat)),
            ("Grader throughput (honest convolution submissions)",
             lambda: grader_table(args.copies)),
            ("Book build", book_table)]:
        print(f"\n## {title}\n")
        table = measure()
        sections.append((title, table.lines if table else ["Not in `solutions` yet."]))

    lines = ["# Benchmarks", "",
             f"Written by `make bench` (benchmarks/run.py) on {date.today().isoformat()}.", ""]
    lines += [f"- {line}" for line in about]
    lines += ["- Times are the best of several runs. The reference computes in float64, so "
              "torch is timed on float64 tensors too; its float32 time is shown for scale. "
              "The machine may be shared: treat small differences as noise.", ""]
    for title, table in sections:
        lines += [f"## {title}", "", *table, ""]
    RESULTS.write_text("\n".join(lines))
    print(f"wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
