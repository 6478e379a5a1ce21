"""Build an instructor (nbgrader "source") notebook from a readable MyST Markdown file.

An assignment is written once, as ``autograder/assignments/<name>.md`` (MyST notebook text).
Code cells carry one tag that says what nbgrader should make of them:

- ``solution``: the student's answer cell (an nbgrader autograded-answer cell). It usually holds
  ``#| include: solutions.convolution.conv2d_loops as conv2d``, replaced here by the reference
  function's source, its body between ``### BEGIN SOLUTION`` / ``### END SOLUTION`` so that the
  released notebook keeps the signature and docstring and asks for the body.
- ``tests``: an autograder test cell, with ``:id:`` and ``:points:`` options. Hidden tests sit
  between ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` and are removed on release.
- ``provided``: read-only code the student is given (imports, helpers; includes are verbatim).

Every other cell is read-only text. So the solution the students are graded against is the code
tested in ``solutions/``; nothing is written twice.
"""

import ast
import importlib
import inspect
import re
import textwrap

import nbformat
from myst_nb.core.read import read_myst_markdown_notebook

INCLUDE = re.compile(r"^#\| include: (?P<path>[\w.]+)(?: as (?P<alias>\w+))?\s*$", re.M)
KINDS = ("solution", "tests", "provided")


class AssignmentSourceError(ValueError):
    """The assignment's Markdown source is malformed; the message names the cell."""


def function_source(path, alias=None, solution=False):
    """Source of ``module.function``, renamed to ``alias``; body fenced as a solution if asked."""
    module_name, _, name = path.rpartition(".")
    function = getattr(importlib.import_module(module_name), name)
    source = textwrap.dedent(inspect.getsource(function))
    if alias:
        source = re.sub(rf"^def {name}\(", f"def {alias}(", source, count=1, flags=re.M)
    if not solution:
        return source.rstrip("\n")
    lines = source.rstrip("\n").split("\n")
    body_start = _body_start(function, lines)
    indent = " " * 4
    return "\n".join(lines[:body_start] + [indent + "### BEGIN SOLUTION"]
                     + lines[body_start:] + [indent + "### END SOLUTION"])


def _body_start(function, lines):
    """Index of the first line after the signature and docstring of ``function``'s source."""
    node = ast.parse("\n".join(lines)).body[0]
    first = node.body[0]
    if function.__doc__ and isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        return first.end_lineno
    return first.lineno - 1


def expand_includes(source, solution):
    return INCLUDE.sub(
        lambda m: function_source(m["path"], m["alias"], solution=solution), source)


def build_source_notebook(markdown_text, assignment):
    """Return the nbgrader source notebook (nbformat v4) for one assignment's Markdown."""
    nb = read_myst_markdown_notebook(markdown_text)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    seen = set()
    for index, cell in enumerate(nb.cells):
        tags = [t for t in cell.metadata.pop("tags", []) if t in KINDS]
        kind = tags[0] if tags else None
        grade_id = str(cell.metadata.pop("id", f"{assignment}-cell-{index}"))
        points = cell.metadata.pop("points", None)
        if grade_id in seen:
            raise AssignmentSourceError(f"{assignment}: cell {index}: id {grade_id!r} is used twice")
        seen.add(grade_id)
        if cell.cell_type == "code":
            cell.source = expand_includes(cell.source, solution=kind == "solution")
        if kind == "tests" and points is None:
            raise AssignmentSourceError(f"{assignment}: test cell {grade_id!r} needs :points:")
        if kind == "solution" and "BEGIN SOLUTION" not in cell.source:
            raise AssignmentSourceError(
                f"{assignment}: solution cell {grade_id!r} has no solution region")
        cell.id = grade_id
        cell.metadata["nbgrader"] = {
            "grade_id": grade_id,
            "schema_version": 3,
            "solution": kind == "solution",
            "grade": kind == "tests",
            "locked": kind != "solution",
            "task": False,
            **({"points": int(points)} if kind == "tests" else {}),
        }
        if kind == "tests":
            cell.metadata["deletable"] = False
            cell.metadata["editable"] = False
    nbformat.validate(nb)
    return nb
