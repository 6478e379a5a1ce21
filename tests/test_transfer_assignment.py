"""The transfer assignment graded end to end: honest, partial and the usual wrong answers."""

import inspect

import pytest

import solutions.transfer
from tests.conftest import hidden_failures

ALL_ANSWERS = {"replace_head": None, "freeze_features": None, "fine_tune": None}
FINE_TUNE = inspect.getsource(solutions.transfer.fine_tune)

WRONG = {  # name -> (answers replacing the correct ones, the score they deserve)
    "head_with_84_inputs": ({"replace_head": (
        "def replace_head(model, num_classes):\n"
        "    model[-1] = nn.Linear(84, num_classes)\n"
        "    return model\n")}, 7),
    "head_added_on_top": ({"replace_head": (
        "def replace_head(model, num_classes):\n"
        "    if not isinstance(model[-1], nn.Linear):\n"
        "        raise ValueError('the last layer must be nn.Linear')\n"
        "    model.append(nn.Linear(model[-1].out_features, num_classes))\n"
        "    return model\n")}, 7),
    "freezes_everything": ({"freeze_features": (
        "def freeze_features(model):\n"
        "    for p in model.parameters():\n"
        "        p.requires_grad_(False)\n"
        "    return model\n")}, 7),
    "eval_instead_of_freezing": ({"freeze_features": (
        "def freeze_features(model):\n"
        "    model[:-1].eval()\n"
        "    return model\n")}, 7),
    "fine_tunes_only_the_head": ({"fine_tune": (
        "def fine_tune(model, splits, epochs=30, lr=2e-3, seed=0):\n"
        "    return fit(model, splits, TrainConfig(epochs=epochs, lr=lr, seed=seed, progress=False))\n")}, 6),
    "learning_rate_far_too_large": ({"fine_tune": FINE_TUNE.replace("lr=2e-3", "lr=0.5")}, 6),
    # Cheats that defeated in-kernel asserts: they must gain nothing over the honest mistake.
    "fakes_the_accuracy": ({"fine_tune": FINE_TUNE.replace("lr=2e-3", "lr=0.5") + (
        "test_report = lambda *args, **kwargs: {'test_accuracy': 1.0}\n"
        "get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)\n")}, 6),
    "fakes_the_frozen_flags": ({"freeze_features": (
        "def freeze_features(model):\n"
        "    model[:-1].eval()\n"
        "    return model\n"
        "torch.nn.Parameter.requires_grad = property(lambda self: self is not None)\n"
        "import autograder.hidden\n"
        "autograder.hidden.judge = lambda *args, **kwargs: None\n")}, 7),
}


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("transfer")
    return course.grade("transfer", {
        "correct": ALL_ANSWERS,
        "partial": {"replace_head": None},
        **{name: {**ALL_ANSWERS, **answers} for name, (answers, _) in WRONG.items()},
    }, out)


@pytest.mark.parametrize("student, score", [("correct", 10), ("partial", 3)]
                         + [(name, score) for name, (_, score) in WRONG.items()])
def test_each_submission_gets_the_score_it_deserves(graded, student, score):
    row = graded[student]
    assert (row["status"], float(row["score"]), float(row["max_score"])) == ("graded", score, 10), row


def test_reasons_name_the_behaviour_that_is_wrong(graded):
    assert ("6.weight: wrong shape (7, 84), expected (7, 128)"
            in graded["head_with_84_inputs"]["reason"])
    assert "has a layer 12 too many" in graded["head_added_on_top"]["reason"]
    assert "11.weight should be trainable" in graded["freezes_everything"]["reason"]
    assert "0.weight should be frozen" in graded["eval_instead_of_freezing"]["reason"]
    assert "unfreeze every parameter" in graded["fine_tunes_only_the_head"]["reason"]
    assert "below 0.85" in graded["learning_rate_far_too_large"]["reason"]


@pytest.mark.parametrize("cheat, honest", [("fakes_the_accuracy", "learning_rate_far_too_large"),
                                           ("fakes_the_frozen_flags", "eval_instead_of_freezing")])
def test_cheats_fail_the_hidden_tests_the_honest_mistake_fails(graded, cheat, honest):
    assert hidden_failures(graded[cheat]) == hidden_failures(graded[honest])
