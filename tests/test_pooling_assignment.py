"""The pooling assignment graded end to end: honest, partial, wrong and cheating answers."""

import inspect

import pytest

import solutions.pooling
from tests.conftest import NO_TORCH, SWALLOW_ERRORS, feedback_pages, hidden_failures

ANSWERS = {"questions": None, "max_pool2d": None, "avg_pool2d": None, "max_pool2d_backward": None}


def reference(name, *replacements):
    """The reference function's source with each (old, new) replaced: a plausible wrong answer."""
    source = inspect.getsource(getattr(solutions.pooling, name))
    for old, new in replacements:
        assert old in source, f"{old!r} is not in {name}"
        source = source.replace(old, new)
    return source


def own_loops(padding_value):
    """max_pool2d written from scratch: pad, then slice every window."""
    return (
        "def max_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False):\n"
        "    input, (k_h, k_w), (s_h, s_w), (p_h, p_w), (o_h, o_w) = check_pool2d_args(\n"
        "        input, kernel_size, stride, padding, ceil_mode)\n"
        "    X = np.pad(input, ((0, 0), (0, 0), (p_h, p_h), (p_w, p_w)),\n"
        f"               constant_values={padding_value})\n"
        "    Y = np.empty(input.shape[:2] + (o_h, o_w))\n"
        "    for i in range(o_h):\n"
        "        for j in range(o_w):\n"
        "            window = X[:, :, i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w]\n"
        "            Y[:, :, i, j] = window.max(axis=(2, 3))\n"
        "    return Y\n")


ROUNDED_QUESTIONS = ("q_height = 16\nq_channels = 16\nq_parameters = 0\nq_ceil_width = 3\n"
                     "q_corner = 0.444\nq_gradient = 4.0\n")
WRONG_QUESTIONS = ("q_height = 31\nq_channels = 1\nq_parameters = 9\nq_ceil_width = 2\n"
                   "q_corner = 1.0\nq_gradient = 1\n")
TORCH_MAX_POOL = (
    "import torch\n"
    "def max_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False):\n"
    "    X = torch.tensor(np.asarray(input, dtype=float))\n"
    "    return torch.nn.functional.max_pool2d(X, kernel_size, stride, padding,\n"
    "                                          ceil_mode=ceil_mode).numpy()\n")
AUTOGRAD_BACKWARD = (
    "import torch\n"
    "def max_pool2d_backward(grad_output, input, kernel_size, stride=None, padding=0,\n"
    "                        ceil_mode=False):\n"
    "    X = torch.tensor(np.asarray(input, dtype=float), requires_grad=True)\n"
    "    Y = torch.nn.functional.max_pool2d(X, kernel_size, stride, padding, ceil_mode=ceil_mode)\n"
    "    Y.backward(torch.tensor(np.asarray(grad_output, dtype=float)))\n"
    "    return X.grad.numpy()\n")
PATCH_LIBRARIES = (  # PyTorch's max_pool2d becomes the student's, and every comparison passes
    "import torch\n"
    "torch.nn.functional.max_pool2d = lambda input, *args, **kwargs: torch.as_tensor(\n"
    "    max_pool2d(input.numpy(), *args, **kwargs))\n"
    "np.allclose = lambda *args, **kwargs: True\n"
    "np.testing.assert_allclose = lambda *args, **kwargs: None\n")

