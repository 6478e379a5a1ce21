"""What of a student's notebook is graded: their answers, never their copy of the tests.

The graded notebook is rebuilt from the instructor's released notebook. Only the contents of
its solution cells come from the submission (matched by grade id, else by cell id), plus any
cells the student added, which keep their place and lose any nbgrader metadata. So edited,
deleted or re-ordered test cells, and edited points, grade ids or checksums, change nothing.
"""

import copy
import os
import stat

import nbformat

MAX_FILE = 20 * 2**20   # bytes of a submitted notebook
MAX_CELL = 100_000      # characters of one cell's source: more is no answer, and slow to parse


def grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def read_bytes(path):
    """The bytes of the regular file ``path``, never following a link and never reading more
    than ``MAX_FILE``; ValueError with a readable reason otherwise."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise ValueError(f"{path.name} cannot be read ({error.strerror}; links are not followed)")
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise ValueError(f"{path.name} is not a regular file")
    with os.fdopen(descriptor, "rb") as file:
        content = file.read(MAX_FILE + 1)
    if len(content) > MAX_FILE:
        raise ValueError(f"{path.name} is larger than {MAX_FILE // 2**20} MB")
    return content


def read_submission(content):
    """The notebook in ``content`` (bytes) as nbformat v4, or raise ValueError with a readable
    reason: not a notebook, no cells, malformed nbgrader metadata, a cell too long."""
    try:
        nb = nbformat.reads(content.decode(), as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # nbformat raises many types for a broken file
        first_line = (str(error).strip().split("\n") or [""])[0][:200]
        raise ValueError(f"not a readable Jupyter notebook ({type(error).__name__}: {first_line})")
    if not nb.cells:
        raise ValueError("the notebook has no cells")
    for index, cell in enumerate(nb.cells, 1):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not isinstance(meta, dict) or not isinstance(meta.get("grade_id", ""), str):
            raise ValueError(f"cell {index} has malformed nbgrader metadata (was the notebook "
                             "edited by hand?)")
        if len(cell.source) > MAX_CELL:
            raise ValueError(f"cell {index} has {len(cell.source):,} characters; the limit is "
                             f"{MAX_CELL:,}")
    return nb


def rebuild(released, submitted):
    """The released notebook with the submission's answers and extra cells, outputs cleared.

    Raises ValueError when no cell of the submission is an answer cell of the release (another
    assignment's notebook, or one whose cells lost their ids).
    """
    known = {grade_id(cell) for cell in released.cells} | {cell.get("id") for cell in released.cells}
    solution_ids = {grade_id(c) for c in released.cells
                    if c.metadata.get("nbgrader", {}).get("solution")}
    if not solution_ids & {grade_id(cell) or cell.get("id") for cell in submitted.cells}:
        raise ValueError("none of the notebook's cells is an answer cell of this assignment: "
                         "is it another assignment's notebook?")
    answers, extras, after = {}, {}, None
    for cell in submitted.cells:
        key = grade_id(cell) if grade_id(cell) in known else cell.get("id")
        if key in known:
            if key in solution_ids and key not in answers:
                answers[key] = cell.source
            after = key
        else:
            extras.setdefault(after, []).append(cell)

    cells = []
    for cell in [None] + released.cells:  # None: cells the student put before the first one
        if cell is not None:
            cell = copy.deepcopy(cell)
            if grade_id(cell) in answers:
                cell.source = answers[grade_id(cell)]
            cells.append(cell)
        key = None if cell is None else grade_id(cell) or cell.get("id")
        for extra in extras.get(key, []):
            cells.append(_plain_cell(extra, len(cells)))
    rebuilt = copy.deepcopy(released)
    rebuilt.cells = cells
    for cell in rebuilt.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return rebuilt


def unanswered(released, rebuilt):
    """Whether every answer cell of ``rebuilt`` is as released: nothing was answered."""
    stubs = {grade_id(cell): cell.source for cell in released.cells
             if cell.metadata.get("nbgrader", {}).get("solution")}
    return all(cell.source == stubs[grade_id(cell)] for cell in rebuilt.cells
               if grade_id(cell) in stubs)


def _plain_cell(cell, index):
    """A student's own cell, stripped of anything that could make nbgrader treat it as a test."""
    if cell.cell_type == "code":
        return nbformat.v4.new_code_cell(cell.source, id=f"student-{index}")
    if cell.cell_type == "markdown":
        return nbformat.v4.new_markdown_cell(cell.source, id=f"student-{index}")
    return nbformat.v4.new_raw_cell(cell.source, id=f"student-{index}")


def student_code(notebook):
    """grade_id -> code of each solution cell, and "" -> the code of the student's extra cells."""
    code = {"": ""}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            code[meta["grade_id"]] = cell.source
        elif not meta:
            code[""] += cell.source + "\n"
    return code
