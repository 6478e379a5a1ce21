"""Run a submission's notebook in a sandboxed kernel: ``python -m autograder.execute IN OUT``.

The grader starts this runner once per submission, in its own process group and in the
submission's working folder, with the sandbox kernel spec (``autograder.sandbox``) first on
JUPYTER_PATH. The runner imports no student code: the kernel is a separate process, reached over
Unix sockets under the working folder. When the whole notebook runs past its limit, the grader
kills the group, kernel included.

- a cell that runs past ``--cell-timeout`` seconds is interrupted (it fails with
  CellTimeoutError) and the next cell runs;
- every text output is cut to ``MAX_OUTPUT`` characters before OUT is written, so a cell that
  prints 200 MB leaves a small notebook behind;
- exit status 0: OUT holds the executed notebook; ``KERNEL_DIED``: the kernel died (a crash,
  ``os._exit``, out of memory), and the last line of output says in which cell.
"""

import argparse
import sys
from pathlib import Path

# nbformat imports jsonschema, whose optional IRI format check (rfc3987_syntax) compiles a
# grammar on import: a second of every submission's grading, for a check no notebook needs.
sys.modules.setdefault("rfc3987_syntax", None)

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import DeadKernelError  # noqa: E402
from traitlets.config import Config  # noqa: E402

MAX_OUTPUT = 20_000  # characters kept of each output
KERNEL_DIED = 3


def truncate_outputs(notebook):
    """Cut every text output to MAX_OUTPUT characters."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = output.get("text")
            if isinstance(text, str) and len(text) > MAX_OUTPUT:
                output["text"] = text[:MAX_OUTPUT] + "\n... (output cut by the grader)\n"
            for mime, data in list(output.get("data", {}).items()):
                if isinstance(data, str) and len(data) > MAX_OUTPUT:
                    output["data"][mime] = data[:MAX_OUTPUT] + "\n... (output cut by the grader)"


def execute(notebook, folder, cell_timeout):
    """Run every cell of ``notebook`` in a ``python3`` kernel started in ``folder``."""
    config = Config()
    config.KernelManager.transport = "ipc"  # a sandboxed kernel has no network at all
    config.KernelManager.ip = str(Path(folder).resolve() / "kernel")
    client = NotebookClient(notebook, config=config, kernel_name="python3",
                            timeout=cell_timeout, interrupt_on_timeout=True, allow_errors=True,
                            raise_on_iopub_timeout=False, iopub_timeout=30,
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    return notebook


def dying_cell(notebook):
    """Which cell was running when the kernel died: the last one the kernel began."""
    begun = [(index, cell) for index, cell in enumerate(notebook.cells, 1)
             if cell.cell_type == "code" and cell.get("execution_count")]
    if not begun:
        return "the notebook (it died on start)"
    index, cell = begun[-1]
    name = cell.metadata.get("nbgrader", {}).get("grade_id")
    return f"cell {index}" + (f" ({name})" if name else "")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.execute")
    parser.add_argument("notebook", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--cell-timeout", type=int, default=60)
    args = parser.parse_args(argv)
    notebook = nbformat.read(args.notebook, as_version=4)
    try:
        execute(notebook, Path.cwd(), args.cell_timeout)
    except DeadKernelError:
        print(f"DeadKernelError: the kernel died while running {dying_cell(notebook)}",
              flush=True)
        return KERNEL_DIED
    truncate_outputs(notebook)
    nbformat.write(notebook, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
