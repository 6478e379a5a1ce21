"""Checks that the assignments' test cells use: readable verdicts, no peeking at the library.

Messages never print the hidden inputs, so a failing hidden test tells a student what is wrong
("wrong values", "wrong shape") without handing them the test case.
"""

import contextlib
import sys

import numpy as np

#: torch and scipy functions that *are* the convolution exercise; calling one earns no credit.
CONVOLUTIONS = ("conv1d", "conv2d", "conv3d", "convolution", "_convolution", "correlate",
                "correlate2d", "convolve", "convolve2d", "fftconvolve", "oaconvolve")
LIBRARIES = ("torch", "scipy")


def _library_call(frame, event, arg, names):
    """``module.name`` when this event enters a library function in ``names`` or ``solutions``."""
    if event == "c_call":
        name = getattr(arg, "__name__", "")
        module = getattr(arg, "__module__", None) or type(getattr(arg, "__self__", None)).__module__
    elif event == "call":
        module, name = frame.f_globals.get("__name__", ""), frame.f_code.co_name
    else:
        return None
    root = (module or "").split(".")[0]
    if root == "solutions" or (name in names and root in LIBRARIES):  # the course's answers
        return f"{module}.{name}"
    return None


@contextlib.contextmanager
def calls_library(names):
    """Collect, in the yielded list, the library functions in ``names`` that the block calls."""
    caught = []

    def profile(frame, event, arg):
        name = _library_call(frame, event, arg, names)
        if name and not caught:
            caught.append(name)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield caught
    finally:
        sys.setprofile(previous)


@contextlib.contextmanager
def no_library_convolution(exercise):
    """Fail the enclosed call if it reaches PyTorch's or SciPy's convolution."""
    with calls_library(CONVOLUTIONS) as caught:
        yield
    assert not caught, (
        f"{exercise} calls the library's {caught[0]}: implement it yourself, no credit otherwise")


def assert_matches(actual, expected, what, rtol=1e-5, atol=1e-6):
    """Assert an array equals the expected one in shape and values, with a short message."""
    expected = np.asarray(expected, dtype=float)
    assert actual is not None, f"{what}: the function returned None"
    actual = np.asarray(actual, dtype=float)
    assert actual.shape == expected.shape, (
        f"{what}: wrong shape {actual.shape}, expected {expected.shape}")
    assert np.all(np.isfinite(actual)), f"{what}: the result has NaN or infinite values"
    assert np.allclose(actual, expected, rtol=rtol, atol=atol), f"{what}: wrong values"
