"""Run a student's answers on hidden cases, inside the sandbox: ``python answer_runner.py``.

The grader (``autograder.answers``) starts this script through ``autograder.sandbox``, beside
``records.py`` and ``checks.py``, in a view where only the exercise's libraries exist. It reads,
on standard input, a pickle of ``{"cells": [code], "tests": [test]}``: the provided and answer
cells of the submission, and for each hidden test the name of the student's function, the cases
(arguments, keyword arguments, which arguments to record after the call), the seed of torch's
generators and the library operations the function may not call. It writes one JSON line on
standard output: ``{"setup": [errors of the cells]}``, then one per test, in order:
``{"grade_id": ..., "outcomes": [...]}``. The cells' own output goes nowhere.

Nothing this process writes is trusted: the grader judges the outcomes against its own reference.
The student's code runs here, so it could forge these lines; it gains nothing by that that its
function could not return.
"""

import json
import os
import pickle
import sys

from checks import calls_library
from records import encode, seeded


def run_cells(cells):
    """Run the cells in an IPython shell (magics work); return its namespace and the errors."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    errors = []
    for code in cells:
        result = shell.run_cell(code, store_history=False, silent=True)
        error = result.error_before_exec or result.error_in_exec
        if error is not None:
            errors.append(f"{type(error).__name__}: {str(error)[:200]}")
    return shell.user_ns, errors


def outcome(function, case, seed, forbidden, course):
    """What one call of ``function`` on a case did: a library call, an exception or its value."""
    args, kwargs, check_args = case
    with seeded(seed), calls_library(*forbidden, course=course) as caught:
        try:
            returned, raised = function(*args, **kwargs), None
        except BaseException as error:  # SystemExit and KeyboardInterrupt too: a wrong answer
            raised = type(error).__name__
    if caught:
        return {"library": caught[0]}
    if raised:
        return {"raised": raised}
    return {"value": encode(returned, args), "args": [encode(args[i]) for i in check_args]}


def main():
    job = pickle.load(sys.stdin.buffer)
    results = os.fdopen(os.dup(1), "w")
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    namespace, errors = run_cells(job["cells"])
    print(json.dumps({"setup": errors}), file=results, flush=True)
    for test in job["tests"]:
        kept = {name: namespace.get(name) for name in test["lend"]}
        namespace.update(test["lend"])
        try:
            function = eval(test["call"], namespace)
            missing = None if callable(function) else "TypeError"
        except Exception as error:
            missing = f"{type(error).__name__}: {str(error)[:200]}"
        if missing:
            line = {"grade_id": test["grade_id"], "missing": missing}
        else:
            outcomes = []
            for case in test["cases"]:
                try:
                    outcomes.append(outcome(function, case, test["seed"], test["forbidden"],
                                            test["course"]))
                except Exception:  # recording failed: the value is not one of numbers
                    outcomes.append({"value": {"error": "not recordable"}})
            line = {"grade_id": test["grade_id"], "outcomes": outcomes}
        namespace.update(kept)
        print(json.dumps(line), file=results, flush=True)


if __name__ == "__main__":
    main()
