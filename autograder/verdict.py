"""Scores of an executed notebook's test cells, decided outside the student's kernel.

A test cell with hidden cases (see autograder/hidden.py) passes when the grader's own comparison
of its displayed results with the reference passes and the student's code for that function uses
no forbidden library call. Any other test cell passes when it raised no error, as in nbgrader.
"""

from nbgrader.utils import is_grade

from autograder.hidden import RESULTS_MIME, judge, load, uses_forbidden
from autograder.submission import student_code

MAX_MESSAGE = 200


def error_message(output):
    evalue = str(output.get("evalue", "")).strip().split("\n")[0][:MAX_MESSAGE]
    ename = output.get("ename", "Error")
    return f"{ename}: {evalue}" if evalue else ename


def cell_verdicts(notebook, assignment):
    """grade_id -> None when the test cell passed, else a readable reason; in notebook order."""
    hidden, code = load(assignment), student_code(notebook)
    verdicts = {}
    for cell in notebook.cells:
        if not is_grade(cell):
            continue
        gid = cell.metadata.nbgrader.grade_id
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if gid not in hidden:
            verdicts[gid] = error_message(errors[-1]) if errors else None
            continue
        if "BEGIN HIDDEN TESTS" not in cell.source:
            continue  # a student's copy: the hidden cases are added back when it is graded
        test = hidden[gid]
        results = [o["data"][RESULTS_MIME] for o in cell.get("outputs", [])
                   if RESULTS_MIME in o.get("data", {})]
        if len(results) != 1 or results[0].get("grade_id") != gid:
            ran = f" ({error_message(errors[-1])})" if errors else ""
            verdicts[gid] = f"the hidden tests of {test.function} did not run{ran}"
            continue
        verdict = judge(test, results[0].get("outcomes"))
        banned = uses_forbidden(code.get(test.function, "") + "\n" + code[""], test.forbidden,
                                test.course)
        if verdict is None and banned:
            verdict = f"{test.function} uses the library's {banned}: no credit"
        verdicts[gid] = verdict
    return verdicts
