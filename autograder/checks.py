"""Checks that the assignments' test cells use: readable verdicts, no peeking at the library.

Messages never print the hidden inputs, so a failing hidden test tells a student what is wrong
("wrong values", "wrong shape") without handing them the test case.
"""

import contextlib
import sys

import numpy as np

#: Names of library functions that *are* the exercise; calling one earns no credit.
LIBRARY_OPERATIONS = {
    "torch": ("conv", "convolution"),
    "scipy": ("correlate", "convolve", "fftconvolve", "oaconvolve"),
}


def _library_operation(frame, event, arg):
    """Name of the library convolution being entered by this profile event, or None."""
    if event == "c_call":
        module, name = getattr(arg, "__module__", None) or "", getattr(arg, "__name__", "")
        self_type = type(getattr(arg, "__self__", None))
        module = module or getattr(self_type, "__module__", "")
    elif event == "call":
        module, name = frame.f_globals.get("__name__", ""), frame.f_code.co_name
    else:
        return None
    root = module.split(".")[0]
    if root == "torch" and (name in ("convolution", "_convolution") or name.startswith("conv")):
        return f"{module}.{name}"
    if root == "scipy" and name.startswith(LIBRARY_OPERATIONS["scipy"]):
        return f"{module}.{name}"
    return None


@contextlib.contextmanager
def no_library_convolution(exercise):
    """Fail the enclosed call if it reaches PyTorch's or SciPy's convolution."""
    caught = []

    def profile(frame, event, arg):
        name = _library_operation(frame, event, arg)
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


def assert_matches(actual, expected, what, rtol=1e-5, atol=1e-6):
    """Assert an array equals the expected one in shape and values, with a short message."""
    expected = np.asarray(expected, dtype=float)
    assert actual is not None, f"{what}: the function returned None"
    actual = np.asarray(actual, dtype=float)
    assert actual.shape == expected.shape, (
        f"{what}: wrong shape {actual.shape}, expected {expected.shape}")
    assert np.all(np.isfinite(actual)), f"{what}: the result has NaN or infinite values"
    assert np.allclose(actual, expected, rtol=rtol, atol=atol), f"{what}: wrong values"


@contextlib.contextmanager
def no_calls_to(exercise, *modules):
    """Fail the enclosed call if it runs Python code of ``modules`` (e.g. "solutions",
    "torch.optim.lr_scheduler"): the course's own answer or the library's, instead of the
    student's."""
    caught = []

    def profile(frame, event, arg):
        if event == "call" and not caught:
            module = frame.f_globals.get("__name__", "")
            if any(module == m or module.startswith(m + ".") for m in modules):
                caught.append(f"{module}.{frame.f_code.co_name}")

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)
    assert not caught, f"{exercise} calls {caught[0]}: implement it yourself, no credit otherwise"
