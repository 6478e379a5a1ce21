"""autograder.checks: the guard against calling the library operation an exercise implements."""

import sys

import numpy as np
import pytest
import scipy.signal
import scipy.special
import torch
import torch.nn.functional as F

import solutions
from autograder.checks import LIBRARY_OPERATIONS, no_library_call, no_library_convolution

X = np.random.default_rng(0).normal(size=(2, 3, 5, 5))
T = torch.tensor(X)


def caught(kinds, call):
    """The assertion message when ``call()`` runs under ``no_library_call(..., *kinds)``."""
    with pytest.raises(AssertionError, match="no credit otherwise") as error:
        with no_library_call("the exercise", *kinds):
            call()
    return str(error.value)


@pytest.mark.parametrize("call", [
    lambda: F.conv2d(T, T[:1, :, :3, :3]),
    lambda: torch.conv2d(T, T[:1, :, :3, :3]),
    lambda: torch.nn.Conv2d(3, 1, 3, dtype=torch.float64)(T),
    lambda: scipy.signal.correlate2d(X[0, 0], X[0, 0, :2, :2]),
    lambda: scipy.signal.fftconvolve(X[0, 0], X[0, 0]),
])
def test_no_library_convolution_catches_every_way_to_call_a_convolution(call):
    with pytest.raises(AssertionError, match="conv2d calls the library's .*no credit otherwise"):
        with no_library_convolution("conv2d"):
            call()


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
    (["softmax"], lambda: scipy.special.softmax(X, -1)),
    (["attention"], lambda: F.scaled_dot_product_attention(T, T, T)),
    (["masked reduction"], lambda: np.ma.masked_array(X, X > 0).mean(axis=1)),
    (["masked reduction"], lambda: torch.masked.amax(T, 1, mask=T > 0)),
    (["convolution", "batch norm"], lambda: F.batch_norm(T, None, None, training=True)),
])
def test_no_library_call_catches_the_operations_of_its_kinds(kinds, call):
    assert "the exercise calls the library's" in caught(kinds, call)


def test_the_message_names_the_library_function():
    assert "torch.nn.functional.batch_norm" in caught(["batch norm"],
                                                      lambda: F.batch_norm(T, None, None, None,
                                                                           None, True))


@pytest.mark.parametrize("kinds, call", [
    (["convolution"], lambda: solutions.conv2d(X, X[:1, :, :3, :3])),
    (["batch norm", "autograd"], lambda: solutions.batch_norm_backward(X, X)),
    (["softmax", "attention", "masked reduction"],
     lambda: solutions.scaled_dot_product_attention(X, X, X, key_padding_mask=X[:, 0, 0] > 0)),
    (["masked reduction"], lambda: solutions.masked_max(X, X > 0, 1)),
    (["softmax"], lambda: torch.exp(T) / torch.exp(T).sum(-1, keepdim=True)),  # by hand: fine
    (["batch norm"], lambda: F.softmax(T, -1)),  # another kind's operation
])
def test_no_library_call_lets_other_code_through(kinds, call):
    with no_library_call("the exercise", *kinds):
        call()


def test_the_previous_profiler_is_restored_even_after_a_failure():
    def mine(frame, event, arg):
        return None

    sys.setprofile(mine)
    try:
        with pytest.raises(AssertionError):
            with no_library_call("softmax", "softmax"):
                F.softmax(T, -1)
        assert sys.getprofile() is mine
    finally:
        sys.setprofile(None)


def test_an_unknown_kind_is_an_error_not_a_silent_pass():
    assert "sorting" not in LIBRARY_OPERATIONS
    with pytest.raises(KeyError, match="unknown kinds of library operation"):
        with no_library_call("sort", "sorting"):
            pass


def test_a_library_importing_itself_is_not_a_call(tmp_path, monkeypatch):
    """Lazy imports (numpy.ma, say) run library code; only the student's own calls count."""
    (tmp_path / "softmax_at_import.py").write_text(
        "import torch\n"
        "TABLE = torch.softmax(torch.zeros(3), 0)\n"
        "def use():\n"
        "    return torch.softmax(torch.zeros(3), 0)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with no_library_call("the exercise", "softmax"):
        import softmax_at_import
    assert "torch.softmax" in caught(["softmax"], softmax_at_import.use)
