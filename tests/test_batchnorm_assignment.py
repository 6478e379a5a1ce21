"""The batchnorm assignment graded end to end: honest, partial, the usual mistakes and cheating."""

import inspect

import pytest

import solutions.batchnorm
from tests.conftest import (NO_TORCH, PATCH_COMPARISONS, SWALLOW_ERRORS, feedback_pages,
                            hidden_failures)

ALL_ANSWERS = {"batch_norm": None, "batch_norm_backward": None, "fuse_conv_bn": None}


def variant(function, *replacements):
    """The reference function's source with each (old, new) replaced: one typical mistake."""
    source = inspect.getsource(function)
    for old, new in replacements:
        assert old in source, f"{function.__name__} no longer contains {old!r}"
        source = source.replace(old, new)
    return source


MISTAKES = {  # name -> (solution cell, wrong code), one mistake each
    "biased_running_var": ("batch_norm", variant(
        solutions.batchnorm.batch_norm, ("momentum * var * m / (m - 1)", "momentum * var"))),
    "momentum_on_the_old_value": ("batch_norm", variant(
        solutions.batchnorm.batch_norm,
        ("(1 - momentum) * running_mean + momentum * mean",
         "momentum * running_mean + (1 - momentum) * mean"),
        ("(1 - momentum) * running_var + momentum * var",
         "momentum * running_var + (1 - momentum) * var"))),
    "eps_outside_the_root": ("batch_norm", variant(
        solutions.batchnorm.batch_norm,
        ("np.sqrt(per_channel(var, input.ndim) + eps)",
         "(np.sqrt(per_channel(var, input.ndim)) + eps)"))),
    "batch_statistics_in_eval": ("batch_norm", variant(
        solutions.batchnorm.batch_norm, ("    if training:\n", "    if True:\n"))),
    "running_statistics_not_in_place": ("batch_norm", variant(
        solutions.batchnorm.batch_norm,
        ("running_mean[...] = ", "running_mean = "), ("running_var[...] = ", "running_var = "))),
    "torch_batch_norm": ("batch_norm", (
        "import torch\n"
        "def batch_norm(input, running_mean, running_var, weight=None, bias=None,\n"
        "               training=False, momentum=0.1, eps=1e-5):\n"
        "    t = lambda a: None if a is None else torch.from_numpy(np.asarray(a, dtype=float))\n"
        "    return torch.nn.functional.batch_norm(t(input), t(running_mean), t(running_var),\n"
        "        t(weight), t(bias), training, momentum, eps).numpy()\n")),
    "backward_without_the_statistics": ("batch_norm_backward", variant(
        solutions.batchnorm.batch_norm_backward,
        ("(g - g.mean(axis=axes, keepdims=True)\n"
         "                  - x_hat * (g * x_hat).mean(axis=axes, keepdims=True)) / std",
         "g / std"))),
    "backward_by_autograd": ("batch_norm_backward", (
        "import torch\n"
        "def batch_norm_backward(grad_output, input, weight=None, eps=1e-5):\n"
        "    x = torch.tensor(input, requires_grad=True)\n"
        "    c = x.shape[1]\n"
        "    w = torch.tensor(np.ones(c) if weight is None else weight, requires_grad=True)\n"
        "    b = torch.zeros(c, dtype=torch.float64, requires_grad=True)\n"
        "    axes = channel_axes(input)\n"
        "    x_hat = (x - x.mean(dim=axes, keepdim=True)) / torch.sqrt(\n"
        "        x.var(dim=axes, unbiased=False, keepdim=True) + eps)\n"
        "    shape = per_channel(np.ones(c), x.ndim).shape\n"
        "    (x_hat * w.reshape(shape) + b.reshape(shape)).backward(torch.tensor(grad_output))\n"
        "    return x.grad.numpy(), w.grad.numpy(), b.grad.numpy()\n")),
    "backward_of_any_shape": ("batch_norm_backward", variant(
        solutions.batchnorm.batch_norm_backward,
        ("if grad_output.shape != input.shape:", "if False:"))),
    "fuse_without_checks": ("fuse_conv_bn", variant(
        solutions.batchnorm.fuse_conv_bn, ("if conv_weight.ndim < 2:", "if False:"),
        ("if np.shape(value) != (c_out,):", "if False:"))),
    "fused_bias_without_the_mean": ("fuse_conv_bn", variant(
        solutions.batchnorm.fuse_conv_bn, ("(conv_bias - bn_mean) * scale", "conv_bias * scale"))),
}


BIASED_RUNNING_VAR = MISTAKES["biased_running_var"][1]
PATCH_TORCH = (  # PyTorch's batch_norm becomes the student's: the two always agree. (Named
    # plainly, the patch would cost batch_norm all its points: its source names the library's.)
    "import torch\n"
    "def same_as_mine(*args, **kwargs):\n"
    "    plain = [a.numpy() if isinstance(a, torch.Tensor) else a for a in args]\n"
    "    return torch.as_tensor(batch_norm(*plain, **kwargs))\n"
    "setattr(torch.nn.functional, 'batch' + '_norm', same_as_mine)\n")
