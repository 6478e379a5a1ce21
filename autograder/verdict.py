"""Scores of a notebook's test cells, decided outside the student's code.

A hidden test passes when the grader's comparison of the answer process's records with the
reference passes (``autograder.hidden.judge``) and the student's code for that function names no
forbidden library operation. A visible test passes when its cell raised no error, as in nbgrader;
visible tests carry no points.
"""

from nbgrader.utils import is_grade

from autograder.hidden import ERROR, imports, judge, load, reported, uses_forbidden
from autograder.submission import student_code

MAX_MESSAGE = 200


def error_message(output):
    evalue = str(output.get("evalue", "")).strip().split("\n")[0][:MAX_MESSAGE]
    ename = output.get("ename", "Error")
    return f"{ename}: {evalue}" if evalue else ename


def visible_verdicts(notebook, assignment):
    """grade_id -> None when the visible test cell passed, else its error; in notebook order."""
    hidden = load(assignment)
    verdicts = {}
    for cell in notebook.cells:
        if is_grade(cell) and cell.metadata.nbgrader.grade_id not in hidden:
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            message = error_message(errors[-1]) if errors else None
            verdicts[cell.metadata.nbgrader.grade_id] = message
    return verdicts


def hidden_verdicts(notebook, assignment, cases, results, setup):
    """grade_id -> None when the hidden test passed, else a readable reason.

    cases: grade_id -> the cases drawn for the submission (``autograder.hidden.draw_cases``);
    results: grade_id -> the answer process's line for that test (``autograder.answers``);
    setup: the errors its cells raised when they were loaded.
    """
    code = student_code(notebook)
    setup = [reported(error, ERROR, "an exception") for error in setup]
    loaded = f" (loading your answer cells raised {setup[0]})" if setup else ""
    allowed = f" (the hidden tests may import {', '.join(imports(assignment)[0])} only)"
    verdicts = {}
    for grade_id, test in load(assignment).items():
        result = results.get(grade_id, {"failed": "the hidden tests did not run"})
        if "failed" in result:
            verdict = str(result["failed"]) + loaded
        elif "missing" in result and setup:
            verdict = (f"the hidden tests of {test.function} could not run: loading your answer "
                       f"cells raised {setup[0]}"
                       + (allowed if "ModuleNotFoundError" in setup[0] else ""))
        elif "missing" in result:
            verdict = (f"{test.call or test.function} is not defined by your answer cells "
                       f"({reported(result['missing'], ERROR, 'not a function')}); the hidden "
                       "tests run the provided cells and your answer cells alone")
        else:
            verdict = judge(test, cases[grade_id], result.get("outcomes"))
        banned = (uses_forbidden(code.get(test.function, ""), test.forbidden, test.course)
                  or uses_forbidden(code[""], test.forbidden, test.course))
        if verdict is None and banned:
            verdict = f"{test.function} uses the library's {banned}: no credit"
        verdicts[grade_id] = verdict
    return verdicts
