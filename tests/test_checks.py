"""autograder.checks: hidden tests give no credit to a solution calling the library's operation."""

import re
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import scipy.special

from autograder.checks import calls_library
from solutions import conv2d, max_pool2d

X = torch.randn(1, 1, 6, 6, requires_grad=True)


def caught(kinds, call):
    """The library operation ``call()`` is caught calling under ``calls_library(*kinds)``."""
    with calls_library(*kinds) as found:
        call()
    return found[0] if found else None

W = torch.randn(1, 1, 3, 3)


def scipy_function(module, name):
    """A stand-in for SciPy's ``module.name`` (SciPy is not a dependency): same module and name."""
    namespace = {"__name__": module}
    exec(f"def {name}(*args, **kwargs):\n    return None", namespace)
    return namespace[name]

CALLS = {  # operation -> calls that do it with a library
    "convolution": [lambda: F.conv2d(X, W), lambda: torch.nn.Conv2d(1, 1, 3)(X),
                    lambda: torch.conv2d(X, W),
                    scipy_function("scipy.signal._signaltools", "correlate2d"),
                    scipy_function("scipy.ndimage._filters", "convolve")],
    "pooling": [lambda: F.max_pool2d(X, 2), lambda: F.max_pool2d(X, 2, return_indices=True),
                lambda: F.avg_pool2d(X, 2), lambda: torch.nn.MaxPool2d(2)(X),
                lambda: torch.max_pool2d(X, 2), lambda: F.adaptive_avg_pool2d(X, 1),
                lambda: F.lp_pool2d(X, 2, 2),
                scipy_function("scipy.ndimage._filters", "maximum_filter"),
                scipy_function("scipy.ndimage._filters", "uniform_filter")],
    "autograd": [lambda: (X ** 2).sum().backward(),
                 lambda: torch.autograd.grad((X ** 2).sum(), X)],
}


@pytest.mark.parametrize("operation, call", [(op, call) for op, calls in CALLS.items()
                                             for call in calls])
def test_a_library_call_of_the_operation_is_caught(operation, call):
    assert caught([operation], call)


@pytest.mark.parametrize("operation, call", [("pooling", CALLS["convolution"][0]),
                                             ("convolution", CALLS["pooling"][0]),
                                             ("pooling", CALLS["autograd"][0])])
def test_other_library_operations_are_allowed(operation, call):
    assert caught([operation], call) is None


def test_own_numpy_code_passes_and_gets_its_result_through():
    def max_pool_2x2(x):  # a student's own code: reshapes and NumPy reductions
        n, c, h, w = x.shape
        return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))

    x = np.random.default_rng(0).normal(size=(1, 2, 6, 6))
    with calls_library("pooling", "autograd") as found:
        y = max_pool_2x2(x)
    assert found == [] and y.shape == (1, 2, 3, 3)


def test_the_course_reference_code_is_never_an_answer():
    x = np.random.default_rng(0).normal(size=(1, 2, 6, 6))
    assert caught(["pooling"], lambda: max_pool2d(x, 2)).startswith("solutions.pooling")
    assert caught([], lambda: conv2d(x, np.ones((1, 2, 3, 3)))).startswith(
        "solutions.convolution")


def test_the_torch_function_caught_is_named():
    assert re.fullmatch(r"torch\.\w*conv\w*", caught(["convolution"], lambda: F.conv2d(X, W)))


def test_several_operations_are_forbidden_at_once():
    for call in (CALLS["pooling"][0], CALLS["autograd"][0]):
        assert caught(["pooling", "autograd"], call)


def test_the_profiler_is_restored_even_when_the_call_fails():
    def keep(frame, event, arg):
        return None

    sys.setprofile(keep)
    try:
        with pytest.raises(ZeroDivisionError):
            with calls_library("pooling"):
                1 / 0
        assert sys.getprofile() is keep
    finally:
        sys.setprofile(None)


@pytest.mark.parametrize("operations", [("pool",), ("pooling", "batchnorm")])
def test_an_unknown_operation_is_an_error(operations):
    with pytest.raises(KeyError, match="unknown kinds of library operation"):
        with calls_library(*operations):
            pass


