"""Hidden tests whose verdict the student's code cannot touch.

A hidden test cell only *runs* the student's function on hidden cases, inside the kernel, and
shows the raw results as a display output (``RESULTS_MIME``). The grader's own process then
rebuilds the same cases, computes the expected answers with the reference (PyTorch, in a process
the submission never ran in) and compares. So a submission that monkeypatches numpy or torch,
overrides ``__eq__``, swallows exceptions or replaces assertion helpers changes nothing: no
comparison happens where its code runs.

An assignment's hidden tests live in ``autograder/assignments/<assignment>.py`` as
``HIDDEN = {grade_id: HiddenTest(...)}``; the test cell calls
``run_hidden_test("<assignment>", "<grade_id>", <student function>)``.
"""

import ast
import copy
import fnmatch
import importlib
from dataclasses import dataclass, field

import numpy as np

from autograder.checks import LIBRARY_OPERATIONS, calls_library

RESULTS_MIME = "application/vnd.cnnbook.hidden-results+json"


@dataclass
class Case:
    """One hidden input: ``description`` in words (shown to students), never the data itself.

    raises: the exception the call must raise, if any.
    check_args: positions of arguments the function must update in place (e.g. running
    statistics); after the call they are compared with the reference's.
    """
    description: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    raises: type | None = None
    check_args: tuple = ()


@dataclass
class HiddenTest:
    """Cases for one student function, the reference that answers them, and banned operations.

    function: the student's function (the grade id of its solution cell).
    cases: () -> list of Case, deterministic (seeded), so kernel and grader build the same ones.
    reference: called like the student's function on copies of the same arguments.
    forbidden: kinds of ``autograder.checks.LIBRARY_OPERATIONS`` the function may not call.
    """
    function: str
    cases: object
    reference: object
    forbidden: tuple = ()
    rtol: float = 1e-5
    atol: float = 1e-6


def load(assignment):
    """``HIDDEN`` of ``autograder/assignments/<assignment>.py``; empty if it has none."""
    try:
        module = importlib.import_module(f"autograder.assignments.{assignment}")
    except ModuleNotFoundError:
        return {}
    return module.HIDDEN


def encode(value):
    """A JSON-able record of a returned value: numbers with their shape, or a tuple of those."""
    if isinstance(value, tuple):
        return {"items": [encode(item) for item in value]}
    try:
        array = np.array(value, dtype=float)
    except Exception:
        return {"error": f"returned a {type(value).__name__}, not numbers"}
    return {"shape": list(array.shape), "data": array.ravel().tolist()}


def run_hidden_test(assignment, grade_id, function):
    """Kernel side: call ``function`` on every hidden case and display the raw outcomes."""
    from IPython.display import display

    test = load(assignment)[grade_id]
    outcomes = []
    for case in test.cases():
        args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
        with calls_library(*test.forbidden) as caught:
            try:
                outcome = {"value": encode(function(*args, **kwargs)),
                           "args": [encode(args[i]) for i in case.check_args]}
            except Exception as error:
                outcome = {"raised": type(error).__name__}
        if caught:
            outcome = {"library": caught[0]}
        outcomes.append(outcome)
    display({RESULTS_MIME: {"grade_id": grade_id, "outcomes": outcomes},
             "text/plain": f"{len(outcomes)} hidden cases ran; the grader checks the results."},
            raw=True)


def compare(record, expected, test):
    """None if the recorded value equals ``expected``, else what is wrong with it."""
    if isinstance(expected, tuple):
        items = record.get("items") if isinstance(record, dict) else None
        if not isinstance(items, list) or len(items) != len(expected):
            return f"should return {len(expected)} values"
        for index, (item, want) in enumerate(zip(items, expected)):
            if problem := compare(item, want, test):
                return f"value {index + 1} of {len(expected)}: {problem}"
        return None
    if not isinstance(record, dict) or "error" in record:
        return (record or {}).get("error", "no result") if isinstance(record, dict) else "no result"
    expected = np.array(expected, dtype=float)
    try:
        actual = np.array(record["data"], dtype=float).reshape(record["shape"])
    except (KeyError, TypeError, ValueError):
        return "unreadable result"
    if actual.shape != expected.shape:
        return f"wrong shape {actual.shape}, expected {expected.shape}"
    if np.allclose(actual, expected, rtol=test.rtol, atol=test.atol, equal_nan=True):
        return None
    if np.isnan(actual).any() and not np.isnan(expected).any():
        return "the result has NaN values"
    return "wrong values"


def judge(test, outcomes):
    """Grader side: None if every case is right, else a message naming the first wrong case."""
    cases = test.cases()
    if not isinstance(outcomes, list) or len(outcomes) != len(cases):
        return "the hidden tests did not run to the end"
    for case, outcome in zip(cases, outcomes):
        what = f"{test.function} with {case.description}"
        if not isinstance(outcome, dict):
            return f"{what}: no result"
        if "library" in outcome:
            return f"{what}: calls the library's {outcome['library']}: no credit"
        if case.raises is not None:
            if outcome.get("raised") != case.raises.__name__:
                return f"{what}: should raise {case.raises.__name__}"
            continue
        if "raised" in outcome:
            return f"{what}: raised {outcome['raised']}"
        args = copy.deepcopy(case.args)
        expected = test.reference(*args, **copy.deepcopy(case.kwargs))
        if problem := compare(outcome.get("value"), expected, test):
            return f"{what}: {problem}"
        updated = outcome.get("args")
        if not isinstance(updated, list) or len(updated) != len(case.check_args):
            return f"{what}: no record of the arguments it updates"
        for record, position in zip(updated, case.check_args):
            if problem := compare(record, args[position], test):
                return f"{what}: argument {position + 1} after the call: {problem}"
    return None


def forbidden_name(name, kinds):
    """Whether an identifier names a function of the ``kinds`` of library operation."""
    return name == "solutions" or any(
        fnmatch.fnmatchcase(name, pattern)
        for kind in kinds for patterns in LIBRARY_OPERATIONS[kind].values()
        for pattern in patterns if pattern != "*")


def uses_forbidden(code, kinds):
    """The first forbidden name ``code`` refers to (attribute, import, identifier string), or None.

    Catches ``F.conv2d(...)``, ``from scipy.signal import correlate2d``, ``import solutions`` and
    ``getattr(F, "conv2d")``; a function the student defines and calls by that name is fine.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Attribute):
            names = [node.attr]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [part for alias in node.names for part in alias.name.split(".")]
            names += (getattr(node, "module", None) or "").split(".")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names = [node.value] if node.value.isidentifier() else []
        found = [name for name in names if name and forbidden_name(name, kinds)]
        if found:
            return found[0]
    return None
