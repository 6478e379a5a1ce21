"""Checks that the assignments' test cells use: readable verdicts, no peeking at the library.

Messages never print the hidden inputs, so a failing hidden test tells a student what is wrong
("wrong values", "wrong shape") without handing them the test case.
"""

import contextlib
import sys

import numpy as np

#: Library functions that *are* an exercise: top-level module -> prefixes of their names.
#: Calling one earns no credit.
CONVOLUTION = {"torch": ("conv", "_convolution"),
               "scipy": ("correlate", "convolve", "fftconvolve", "oaconvolve")}
PADDING = {"torch": ("pad", "constant_pad_nd", "reflection_pad", "replication_pad"),
           "numpy": ("pad",)}
LINEAR = {"torch": ("linear", "addmm")}


def _called_function(frame, event, arg):
    """(module, name) of the Python or C function this profile event enters, or None."""
    if event == "c_call":
        module, name = getattr(arg, "__module__", None) or "", getattr(arg, "__name__", "")
        self_type = type(getattr(arg, "__self__", None))
        return module or getattr(self_type, "__module__", ""), name
    if event == "call":
        return frame.f_globals.get("__name__", ""), frame.f_code.co_name
    return None


@contextlib.contextmanager
def no_library_call(exercise, operations):
    """Fail the enclosed call if it reaches one of ``operations`` (module -> name prefixes)."""
    caught = []

    def profile(frame, event, arg):
        called = _called_function(frame, event, arg)
        if called and not caught:
            module, name = called
            if name.startswith(operations.get(module.split(".")[0], ())):
                caught.append(f"{module}.{name}")

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
    return no_library_call(exercise, CONVOLUTION)


def assert_matches(actual, expected, what, rtol=1e-5, atol=1e-6):
    """Assert an array equals the expected one in shape and values, with a short message."""
    expected = np.asarray(expected, dtype=float)
    assert actual is not None, f"{what}: the function returned None"
    actual = np.asarray(actual, dtype=float)
    assert actual.shape == expected.shape, (
        f"{what}: wrong shape {actual.shape}, expected {expected.shape}")
    assert np.all(np.isfinite(actual)), f"{what}: the result has NaN or infinite values"
    assert np.allclose(actual, expected, rtol=rtol, atol=atol), f"{what}: wrong values"
