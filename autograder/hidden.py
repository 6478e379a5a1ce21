"""Hidden tests whose verdict the student's code cannot touch.

An assignment's hidden tests live in ``autograder/assignments/<assignment>.py`` as
``HIDDEN = {grade_id: HiddenTest(...)}``, beside ``IMPORTS``: the libraries its answers may use
(NumPy alone unless it says more). The grader runs the student's function on each test's cases
in a sandboxed process of its own (``autograder.answers``), which sends back plain records
(``autograder.records``) of what it returned; then, in the grader's process, it computes the
expected answers with the reference (PyTorch) on its own copies of the same cases and compares
them (``judge``). So a submission that monkeypatches numpy or torch, overrides ``__eq__``,
swallows exceptions or forges its records changes nothing: no comparison happens where its code
runs.

Records are numbers, tuples of records, and networks (layers, modes, which parameters train,
every parameter and buffer), and "returned its argument itself". A network's record keeps its
raw state, so that the grader can judge properties no reference value has (the accuracy a
fine-tuned network reaches) in its own process, with a ``check`` of the hidden test.

The cases are public (this package is), so a student could look their answers up in a table made
with the course's own code. An instructor who sets ``CNNBOOK_HIDDEN_SEED`` to a secret when
grading gets cases nobody has seen: ``hidden_seed`` mixes it into every case generator's seed.
The secret stays in the grader: no sandboxed process has it in its environment.
"""

import ast
import contextlib
import contextvars
import copy
import fnmatch
import hashlib
import importlib
import os
import re
import threading
from dataclasses import dataclass, field

import numpy as np

from autograder.checks import LIBRARY_OPERATIONS
from autograder.records import decode, encode, seeded

#: The grader judges submissions in several threads; cases and references seed torch's global
#: random generators, so one judgement runs at a time.
JUDGING = threading.Lock()
#: The digest of the submission whose cases are drawn (see ``cases_for``), in this thread.
SUBMISSION = contextvars.ContextVar("submission", default="")
#: What of the answer process's reports may be shown: names, never free text.
ERROR = re.compile(r"\w{1,40}(: No module named '[\w.]{1,40}')?", re.ASCII)
LIBRARY = re.compile(r"[\w.]{1,80}", re.ASCII)
RETURNED = re.compile(r"returned a \w{1,40}, not numbers", re.ASCII)


@dataclass
class Case:
    """One hidden input: ``description`` in words (shown to students), never the data itself.

    raises: the exception the call must raise, if any.
    check_args: positions of arguments recorded after the call: those the function must update
    in place (running statistics, a network it trains or changes), compared with the
    reference's own copies after its call.
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
    cases: () -> list of Case, deterministic (seeded): drawn once per submission (``draw_cases``).
    reference: called like the student's function on copies of the same arguments.
    forbidden: kinds of ``autograder.checks.LIBRARY_OPERATIONS`` the function may not call.
    course: the part of the course's own package it may not call either (all of ``solutions``,
    unless the notebook provides some of it, e.g. ``fit``).
    seed: torch's random generators are seeded with it for each call, the student's and the
    reference's, so that random numbers drawn by both (a new layer's weights) agree.
    check: (test, case, outcome) -> None or what is wrong, for properties no reference value has;
    it judges the recorded outcome (``{"value": record, "args": [records]}``) instead of the
    reference.
    call: what the cases call, an expression in the student's namespace (default: ``function``),
    e.g. ``"lambda: (valid_width, same_p)"`` for answers that are numbers.
    lend: names set in the student's namespace while the cases run, e.g. a correct ``linear``
    for ``conv1x1``, so that one mistake does not cost points twice.
    """
    function: str
    cases: object
    reference: object = None
    forbidden: tuple = ()
    rtol: float = 1e-5
    atol: float = 1e-6
    course: str = "solutions"
    seed: int | None = None
    check: object = None
    call: str = ""
    lend: dict = field(default_factory=dict)


