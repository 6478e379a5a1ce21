"""Hidden tests whose verdict the student's code cannot touch.

A hidden test cell only *runs* the student's function on hidden cases, inside the kernel, and
shows the raw results as a display output (``RESULTS_MIME``). The grader's own process then
rebuilds the same cases, computes the expected answers with the reference (PyTorch, in a process
the submission never ran in) and compares. So a submission that monkeypatches numpy or torch,
overrides ``__eq__``, swallows exceptions or replaces assertion helpers changes nothing: no
comparison happens where its code runs.

An assignment's hidden tests live in ``autograder/assignments/<assignment>.py`` as
``HIDDEN = {grade_id: HiddenTest(...)}``; the test cell calls ``run_hidden_test``.
"""

import ast
import copy
import importlib
from dataclasses import dataclass, field

import numpy as np

from autograder.checks import calls_library

RESULTS_MIME = "application/vnd.cnnbook.hidden-results+json"


@dataclass
class Case:
    """One hidden input: ``description`` in words (shown to students), never the data itself."""
    description: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    raises: type | None = None  # the exception the call must raise, if any


@dataclass
class HiddenTest:
    """Cases for one student function, the reference that answers them, and banned library calls.

    cases: () -> list of Case, deterministic (seeded), so kernel and grader build the same ones.
    reference: called like the student's function; returns the expected value.
    forbidden: names whose use in the student's code earns no credit (e.g. "conv2d" of torch).
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
    """A JSON-able record of what the student's function returned."""
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
        with calls_library(test.forbidden) as caught:
            try:
                outcome = encode(function(*args, **kwargs))
            except Exception as error:
                outcome = {"raised": type(error).__name__}
        if caught:
            outcome = {"library": caught[0]}
        outcomes.append(outcome)
    display({RESULTS_MIME: {"grade_id": grade_id, "outcomes": outcomes},
             "text/plain": f"{len(outcomes)} hidden cases ran; the grader checks the results."},
            raw=True)


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
        if "error" in outcome:
            return f"{what}: {outcome['error']}"
        expected = np.array(test.reference(*copy.deepcopy(case.args), **case.kwargs), dtype=float)
        try:
            actual = np.array(outcome["data"], dtype=float).reshape(outcome["shape"])
        except (KeyError, TypeError, ValueError):
            return f"{what}: unreadable result"
        if actual.shape != expected.shape:
            return f"{what}: wrong shape {actual.shape}, expected {expected.shape}"
        if not np.all(np.isfinite(actual)):
            return f"{what}: the result has NaN or infinite values"
        if not np.allclose(actual, expected, rtol=test.rtol, atol=test.atol):
            return f"{what}: wrong values"
    return None


def uses_forbidden(code, forbidden):
    """The first forbidden name that ``code`` refers to (attribute, import or string), or None.

    Catches ``F.conv2d(...)``, ``from scipy.signal import correlate2d`` and
    ``getattr(F, "conv2d")``; a function the student defines with that name is fine.
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
            names = [alias.name.split(".")[-1] for alias in node.names]
            names += [(getattr(node, "module", None) or "").split(".")[-1]]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names = [node.value]
        found = [name for name in names if name in forbidden]
        if found:
            return found[0]
    return None
