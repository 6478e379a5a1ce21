"""Run a submission's notebook in a sandboxed kernel: ``python -m autograder.execute IN OUT``.

The grader starts this runner once per submission, in its own process group, with the sandbox
kernel spec (``autograder.sandbox``) first on JUPYTER_PATH. The runner imports no student code:
the kernel is a separate process, reached over Unix sockets in ``--sockets`` (the only folder
the two share). When the whole notebook runs past its limit, the grader kills the group, kernel
included. What the kernel sends is kept within bounds as it arrives, so a kernel cannot make the
runner (or the grader after it) hold more than a few megabytes:

- a cell that runs past ``--cell-timeout`` seconds is interrupted (it fails with
  CellTimeoutError) and the next cell runs;
- of each output only ``text/plain`` and PNG/JPEG images are kept (no HTML, JavaScript or SVG,
  which would run or render in the feedback page), each text cut to ``MAX_TEXT`` characters;
  an output larger than ``MAX_OUTPUT`` bytes, or beyond ``MAX_OUTPUTS`` outputs or
  ``MAX_NOTEBOOK`` bytes in all, is replaced by a note;
- the runner's own address space is limited to ``MEMORY_MB``;
- exit status 0: OUT holds the executed notebook; ``KERNEL_DIED``: the kernel died (a crash,
  ``os._exit``, out of memory), and the last line of output says in which cell.
"""

import argparse
import json
import resource
import sys
from pathlib import Path

# nbformat imports jsonschema, whose optional IRI format check (rfc3987_syntax) compiles a
# grammar on import: a second of every submission's grading, for a check no notebook needs.
sys.modules.setdefault("rfc3987_syntax", None)

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import DeadKernelError  # noqa: E402
from nbformat.v4 import new_output  # noqa: E402
from traitlets.config import Config  # noqa: E402

MAX_TEXT = 20_000         # characters kept of each text output
MAX_OUTPUT = 2 * 2**20    # bytes of one output (an image)
MAX_OUTPUTS = 500         # outputs in the whole notebook
MAX_NOTEBOOK = 8 * 2**20  # bytes of all outputs together
MEMORY_MB = 3072
SAFE_MIMES = ("text/plain", "image/png", "image/jpeg")
KERNEL_DIED = 3


def cut(text):
    if isinstance(text, list):
        text = "".join(map(str, text))
    if not isinstance(text, str):
        return ""
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "\n... (output cut by the grader)\n"


def safe_output(output):
    """The output with only plain text and PNG/JPEG images, texts cut to MAX_TEXT."""
    if "text" in output:
        output["text"] = cut(output["text"])
    if "data" in output:
        output["data"] = {mime: cut(data) if mime == "text/plain" else data
                          for mime, data in output["data"].items() if mime in SAFE_MIMES}
        output["metadata"] = {}
        if not output["data"]:
            output["data"] = {"text/plain": "(an output the feedback page does not show)"}
    if output.get("output_type") == "error":
        output["evalue"] = cut(output.get("evalue", ""))[:2000]
        output["traceback"] = [cut(line) for line in output.get("traceback", [])[-30:]]
    return output


class BoundedClient(NotebookClient):
    """A NotebookClient that keeps what the kernel sends within the bounds above."""

    outputs_kept = 0
    bytes_kept = 0

    def output(self, outs, msg, display_id, cell_index):
        out = super().output(outs, msg, display_id, cell_index)
        if out is None or not outs or outs[-1] is not out:
            return out
        outs.pop()
        out = self.bounded(safe_output(out))
        if out is not None:
            outs.append(out)
        return out

    def bounded(self, output):
        """``output``, a note in its place, or None once the notebook's bounds are reached."""
        size = len(json.dumps(output))
        if size > MAX_OUTPUT:
            output, size = new_output("stream", name="stderr", text=f"... (an output of "
                                      f"{size:,} bytes: cut by the grader)\n"), 100
        if self.outputs_kept >= MAX_OUTPUTS or self.bytes_kept + size > MAX_NOTEBOOK:
            if self.outputs_kept > MAX_OUTPUTS:
                return None  # the note below was given already
            self.outputs_kept = MAX_OUTPUTS + 1
            return new_output("stream", name="stderr", text="... (more output: cut by the "
                              "grader)\n")
        self.outputs_kept += 1
        self.bytes_kept += size
        return output

    def _update_display_id(self, display_id, msg):
        """Updates of an earlier display are not shown (they would bypass the bounds)."""

    def handle_comm_msg(self, outs, msg, cell_index):
        """Widgets are not kept: their state and the outputs they capture would bypass the
        bounds (and a feedback page could not run them anyway)."""


def execute(notebook, folder, sockets, cell_timeout):
    """Run every cell of ``notebook`` in a ``python3`` kernel started in ``folder``."""
    config = Config()
    config.KernelManager.transport = "ipc"  # a sandboxed kernel has no network at all
    config.KernelManager.ip = str(Path(sockets).resolve() / "kernel")
    client = BoundedClient(notebook, config=config, kernel_name="python3",
                           timeout=cell_timeout, interrupt_on_timeout=True, allow_errors=True,
                           raise_on_iopub_timeout=False, iopub_timeout=30,
                           store_widget_state=False,
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
    parser.add_argument("--sockets", type=Path, default=Path.cwd(),
                        help="folder for the kernel's sockets, shared with it")
    args = parser.parse_args(argv)
    # The soft limit only: the kernel's launcher sets its own (``--memory-mb``) for the kernel.
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_MB * 2**20, resource.RLIM_INFINITY))
    notebook = nbformat.read(args.notebook, as_version=4)
    try:
        execute(notebook, Path.cwd(), args.sockets, args.cell_timeout)
    except DeadKernelError:
        print(f"DeadKernelError: the kernel died while running {dying_cell(notebook)}",
              flush=True)
        return KERNEL_DIED
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
