"""What a student's feedback may show of a hidden test: its verdict, never its code or inputs."""

import copy
from pathlib import Path

import nbgrader
from nbconvert import HTMLExporter
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbformat.v4 import new_output
from nbgrader.preprocessors import ClearHiddenTests
from nbgrader.utils import is_grade
from traitlets.config import Config

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


def feedback_html(notebook, assignment, student, tests):
    """The student's feedback page, as nbgrader's ``generate_feedback`` draws it.

    tests: grade_id -> (score, points, message) of every test cell, decided by the grader.
    """
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            meta["comment"] = None
        if meta.get("grade_id") in tests and is_grade(cell):
            meta["score"], meta["points"] = tests[meta["grade_id"]][:2]
    templates = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    config = Config()
    config.HTMLExporter.template_name = "feedback"
    config.HTMLExporter.extra_template_basedirs = [str(templates / "templates")]
    config.HTMLExporter.extra_template_paths = [
        str(templates / "static" / "node_modules" / "bootstrap" / "dist" / "css")]
    exporter = HTMLExporter(config=config)
    exporter.register_preprocessor(HideHiddenTests(enabled=True), enabled=True)
    exporter.register_preprocessor(CSSHTMLHeaderPreprocessor(enabled=True), enabled=True)
    score = sum(score for score, _, _ in tests.values())
    resources = {"nbgrader": {"notebook": assignment, "assignment": assignment,
                              "student": student, "score": score, "late_penalty": 0,
                              "max_score": sum(points for _, points, _ in tests.values())}}
    html, _ = exporter.from_notebook_node(notebook, resources=resources)
    return html
