"""The multichannel assignment graded end to end: honest, partial, wrong and cheating answers."""

import pytest

from tests.conftest import NO_TORCH, SWALLOW_ERRORS, feedback_pages, hidden_failures

ALL_ANSWERS = {"corr2d": None, "corr2d_multi_in": None, "corr2d_multi_in_out": None,
               "layer": None}
LAYER = ("weight_shape = {weight}\nnum_params = {params}\n"
         "output_shape = (8, 64, 32, 32)\n")

WRONG = {  # typical wrong answers: name -> (cell, code)
    "channels_not_summed": ("corr2d_multi_in", (
        "def corr2d_multi_in(X, K):\n"
        "    return np.stack([corr2d(x, k) for x, k in zip(X, K)])\n")),
    "channels_averaged": ("corr2d_multi_in", (
        "def corr2d_multi_in(X, K):\n"
        "    return np.mean([corr2d(x, k) for x, k in zip(X, K)], axis=0)\n")),
    "channels_last": ("corr2d_multi_in_out", (
        "def corr2d_multi_in_out(X, K):\n"
        "    return np.stack([corr2d_multi_in(X, k) for k in K], axis=-1)\n")),
    "torch": ("corr2d_multi_in_out", (
        "import torch\n"
        "def corr2d_multi_in_out(X, K):\n"
        "    t = lambda a: torch.tensor(np.asarray(a, dtype=float))\n"
        "    return torch.nn.functional.conv2d(t(X)[None], t(K))[0].numpy()\n")),
    "bias_forgotten": ("layer", LAYER.format(weight=(64, 3, 3, 3), params=64 * 3 * 3 * 3)),
    "in_and_out_swapped": ("layer", LAYER.format(weight=(3, 64, 3, 3), params=1792)),
}
AVERAGED = WRONG["channels_averaged"][1]
CHEATS = {  # cheats on top of channels_averaged's wrong answer: they must gain nothing over it
    "patch_libraries": ("corr2d_multi_in", AVERAGED + (  # PyTorch's conv2d becomes the student's
        "import torch\n"
        "torch.nn.functional.conv2d = lambda input, weight, *args: torch.as_tensor(\n"
        "    corr2d_multi_in(input[0].numpy(), weight[0].numpy()))[None, None]\n"
        "np.allclose = lambda *args, **kwargs: True\n")),
    "swallow_errors": ("corr2d_multi_in", AVERAGED + SWALLOW_ERRORS),
}


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("multichannel")
    rows = course.grade("multichannel", {
        "correct": ALL_ANSWERS,
        "blank": {},
        "corr2d_only": {"corr2d": None},
        **{name: {**ALL_ANSWERS, cell: code}
           for name, (cell, code) in {**WRONG, **CHEATS}.items()},
    }, out)
    return rows, out / "grades"


@pytest.mark.parametrize("student, score", [
    ("correct", 10), ("blank", 0), ("corr2d_only", 1),
    # corr2d_multi_in_out is built on corr2d_multi_in, so it fails with it
    ("channels_not_summed", 4), ("channels_averaged", 4),
    ("channels_last", 7), ("torch", 7), ("bias_forgotten", 7), ("in_and_out_swapped", 7),
    ("patch_libraries", 4), ("swallow_errors", 4),
])
def test_each_submission_gets_the_score_it_deserves(graded, student, score):
    rows, _ = graded
    assert (float(rows[student]["score"]), float(rows[student]["max_score"]),
            rows[student]["status"]) == (score, 10, "graded")


@pytest.mark.parametrize("student, failed", [
    ("correct", ["all tests passed"]),
    ("corr2d_only", ["corr2d_multi_in-hidden (corr2d_multi_in with three input channels: raised "
                     "NotImplementedError)"]),
    ("channels_not_summed", ["corr2d_multi_in-hidden (corr2d_multi_in with three input channels: "
                             "wrong shape (3, 3, 5), expected (3, 5))"]),
    ("channels_averaged", ["corr2d_multi_in-hidden (corr2d_multi_in with three input channels: "
                           "wrong values)",
                           "corr2d_multi_in_out-hidden (corr2d_multi_in_out with more output than "
                           "input channels: wrong values)"]),
    ("channels_last", ["corr2d_multi_in_out-hidden (corr2d_multi_in_out with more output than "
                       "input channels: wrong shape (3, 3, 4), expected (4, 3, 3))"]),
    ("torch", ["corr2d_multi_in_out-hidden (the hidden tests of corr2d_multi_in_out " + NO_TORCH]),
    ("bias_forgotten", ["layer-hidden (layer with the answers (weight_shape, num_params, "
                        "output_shape): value 2 of 3: wrong values)"]),
    ("in_and_out_swapped", ["layer-hidden (layer with the answers (weight_shape, num_params, "
                            "output_shape): value 1 of 3: value 1 of 4: wrong values)"]),
])
def test_reasons_name_the_failed_tests(graded, student, failed):
    reason = graded[0][student]["reason"]
    for phrase in failed:
        assert phrase in reason


@pytest.mark.parametrize("student", CHEATS)
def test_tampering_with_the_kernel_gains_nothing(graded, student):
    rows, _ = graded
    assert hidden_failures(rows[student]) == hidden_failures(rows["channels_averaged"])


def test_feedback_shows_verdicts_but_no_hidden_test(graded):
    _, out = graded
    pages = feedback_pages(out, ["correct", "channels_not_summed", "bias_forgotten"])
    for html in pages.values():
        assert "torch.nn.Conv2d(3, 64" not in html
