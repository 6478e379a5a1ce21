"""A student's feedback page: the verdict of each hidden test (never its code or inputs), and
nothing that runs.

Everything a student wrote or their code displayed is untrusted HTML, seen by the student and by
the instructor (in formgrader's copy too). ``sanitize`` keeps text, tables, code and images and
drops scripts, styles, event handlers, frames and forms; the page itself loads nothing and runs
nothing (``POLICY``, a Content-Security-Policy without any script source).
"""

import copy
import re
from pathlib import Path

import nbgrader
import nh3
from nbconvert import HTMLExporter
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbformat.v4 import new_output
from nbgrader.preprocessors import ClearHiddenTests
from nbgrader.utils import is_grade
from traitlets.config import Config

MAX_MESSAGE = 300
#: The page may show its own styles and inline images, and nothing else: no script, no request.
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
TAGS = nh3.ALLOWED_TAGS | {"body", "main"}
ATTRIBUTES = {"*": {"class", "id", "name", "title"}, "a": {"href"},
              "img": {"src", "alt", "width", "height"}, "td": {"colspan", "rowspan"},
              "th": {"colspan", "rowspan"}}


def sanitize(html):
    """``html`` (a fragment) with only the tags of ``TAGS`` and attributes of ``ATTRIBUTES``;
    links only to ``#anchors``, images only from ``data:``."""
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"data"},
                     strip_comments=True, link_rel=None)


def sanitize_notebook(notebook):
    """The student's own markdown and raw cells (answers and added cells) made safe to render,
    in place: formgrader renders the graded notebook itself."""
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type in ("markdown", "raw") and (not meta or meta.get("solution")):
            cell.source = sanitize(cell.source)
    return notebook


def safe_page(html):
    """The exported page with its template's head (less any script) and a sanitized body."""
    start = html.index("<body")
    head = re.sub(r"<script\b.*?</script>", "", html[:start], flags=re.S | re.I)
    head = head.replace("<head>", f'<head>\n<meta http-equiv="Content-Security-Policy" '
                                  f'content="{POLICY}"/>', 1)
    return head + sanitize(html[start:]) + "\n</html>\n"


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
        if errors:
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
    return safe_page(html)
