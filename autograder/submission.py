"""What of a student's notebook is graded: their answers, never their copy of the tests.

The graded notebook is rebuilt from the instructor's released notebook. Only the contents of
its solution cells come from the submission (matched by grade id, else by cell id), plus any
cells the student added, which keep their place and lose any nbgrader metadata. So edited,
deleted or re-ordered test cells, and edited points, grade ids or checksums, change nothing.
"""

import copy

import nbformat


def grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def read_submission(path):
    """The notebook as nbformat v4, or raise ValueError with a readable reason."""
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # nbformat raises many types for a broken file
        first_line = (str(error).strip().split("\n") or [""])[0][:200]
        raise ValueError(f"not a readable Jupyter notebook ({type(error).__name__}: {first_line})")
    if not nb.cells:
        raise ValueError("the notebook has no cells")
    return nb


def rebuild(released, submitted):
    """The released notebook with the submission's answers and extra cells, outputs cleared."""
    known = {grade_id(cell) for cell in released.cells} | {cell.get("id") for cell in released.cells}
    solution_ids = {grade_id(c) for c in released.cells
                    if c.metadata.get("nbgrader", {}).get("solution")}
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


def with_hidden_tests(notebook, source):
    """``notebook`` with the code of every test cell taken from the instructor's ``source``."""
    tests = {grade_id(cell): cell.source for cell in source.cells
             if cell.metadata.get("nbgrader", {}).get("grade")
             and not cell.metadata.nbgrader.get("solution")}
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        if grade_id(cell) in tests:
            cell.source = tests[grade_id(cell)]
    return notebook
