"""Checks that the assignments' test cells use: readable verdicts, no peeking at the library.

Messages never print the hidden inputs, so a failing hidden test tells a student what is wrong
("wrong values", "wrong shape") without handing them the test case.
"""

import contextlib
import fnmatch
import sys

import numpy as np

#: Library functions that *are* an exercise, by kind: a module (with its submodules) -> fnmatch
#: patterns of function names. A student's function that calls one earns no credit for it.
LIBRARY_OPERATIONS = {
    "convolution": {"torch": ("conv*", "_convolution*"),
                    "scipy": ("correlate*", "convolve*", "fftconvolve*", "oaconvolve*")},
    "batch norm": {"torch": ("*batch_norm*", "fuse_conv_bn*")},
    # A backward pass done for you: the exercise is to derive it.
    "autograd": {"torch": ("backward", "grad", "vjp", "jacobian", "jacrev", "jacfwd")},
    "softmax": {"torch": ("*softmax*",), "scipy": ("*softmax*",)},
    "attention": {"torch": ("*attention*",)},
    # Masked arrays do a masked mean or max in one call.
    "masked reduction": {"torch.masked": ("*",), "numpy.ma": ("*",)},
}


def _library_operation(frame, event, arg, kinds):
    """Name of the library operation of one of ``kinds`` entered by this profile event, or None."""
    if event == "c_call":
        module, name = getattr(arg, "__module__", None) or "", getattr(arg, "__name__", "")
        self_type = type(getattr(arg, "__self__", None))
        module = module or getattr(self_type, "__module__", "")
    elif event == "call":
        module, name = frame.f_globals.get("__name__", ""), frame.f_code.co_name
    else:
        return None
    for kind in kinds:
        for library, patterns in LIBRARY_OPERATIONS[kind].items():
            if ((module == library or module.startswith(library + "."))
                    and any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)):
                return f"{module}.{name}"
    return None


def _importing(frame):
    """Whether ``frame`` runs as part of an import (a library loading itself is not a call)."""
    while frame is not None:
        if frame.f_globals.get("__name__") == "importlib._bootstrap":
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def no_library_call(exercise, *kinds):
    """Fail the enclosed call if it reaches a library operation of one of ``kinds``.

    kinds: keys of ``LIBRARY_OPERATIONS``, e.g. ``no_library_call("batch_norm", "batch norm")``.
    Raises KeyError for an unknown kind.
    """
    unknown = [kind for kind in kinds if kind not in LIBRARY_OPERATIONS]
    if unknown:
        raise KeyError(f"unknown kinds of library operation: {unknown}")
    caught = []

    def profile(frame, event, arg):
        if caught:
            return
        name = _library_operation(frame, event, arg, kinds)
        if name and not _importing(frame):
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
