"""Checks that the assignments' test cells use: readable verdicts, no peeking at the library.

Messages never print the hidden inputs, so a failing hidden test tells a student what is wrong
("wrong values", "wrong shape") without handing them the test case.
"""

import contextlib
import re
import sys

import numpy as np

#: Library functions that *are* an exercise, by operation: for each library, a pattern that
#: the function's name starts with. A solution that calls one earns no credit.
LIBRARY_OPERATIONS = {
    "convolution": {"torch": r"conv|_convolution",
                    "scipy": r"correlate|convolve|fftconvolve|oaconvolve"},
    "pooling": {"torch": r"_?(max_pool|avg_pool|adaptive_|fractional_|lp_pool)",
                "scipy": r"(maximum|minimum|uniform)_filter"},
    "autograd": {"torch": r"(backward|grad)$"},  # a backward pass left to autograd
}


def _library_operation(frame, event, arg, operations):
    """Name of the library function of one of ``operations`` entered by this event, or None."""
    if event == "c_call":
        module, name = getattr(arg, "__module__", None) or "", getattr(arg, "__name__", "")
        self_type = type(getattr(arg, "__self__", None))
        module = module or getattr(self_type, "__module__", "")
    elif event == "call":
        module, name = frame.f_globals.get("__name__", ""), frame.f_code.co_name
    else:
        return None
    root = module.split(".")[0]
    for operation in operations:
        pattern = LIBRARY_OPERATIONS[operation].get(root)
        if pattern and re.match(pattern, name):
            return f"{module}.{name}"
    return None


@contextlib.contextmanager
def no_library_call(exercise, *operations):
    """Fail the enclosed call if it reaches a library function doing one of ``operations``.

    operations: keys of LIBRARY_OPERATIONS, e.g. ``no_library_call("max_pool2d", "pooling")``.
    """
    unknown = set(operations) - set(LIBRARY_OPERATIONS)
    if not operations or unknown:
        raise ValueError(
            f"operations must be some of {sorted(LIBRARY_OPERATIONS)}, got {operations}")
    caught = []

    def profile(frame, event, arg):
        name = _library_operation(frame, event, arg, operations)
        if name and not caught:
            caught.append(name)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)
    assert not caught, (
        f"{exercise} calls the library's {caught[0]}: implement it yourself, no credit otherwise")


def no_library_convolution(exercise):
    """Fail the enclosed call if it reaches PyTorch's or SciPy's convolution."""
    return no_library_call(exercise, "convolution")


def assert_matches(actual, expected, what, rtol=1e-5, atol=1e-6):
    """Assert an array equals the expected one in shape and values, with a short message."""
    expected = np.asarray(expected, dtype=float)
    assert actual is not None, f"{what}: the function returned None"
    actual = np.asarray(actual, dtype=float)
    assert actual.shape == expected.shape, (
        f"{what}: wrong shape {actual.shape}, expected {expected.shape}")
    assert np.all(np.isfinite(actual)), f"{what}: the result has NaN or infinite values"
    assert np.allclose(actual, expected, rtol=rtol, atol=atol), f"{what}: wrong values"