STUDENTS = {  # name -> (answers, the score they deserve out of 20)
    "correct": (ANSWERS, 20),
    "blank": ({}, 0),
    "partial": ({"questions": None, "max_pool2d": None}, 10),
    "own_way": ({**ANSWERS, "questions": ROUNDED_QUESTIONS,
                 "max_pool2d": own_loops("-np.inf")}, 20),
    "wrong_questions": ({**ANSWERS, "questions": WRONG_QUESTIONS}, 14),
    "zero_padding": ({**ANSWERS, "max_pool2d": own_loops(0)}, 16),
    "mixes_channels": ({**ANSWERS, "max_pool2d": reference(
        "max_pool2d", (".max(axis=(2, 3))", ".max(axis=(1, 2, 3))[:, None]"))}, 16),
    "stride_one": ({**ANSWERS, "max_pool2d": reference(
        "max_pool2d", ("kernel_size, stride, padding", "kernel_size, stride or 1, padding"))}, 16),
    "no_count_include_pad": ({**ANSWERS, "avg_pool2d": reference(
        "avg_pool2d", ("area if count_include_pad else window", "window"))}, 16),
    "avg_divides_by_the_kernel_area": ({**ANSWERS, "avg_pool2d": reference(
        "avg_pool2d", ("count = area if", "count = kernel[0] * kernel[1] if"))}, 16),
    "nan_never_wins": ({**ANSWERS, "max_pool2d": reference(
        "max_pool2d", ("input[:, :, rows, cols].max(axis=(2, 3))",
                       "np.nanmax(input[:, :, rows, cols], axis=(2, 3))"))}, 16),
    "nan_rule_ignored": ({**ANSWERS, "max_pool2d_backward": reference(
        "max_pool2d_backward", ("np.where(nan.any(axis=2), last_nan, flat.argmax(axis=2))",
                                "flat.argmax(axis=2)"))}, 14),
    "overwrite": ({**ANSWERS, "max_pool2d_backward": reference(
        "max_pool2d_backward", ("[:, :, rows, cols] += (", "[:, :, rows, cols] = ("))}, 14),
    "all_ties": ({**ANSWERS, "max_pool2d_backward": reference(
        "max_pool2d_backward", ("np.arange(flat.shape[2]) == winner[:, :, None]",
                                "flat == flat.max(axis=2, keepdims=True)"))}, 14),
    "library": ({**ANSWERS, "max_pool2d": TORCH_MAX_POOL,
                 "max_pool2d_backward": AUTOGRAD_BACKWARD}, 10),
    # Cheats on top of zero_padding's wrong max_pool2d: they must gain nothing over it.
    "patch_libraries": ({**ANSWERS, "max_pool2d": own_loops(0) + PATCH_LIBRARIES}, 16),
    "swallow_errors": ({**ANSWERS, "max_pool2d": own_loops(0) + SWALLOW_ERRORS}, 16),
}


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    """One batch, two workers: every submission of STUDENTS."""
    out = tmp_path_factory.mktemp("pooling")
    rows = course.grade("pooling", {name: answers for name, (answers, _) in STUDENTS.items()}, out)
    return rows, out / "grades"


@pytest.mark.parametrize("student", STUDENTS)
def test_each_submission_gets_the_score_it_deserves(graded, student):
    rows, _ = graded
    row = rows[student]
    assert (row["status"], float(row["max_score"])) == ("graded", 20)
    assert float(row["score"]) == STUDENTS[student][1], row["reason"]


@pytest.mark.parametrize("student, failed", [
    ("wrong_questions", ["q_height-hidden (questions with the answer q_height (which stride does "
                         "a pooling layer use by default?): wrong values)",
                         "q_channels-hidden (questions with the answer q_channels",
                         "q_parameters-hidden (questions with the answer q_parameters"]),
    ("blank", ["q_height-hidden (questions with the answer q_height (which stride does a pooling "
               "layer use by default?): raised NameError)"]),
    ("partial", ["avg_pool2d-hidden (avg_pool2d with several images and channels, the default "
                 "stride: raised NotImplementedError)"]),
    ("zero_padding", ["max_pool2d-hidden (max_pool2d with a (height, width) window, stride and "
                      "padding: wrong values)"]),
    ("mixes_channels", ["max_pool2d-hidden (max_pool2d with several images and channels, the "
                        "default stride: wrong values)"]),
    ("stride_one", ["max_pool2d-hidden (max_pool2d with several images and channels, the default "
                    "stride: wrong shape (2, 3, 5, 6), expected (2, 3, 3, 3))"]),
    ("no_count_include_pad", ["avg_pool2d-hidden (avg_pool2d with padding counted in the average "
                              "(the default): wrong values)"]),
    ("overwrite", ["max_pool2d_backward-hidden (max_pool2d_backward with overlapping windows "
                   "(their gradients must add up): wrong values)"]),
    ("all_ties", ["max_pool2d_backward-hidden (max_pool2d_backward with tied maxima (the first in "
                  "row-major order wins): wrong values)"]),
])
def test_reasons_name_the_failed_tests(graded, student, failed):
    reason = graded[0][student]["reason"]
    for phrase in failed:
        assert phrase in reason


def test_the_library_does_not_exist_for_the_hidden_tests_and_the_reason_says_so(graded):
    reason = graded[0]["library"]["reason"]
    assert "max_pool2d-hidden (the hidden tests of max_pool2d " + NO_TORCH in reason
    assert "max_pool2d_backward-hidden (the hidden tests of max_pool2d_backward " + NO_TORCH in reason


@pytest.mark.parametrize("student", ["patch_libraries", "swallow_errors"])
def test_tampering_with_the_kernel_gains_nothing(graded, student):
    rows, _ = graded
    assert hidden_failures(rows[student]) == hidden_failures(rows["zero_padding"])


def test_feedback_describes_failures_without_showing_hidden_tests(graded):
    _, out = graded
    pages = feedback_pages(out, ["zero_padding", "overwrite", "wrong_questions"])
    for html in pages.values():
        assert "requires_grad" not in html
    assert "Hidden tests failed: max_pool2d with a (height, width) window" in pages["zero_padding"]
    assert ("max_pool2d_backward with overlapping windows (their gradients must add up): "
            "wrong values") in pages["overwrite"]
