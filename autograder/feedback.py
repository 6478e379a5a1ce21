"""What a student's feedback may show of a hidden test: its verdict, never its code or inputs."""

from nbformat.v4 import new_output
from nbgrader.preprocessors import ClearHiddenTests
from nbgrader.utils import is_grade

MAX_MESSAGE = 300


class HideHiddenTests(ClearHiddenTests):
    """Remove hidden test regions and replace their outputs with a one-line verdict.

    A failed hidden test shows ``AssertionError: conv2d with a 1x1 kernel: wrong values``:
    the exception's type and the first line of its message, which the test cells write to
    describe the case without its data. Tracebacks (which quote the hidden code) are dropped.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        if not (is_grade(cell) and self.begin_test_delimeter in cell.source):
            return cell, resources
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if errors and errors[-1].ename == "HiddenTestFailed":  # the grader's own verdict
            text = f"Hidden tests failed: {errors[-1].evalue[:MAX_MESSAGE]}\n"
        elif errors:
            message = str(errors[-1].evalue).strip().split("\n")[0][:MAX_MESSAGE]
            text = f"Hidden tests failed. {errors[-1].ename}: {message}\n"
        else:
            text = "Hidden tests passed.\n"
        cell.outputs = [new_output("stream", name="stdout", text=text)]
        return cell, resources