def hidden_seed(number):
    """The seed of one case generator: ``number``, mixed with ``CNNBOOK_HIDDEN_SEED`` if set and
    with the digest of the submission being graded (``cases_for``).

    Only the grader's process has the secret: cases travel to the sandbox as data. The digest
    makes each submission's cases its own: cases a student got out of one run (there is no way
    out, but if there were) fit no other submission, and no notebook can hold the answers to
    the cases drawn from its own digest.
    """
    secret = os.environ.get("CNNBOOK_HIDDEN_SEED", "") + SUBMISSION.get()
    if not secret:
        return number
    return int.from_bytes(hashlib.sha256(f"{secret}:{number}".encode()).digest()[:8], "little")


@contextlib.contextmanager
def cases_for(submission):
    """Inside the block (in this thread), every case generator draws the cases of
    ``submission``, a digest of the submitted file."""
    token = SUBMISSION.set(f":{submission}")
    try:
        yield
    finally:
        SUBMISSION.reset(token)


def reported(text, pattern, otherwise):
    """What the answer process reported (an exception's name, a module, a type), shown to the
    student only where it fits ``pattern``: no other text travels from a sandbox to a page."""
    match = pattern.fullmatch(str(text)[:200])
    return match[0] if match else otherwise


def assignment_module(assignment):
    """``autograder/assignments/<assignment>.py``, or None if the assignment has none."""
    try:
        return importlib.import_module(f"autograder.assignments.{assignment}")
    except ModuleNotFoundError:
        return None


def load(assignment):
    """``HIDDEN`` of ``autograder/assignments/<assignment>.py``; empty if it has none."""
    module = assignment_module(assignment)
    return module.HIDDEN if module else {}


def imports(assignment):
    """(distributions, modules of ``solutions`` withheld) the assignment's answers may use."""
    module = assignment_module(assignment)
    return getattr(module, "IMPORTS", ("numpy",)), getattr(module, "WITHHOLD", ())


def compare(record, expected, test):
    """None if ``record`` matches the ``expected`` record (``encode`` of the right value), else
    what is wrong with it, in words."""
    if not isinstance(record, dict):
        return "no result"
    if "error" in record:
        return reported(record["error"], RETURNED, "returned something other than numbers")
    if "argument" in expected:
        return None if record == expected else (
            f"should return its argument {expected['argument'] + 1} itself (changed in place)")
    if "argument" in record:
        return "returned one of its arguments, not a new value"
    if "items" in expected:
        items, want = record.get("items"), expected["items"]
        if not isinstance(items, list) or len(items) != len(want):
            return f"should return {len(want)} values"
        for index, (item, wanted) in enumerate(zip(items, want)):
            if problem := compare(item, wanted, test):
                return f"value {index + 1} of {len(want)}: {problem}"
        return None
    if "module" in expected:
        return compare_modules(record.get("module"), expected["module"], test)
    try:
        actual, expected = decode(record), decode(expected)
    except ValueError as error:
        return str(error)
    if actual.shape != expected.shape:
        if actual.ndim > expected.ndim + 1 or max(actual.shape, default=0) > 2 * max(
                expected.shape, default=0) + 2:
            return f"wrong shape, expected {expected.shape}"  # no room for a message in it
        return f"wrong shape {actual.shape}, expected {expected.shape}"
    if np.allclose(actual, expected, rtol=test.rtol, atol=test.atol, equal_nan=True):
        return None
    if np.isnan(actual).any() and not np.isnan(expected).any():
        return "the result has NaN values"
    return "wrong values"


