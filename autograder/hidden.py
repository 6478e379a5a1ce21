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

Kernel and grader record values with the same ``encode``: numbers, tuples of values, PyTorch
tensors and networks (layers, modes, which parameters train, every parameter and buffer), and
"returned its argument itself". A network's record keeps its raw state, so that the grader can
judge properties no reference value has (the accuracy a fine-tuned network reaches) in its own
process, with a ``check`` of the hidden test.

The cases are public (this package is), so a student could look their answers up in a table made
with the course's own code. An instructor who sets ``CNNBOOK_HIDDEN_SEED`` to a secret when
grading gets cases nobody has seen: ``hidden_seed`` mixes it into every case generator's seed.
"""

import ast
import contextlib
import copy
import fnmatch
import hashlib
import importlib
import os
import threading
from dataclasses import dataclass, field

import numpy as np
import torch

from autograder.checks import LIBRARY_OPERATIONS, calls_library

RESULTS_MIME = "application/vnd.cnnbook.hidden-results+json"

#: The grader judges submissions in several threads; cases and references seed torch's global
#: random generators, so one judgement runs at a time.
JUDGING = threading.Lock()


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
    cases: () -> list of Case, deterministic (seeded), so kernel and grader build the same ones.
    reference: called like the student's function on copies of the same arguments.
    forbidden: kinds of ``autograder.checks.LIBRARY_OPERATIONS`` the function may not call.
    course: the part of the course's own package it may not call either (all of ``solutions``,
    unless the notebook provides some of it, e.g. ``fit``).
    seed: torch's random generators are seeded with it for each call, the student's and the
    reference's, so that random numbers drawn by both (a new layer's weights) agree.
    check: (test, case, outcome) -> None or what is wrong, for properties no reference value has;
    it judges the recorded outcome (``{"value": record, "args": [records]}``) instead of the
    reference.
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


def hidden_seed(number):
    """The seed of one case generator: ``number``, mixed with ``CNNBOOK_HIDDEN_SEED`` if set.

    The grader's process and the student's kernel (which inherits the environment) agree.
    """
    secret = os.environ.get("CNNBOOK_HIDDEN_SEED", "")
    if not secret:
        return number
    return int.from_bytes(hashlib.sha256(f"{secret}:{number}".encode()).digest()[:8], "little")


def load(assignment):
    """``HIDDEN`` of ``autograder/assignments/<assignment>.py``; empty if it has none."""
    try:
        module = importlib.import_module(f"autograder.assignments.{assignment}")
    except ModuleNotFoundError:
        return {}
    return module.HIDDEN


def encode(value, args=()):
    """A JSON-able record of a value: numbers with their shape, a tuple of records, or a network:
    which of ``args`` it is, when it is one of them (a network changed in place and returned),
    else its layers and their modes, which parameters train, every parameter and buffer."""
    if isinstance(value, tuple):
        return {"items": [encode(item) for item in value]}
    if isinstance(value, torch.nn.Module):
        for position, arg in enumerate(args):
            if value is arg:
                return {"argument": position}
        return {"module": {
            "layers": {name: type(layer).__name__ for name, layer in value.named_modules()},
            "trainable": {name: p.requires_grad for name, p in value.named_parameters()},
            "training": {name: layer.training for name, layer in value.named_modules()},
            "state": {name: encode(tensor) for name, tensor in value.state_dict().items()}}}
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().double().numpy()
    try:
        array = np.array(value, dtype=float)
    except Exception:
        return {"error": f"returned a {type(value).__name__}, not numbers"}
    return {"shape": list(array.shape), "data": array.ravel().tolist()}


def decode(record):
    """The array a record of numbers holds; ValueError if it holds none."""
    try:
        return np.array(record["data"], dtype=float).reshape(record["shape"])
    except (KeyError, TypeError, ValueError):
        raise ValueError("unreadable result") from None


@contextlib.contextmanager
def seeded(seed):
    """Seed torch's random generators with ``seed`` inside the block (if not None), and give
    the caller's random state back after it."""
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def run_hidden_test(assignment, grade_id, function):
    """Kernel side: call ``function`` on every hidden case and display the raw outcomes."""
    from IPython.display import display

    test = load(assignment)[grade_id]
    outcomes = []
    for case in test.cases():
        args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
        with seeded(test.seed), calls_library(*test.forbidden, course=test.course) as caught:
            try:
                returned, raised = function(*args, **kwargs), None
            except Exception as error:
                raised = type(error).__name__
        if caught:
            outcome = {"library": caught[0]}
        elif raised:
            outcome = {"raised": raised}
        else:
            outcome = {"value": encode(returned, args),
                       "args": [encode(args[i]) for i in case.check_args]}
        outcomes.append(outcome)
    display({RESULTS_MIME: {"grade_id": grade_id, "outcomes": outcomes},
             "text/plain": f"{len(outcomes)} hidden cases ran; the grader checks the results."},
            raw=True)


def compare(record, expected, test):
    """None if ``record`` matches the ``expected`` record (``encode`` of the right value), else
    what is wrong with it, in words."""
    if not isinstance(record, dict):
        return "no result"
    if "error" in record:
        return str(record["error"])
    if "argument" in expected:
        return None if record == expected else (
            f"should return its argument {expected['argument'] + 1} itself (changed in place)")
    if "argument" in record:
        return f"returned its argument {record['argument'] + 1}, not a new value"
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


def judge(test, outcomes):
    """Grader side: None if every case is right, else a message naming the first wrong case."""
    with JUDGING:
        return first_wrong_case(test, outcomes)


def first_wrong_case(test, outcomes):
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
        if problem := (test.check or matches_reference)(test, case, outcome):
            return f"{what}: {problem}"
    return None


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
