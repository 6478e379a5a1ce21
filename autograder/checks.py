"""Which library calls are the exercise itself, caught while a student's function runs.

An exercise such as "implement conv2d" is not done by calling ``torch.nn.functional.conv2d``.
``LIBRARY_OPERATIONS`` names, for each kind of operation, the library functions that do it;
``calls_library`` records any of them (and anything of the course's own ``solutions`` package)
that a block of code enters, through a profiler hook that sees Python and C calls alike.
"""

import contextlib
import fnmatch
import sys

#: kind of operation -> {module (with its submodules): fnmatch patterns of function names}.
LIBRARY_OPERATIONS = {
    "convolution": {"torch": ("conv*", "_convolution*"),
                    "scipy": ("correlate*", "convolve*", "fftconvolve*", "oaconvolve*")},
    "padding": {"torch": ("pad", "constant_pad_nd", "reflection_pad*", "replication_pad*"),
                "numpy": ("pad",)},
    "linear": {"torch": ("linear", "addmm", "bilinear")},
    "pooling": {"torch": ("max_pool*", "_max_pool*", "avg_pool*", "adaptive_*", "fractional_*",
                          "lp_pool*", "max_unpool*"),
                "scipy": ("maximum_filter*", "minimum_filter*", "uniform_filter*")},
    "batch norm": {"torch": ("*batch_norm*", "fuse_conv_bn*")},
    # A backward pass done for you: the exercise is to derive it.
    "autograd": {"torch": ("backward", "grad", "vjp", "jacobian", "jacrev", "jacfwd")},
    "softmax": {"torch": ("*softmax*",), "scipy": ("*softmax*",)},
    "attention": {"torch": ("*attention*",)},
    # Masked arrays do a masked mean or max in one call.
    "masked reduction": {"torch.masked": ("*",), "numpy.ma": ("*",)},
    "lr scheduler": {"torch.optim.lr_scheduler": ("*",)},
}


def _check_kinds(kinds):
    unknown = [kind for kind in kinds if kind not in LIBRARY_OPERATIONS]
    if unknown:
        raise KeyError(f"unknown kinds of library operation: {unknown}")


def library_operation(module, name, kinds, course="solutions"):
    """``module.name`` if that function does an operation of one of ``kinds`` (or is in
    ``course``: the course's own ``solutions`` package, or the part of it that is the exercise),
    else None."""
    if module == course or module.startswith(course + "."):
        return f"{module}.{name}"
    for kind in kinds:
        for library, patterns in LIBRARY_OPERATIONS[kind].items():
            if ((module == library or module.startswith(library + "."))
                    and any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)):
                return f"{module}.{name}"
    return None


def _entered(frame, event, arg):
    """(module, name) of the function a profile event enters, or None."""
    if event == "c_call":
        module = getattr(arg, "__module__", None) or type(getattr(arg, "__self__", None)).__module__
        return module or "", getattr(arg, "__name__", "")
    if event == "call":
        return frame.f_globals.get("__name__", "") or "", frame.f_code.co_name
    return None


def _importing(frame):
    """Whether ``frame`` runs as part of an import (a library loading itself is not a call)."""
    while frame is not None:
        if frame.f_globals.get("__name__") == "importlib._bootstrap":
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def calls_library(*kinds, course="solutions"):
    """Collect, in the yielded list, the first library operation of ``kinds`` (or function of
    ``course``, see ``library_operation``) the block calls.

    Raises KeyError for an unknown kind.
    """
    _check_kinds(kinds)
    caught = []

    def profile(frame, event, arg):
        entered = None if caught else _entered(frame, event, arg)
        if entered:
            name = library_operation(*entered, kinds, course)
            if name and not _importing(frame):
                caught.append(name)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield caught
    finally:
        sys.setprofile(previous)