x = np.ones((1, 1, 4, 4))
PADDING_AND_LINEAR = {  # name -> (the kind it must be caught by, a call of the library's operation)
    "F.pad": ("padding", lambda: F.pad(torch.tensor(x), (1, 1, 1, 1))),
    "F.pad reflect": ("padding", lambda: F.pad(torch.tensor(x), (1, 1, 1, 1), mode="reflect")),
    "np.pad": ("padding", lambda: np.pad(x, 1)),
    "F.linear": ("linear", lambda: F.linear(torch.ones(2, 3), torch.ones(4, 3))),
    "nn.Linear": ("linear", lambda: torch.nn.Linear(3, 4)(torch.ones(2, 3))),
    "torch.addmm": ("linear", lambda: torch.addmm(torch.ones(4), torch.ones(2, 3),
                                                  torch.ones(3, 4))),
}


@pytest.mark.parametrize("cheat", PADDING_AND_LINEAR)
def test_padding_and_linear_from_the_library_are_caught(cheat):
    kind, call = PADDING_AND_LINEAR[cheat]
    assert caught([kind], call)


def test_a_matrix_product_is_not_the_linear_layer_of_the_library():
    assert caught(["linear"], lambda: np.ones((2, 3)) @ np.ones((3, 4))) is None


XN = np.random.default_rng(0).normal(size=(2, 3, 5, 5))
T = torch.tensor(XN)


@pytest.mark.parametrize("kinds, call", [
    (["batch norm"], lambda: F.batch_norm(T, None, None, training=True)),
    (["batch norm"], lambda: torch.batch_norm(T, None, None, None, None, True, 0.1, 1e-5, False)),
    (["batch norm"], lambda: torch.nn.BatchNorm2d(3, dtype=torch.float64)(T)),
    (["autograd"], lambda: (T.clone().requires_grad_() ** 2).sum().backward()),
    (["autograd"], lambda: torch.autograd.grad((T.clone().requires_grad_()).sum(),
                                               T.clone().requires_grad_(), allow_unused=True)),
    (["softmax"], lambda: F.softmax(T, -1)),
    (["softmax"], lambda: T.softmax(-1)),
    (["softmax"], lambda: torch.softmax(T, -1)),
    (["softmax"], lambda: scipy.special.softmax(XN, -1)),
    (["attention"], lambda: F.scaled_dot_product_attention(T, T, T)),
    (["masked reduction"], lambda: np.ma.masked_array(XN, XN > 0).mean(axis=1)),
    (["masked reduction"], lambda: torch.masked.amax(T, 1, mask=T > 0)),
    (["convolution", "batch norm"], lambda: F.batch_norm(T, None, None, training=True)),
])
def test_calls_library_catches_the_operations_of_its_kinds(kinds, call):
    assert caught(kinds, call)


def test_the_library_function_is_named():
    assert caught(["batch norm"], lambda: F.batch_norm(T, None, None, None, None, True)) == (
        "torch.nn.functional.batch_norm")


@pytest.mark.parametrize("kinds, call", [
    (["softmax"], lambda: torch.exp(T) / torch.exp(T).sum(-1, keepdim=True)),  # by hand: fine
    (["batch norm"], lambda: F.softmax(T, -1)),  # another kind's operation
])
def test_calls_library_lets_other_code_through(kinds, call):
    assert caught(kinds, call) is None


def test_a_library_importing_itself_is_not_a_call(tmp_path, monkeypatch):
    """Lazy imports (numpy.ma, say) run library code; only the student's own calls count."""
    (tmp_path / "softmax_at_import.py").write_text(
        "import torch\n"
        "TABLE = torch.softmax(torch.zeros(3), 0)\n"
        "def use():\n"
        "    return torch.softmax(torch.zeros(3), 0)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert caught(["softmax"], lambda: __import__("softmax_at_import")) is None
    import softmax_at_import

    assert "torch.softmax" in caught(["softmax"], softmax_at_import.use)