CHEATS = {  # on top of biased_running_var's wrong batch_norm: they must gain nothing over it
    "patch_libraries": ("batch_norm", BIASED_RUNNING_VAR + PATCH_TORCH + PATCH_COMPARISONS),
    "swallow_errors": ("batch_norm", BIASED_RUNNING_VAR + SWALLOW_ERRORS),
}


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    """One batch, two workers: honest, blank, partial, mistaken and cheating submissions."""
    out = tmp_path_factory.mktemp("batchnorm")
    rows = course.grade("batchnorm", {
        "correct": ALL_ANSWERS,
        "blank": {},
        "partial": {"batch_norm": None},
        **{name: {**ALL_ANSWERS, cell: code}
           for name, (cell, code) in {**MISTAKES, **CHEATS}.items()},
    }, out)
    return rows, out / "grades"


@pytest.mark.parametrize("student, score", [
    ("correct", 10), ("blank", 0), ("partial", 6),
    ("biased_running_var", 8), ("momentum_on_the_old_value", 8),
    ("eps_outside_the_root", 6), ("batch_statistics_in_eval", 9),
    ("running_statistics_not_in_place", 8), ("torch_batch_norm", 4),
    ("backward_without_the_statistics", 8), ("backward_by_autograd", 8),
    ("fused_bias_without_the_mean", 8), ("backward_of_any_shape", 8),
    ("fuse_without_checks", 8), ("patch_libraries", 8), ("swallow_errors", 8),
])
def test_each_submission_gets_the_score_it_deserves(graded, student, score):
    rows, _ = graded
    row = rows[student]
    assert (float(row["score"]), float(row["max_score"]), row["status"]) == (score, 10, "graded")


def test_the_honest_answer_passes_every_test(graded):
    rows, _ = graded
    assert rows["correct"]["reason"] == "all tests passed"


RUNNING = ("batch_norm-running-hidden (batch_norm with the running statistics (in place, momentum "
           "on the new value, unbiased variance) after one step on a small batch (m = 3): ")


@pytest.mark.parametrize("student, failed", [
    ("blank", ["batch_norm-training-hidden (batch_norm with training=True and an (N, D) batch "
               "with weight and bias: raised NotImplementedError)"]),
    ("partial", ["fuse_conv_bn-hidden (fuse_conv_bn with a 3x3 convolution with bias: raised "
                 "NotImplementedError)"]),
    ("biased_running_var", [RUNNING + "argument 3 after the call: wrong values)"]),
    ("momentum_on_the_old_value", [RUNNING + "argument 2 after the call: wrong values)"]),
    ("running_statistics_not_in_place", [RUNNING + "argument 2 after the call: wrong values)"]),
    # Which case it fails first depends on the draw (eps = 1e-5 is within the tolerance of
    # some): the large eps is the trap, and it is never passed.
    ("eps_outside_the_root", ["batch_norm-training-hidden (batch_norm with training=True and "]),
    ("batch_statistics_in_eval", ["batch_norm-eval-hidden (batch_norm with training=False and an "
                                  "(N, D) batch (the running statistics must not change): wrong "
                                  "values)"]),
    ("backward_without_the_statistics", ["batch_norm_backward-hidden (batch_norm_backward with "
                                         "an (N, D) batch with weight: value 1 of 3: wrong "
                                         "values)"]),
    ("fused_bias_without_the_mean", ["fuse_conv_bn-hidden (fuse_conv_bn with a 3x3 convolution "
                                     "with bias: value 2 of 2: wrong values)"]),
    ("torch_batch_norm", ["batch_norm-training-hidden (the hidden tests of batch_norm " + NO_TORCH,
                          "batch_norm-running-hidden (the hidden tests of batch_norm " + NO_TORCH]),
    ("backward_by_autograd", ["batch_norm_backward-hidden (the hidden tests of "
                              "batch_norm_backward " + NO_TORCH]),
])
def test_reasons_name_the_failed_tests(graded, student, failed):
    rows, _ = graded
    for phrase in failed:
        assert phrase in rows[student]["reason"], rows[student]["reason"]


@pytest.mark.parametrize("student", CHEATS)
def test_tampering_with_the_kernel_gains_nothing(graded, student):
    """The hidden verdicts of the honest wrong answer: patches may only make visible tests pass."""
    rows, _ = graded  # scores come from hidden tests only: the same failures, the same score
    assert hidden_failures(rows[student]) == hidden_failures(rows["biased_running_var"])


def test_feedback_shows_verdicts_but_no_hidden_test(graded):
    _, out = graded
    pages = feedback_pages(out, ["correct", "blank", "biased_running_var", "torch_batch_norm"])
    for html in pages.values():
        assert "training_steps" not in html
    assert ("after one step on a small batch (m = 3): argument 3 after the call: wrong values"
            in pages["biased_running_var"])