def compare_modules(actual, expected, test):
    """None if two network records agree: layers, trainable parameters, modes, then state."""
    if not isinstance(actual, dict) or any(not isinstance(actual.get(key), dict)
                                           for key in expected):
        return "should be a network"
    layers = actual["layers"]
    for name, kind in expected["layers"].items():
        if name not in layers:
            return f"lacks the layer {name}"
        if layers[name] != kind:
            return f"layer {name or '(the network)'} is a {layers[name]}, expected a {kind}"
    if extra := [name for name in layers if name not in expected["layers"]]:
        return f"has a layer {extra[0]} too many"
    for name, trainable in expected["trainable"].items():
        if actual["trainable"].get(name) != trainable:
            return (f"parameter {name} should be trainable (requires_grad=True)" if trainable
                    else f"parameter {name} should be frozen (requires_grad=False)")
    for name, training in expected["training"].items():
        if actual["training"].get(name) != training:
            mode = "training" if training else "evaluation"
            return f"{f'layer {name}' if name else 'the network'} should be in {mode} mode"
    for name, tensor in expected["state"].items():
        if problem := compare(actual["state"].get(name), tensor, test):
            return f"{name}: {problem}"
    if extra := [name for name in actual["state"] if name not in expected["state"]]:
        return f"has a parameter or buffer {extra[0]} too many"
    return None


def matches_reference(test, case, outcome):
    """None if the outcome is the reference's, on the grader's own copy of the case."""
    args = copy.deepcopy(case.args)
    with seeded(test.seed):
        expected = test.reference(*args, **copy.deepcopy(case.kwargs))
    if problem := compare(outcome.get("value"), encode(expected, args), test):
        return problem
    updated = outcome.get("args")
    if not isinstance(updated, list) or len(updated) != len(case.check_args):
        return "no record of the arguments it updates"
    for record, position in zip(updated, case.check_args):
        if problem := compare(record, encode(args[position]), test):
            return f"argument {position + 1} after the call: {problem}"
    return None


def draw_cases(tests):
    """grade_id -> the cases of each of ``tests`` ((grade_id, HiddenTest) pairs), drawn once for
    the submission being graded: sent to the answer process, then judged. Case generators seed
    torch's global generators, so they draw one at a time."""
    with JUDGING:
        return {grade_id: test.cases() for grade_id, test in tests}


def judge(test, cases, outcomes):
    """Grader side: None if every one of ``cases`` (``draw_cases``) is right, else a message
    naming the first wrong case, ``<function> with <case>: <problem>``. References never change
    the cases: they run on copies."""
    with JUDGING:  # references seed torch's global generators too
        if not isinstance(outcomes, list) or len(outcomes) != len(cases):
            return "the hidden tests did not run to the end"
        for case, outcome in zip(cases, outcomes):
            try:
                problem = case_problem(test, case, outcome)
            except (TypeError, ValueError, KeyError, AttributeError, OverflowError):
                problem = "an unreadable result"  # a record no honest call produces
            if problem:
                return f"{test.function} with {case.description}: {problem}"
    return None


def case_problem(test, case, outcome):
    """None if the outcome of one case is right, else what is wrong with it, in words."""
    if not isinstance(outcome, dict):
        return "no result"
    if "library" in outcome:
        name = reported(outcome["library"], LIBRARY, "operation")
        return f"calls the library's {name}: no credit"
    if case.raises is not None:
        return (None if outcome.get("raised") == case.raises.__name__
                else f"should raise {case.raises.__name__}")
    if "raised" in outcome:
        return f"raised {reported(outcome['raised'], ERROR, 'an exception')}"
    return (test.check or matches_reference)(test, case, outcome)


def forbidden_name(name, kinds, course="solutions"):
    """Whether an identifier names a function of the ``kinds`` of library operation, a module
    all of whose functions are (``lr_scheduler``), or the forbidden part of the course."""
    return name == course.rpartition(".")[2] or any(
        fnmatch.fnmatchcase(name, module.rpartition(".")[2] if pattern == "*" else pattern)
        for kind in kinds for module, patterns in LIBRARY_OPERATIONS[kind].items()
        for pattern in patterns)


def uses_forbidden(code, kinds, course="solutions"):
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
        found = [name for name in names if name and forbidden_name(name, kinds, course)]
        if found:
            return found[0]
    return None
