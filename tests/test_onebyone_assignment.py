"""The 1x1 convolution assignment graded end to end: honest, partial, wrong and cheating answers."""

import inspect

import pytest

from tests.conftest import NO_TORCH, SWALLOW_ERRORS, feedback_pages, hidden_failures

import solutions.onebyone

ALL_ANSWERS = {"linear": None, "conv1x1": None, "counts": None}
LINEAR = inspect.getsource(solutions.onebyone.linear)
CONV1X1 = inspect.getsource(solutions.onebyone.conv1x1)

WRONG = {  # typical wrong answers: name -> (cell, code)
    "linear_without_transpose": ("linear", LINEAR.replace("input @ weight.T", "input @ weight")),
    "linear_bias_forgotten": ("linear", LINEAR.replace("output = output + bias", "pass")),
    "linear_torch": ("linear", (
        "import torch\n"
        "def linear(input, weight, bias=None):\n"
        "    t = lambda a: None if a is None else torch.tensor(np.asarray(a, dtype=float))\n"
        "    return torch.nn.functional.linear(t(input), t(weight), t(bias)).numpy()\n")),
    "conv1x1_reshape_only": ("conv1x1", (  # reshapes (N, c_i, H, W) without moving the channels
        "def conv1x1(input, weight, bias=None):\n"
        "    n, c_i, h, w = input.shape\n"
        "    Y = linear(input.reshape(n, h, w, c_i), weight[:, :, 0, 0], bias)\n"
        "    return Y.reshape(n, -1, h, w)\n")),
    "conv1x1_bias_forgotten": ("conv1x1", CONV1X1.replace(
        "weight[:, :, 0, 0], bias)", "weight[:, :, 0, 0])")),
    "bias_per_channel_pair": ("counts", (  # c_i * c_o biases, a mistake of the source notes
        "reduce_params = 64 * 256 + 64 * 256\n"
        "direct_params = 256 * 256 * 3 * 3 + 256\n"
        "bottleneck_params = 70016\n")),
}
NO_BIAS = WRONG["linear_bias_forgotten"][1]
CHEATS = {  # cheats on top of linear_bias_forgotten's wrong linear: they must gain nothing over it
    "patch_libraries": ("linear", NO_BIAS + (  # PyTorch's linear becomes the student's
        "import torch\n"
        "torch.nn.functional.linear = lambda input, weight, bias=None: torch.as_tensor(\n"
        "    linear(input.numpy(), weight.numpy()))\n"
        "np.allclose = lambda *args, **kwargs: True\n")),
    "swallow_errors": ("linear", NO_BIAS + SWALLOW_ERRORS),
}


def test_wrong_answers_are_edits_of_the_solution_that_took():
    assert all(code not in (LINEAR, CONV1X1) for _, code in WRONG.values())


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("onebyone")
    rows = course.grade("onebyone", {
        "correct": ALL_ANSWERS,
        "blank": {},
        "linear_only": {"linear": None},
        **{name: {**ALL_ANSWERS, cell: code}
           for name, (cell, code) in {**WRONG, **CHEATS}.items()},
    }, out)
    return rows, out / "grades"


@pytest.mark.parametrize("student, score", [
    ("correct", 10), ("blank", 0), ("linear_only", 4),
    # conv1x1 is graded with a correct linear: a wrong linear costs its own 4 points only
    ("linear_without_transpose", 6), ("linear_bias_forgotten", 6), ("linear_torch", 6),
    ("conv1x1_reshape_only", 6), ("conv1x1_bias_forgotten", 6), ("bias_per_channel_pair", 8),
    ("patch_libraries", 6), ("swallow_errors", 6),
])
def test_each_submission_gets_the_score_it_deserves(graded, student, score):
    rows, _ = graded
    assert (float(rows[student]["score"]), float(rows[student]["max_score"]),
            rows[student]["status"]) == (score, 10, "graded")


@pytest.mark.parametrize("student, failed", [
    ("correct", ["all tests passed"]),
    ("linear_only", ["conv1x1-hidden (conv1x1 with a batch of non-square images, with bias: "
                     "raised NotImplementedError)"]),
    ("linear_without_transpose", ["linear-hidden (linear with a batch of vectors, with bias: "
                                  "raised ValueError)"]),
    ("linear_bias_forgotten", ["linear-hidden (linear with a batch of vectors, with bias: "
                               "wrong values)"]),
    ("linear_torch", ["linear-hidden (the hidden tests of linear " + NO_TORCH]),
    ("conv1x1_reshape_only", ["conv1x1-hidden (conv1x1 with a batch of non-square images, with "
                              "bias: wrong values)"]),
    ("conv1x1_bias_forgotten", ["conv1x1-hidden (conv1x1 with a batch of non-square images, with "
                                "bias: wrong values)"]),
    ("bias_per_channel_pair", ["counts-hidden (counts with the answers (reduce_params, "
                               "direct_params, bottleneck_params): value 1 of 3: wrong values)"]),
])
def test_reasons_name_the_failed_tests(graded, student, failed):
    reason = graded[0][student]["reason"]
    for phrase in failed:
        assert phrase in reason


@pytest.mark.parametrize("student", CHEATS)
def test_tampering_with_the_kernel_gains_nothing(graded, student):
    rows, _ = graded
    assert hidden_failures(rows[student]) == hidden_failures(rows["linear_bias_forgotten"])


def test_feedback_shows_verdicts_but_no_hidden_test(graded):
    _, out = graded
    pages = feedback_pages(out, ["correct", "linear_bias_forgotten", "conv1x1_reshape_only"])
    for html in pages.values():
        assert "student_linear" not in html
