"""The training assignment graded end to end: honest, partial and the usual wrong answers."""

import inspect

import pytest

import solutions.train
from tests.conftest import hidden_failures

ALL_ANSWERS = {"train_epoch": None, "evaluate": None, "cosine_annealing_lr": None}

TRAIN_EPOCH = inspect.getsource(solutions.train.train_epoch)
EVALUATE = inspect.getsource(solutions.train.evaluate)

WRONG = {  # name -> (answers replacing the correct ones, the score they deserve)
    "no_zero_grad": ({"train_epoch": TRAIN_EPOCH.replace("        optimizer.zero_grad()\n", "")}, 6),
    "mean_of_batch_means": ({"train_epoch": (
        "def train_epoch(model, batches, optimizer, autocast=contextlib.nullcontext):\n"
        "    model.train()\n"
        "    losses, correct, seen = [], 0, 0\n"
        "    for images, labels in batches:\n"
        "        logits = model(images)\n"
        "        loss = F.cross_entropy(logits, labels)\n"
        "        optimizer.zero_grad()\n"
        "        loss.backward()\n"
        "        optimizer.step()\n"
        "        losses.append(loss.item())\n"
        "        correct += (logits.argmax(dim=1) == labels).sum().item()\n"
        "        seen += len(labels)\n"
        "    return sum(losses) / len(losses), correct / seen\n")}, 6),
    "calls_the_course": ({"train_epoch": (
        "from solutions.train import train_epoch as course_train_epoch\n"
        "def train_epoch(model, batches, optimizer, autocast=contextlib.nullcontext):\n"
        "    return course_train_epoch(model, batches, optimizer, autocast)\n")}, 6),
    "no_eval_mode": ({"evaluate": EVALUATE.replace("    model.eval()\n", "")}, 7),
    "records_gradients": ({"evaluate": EVALUATE.replace("with torch.no_grad(), autocast():",
                                                         "with autocast():")}, 7),
    "cosine_without_floor": ({"cosine_annealing_lr": (
        "def cosine_annealing_lr(t, lr0, T_max, eta_min=0.0):\n"
        "    _check_step(t, T_max)\n"
        "    return lr0 * (1 + math.cos(math.pi * t / T_max)) / 2\n")}, 7),
    "cosine_from_torch": ({"cosine_annealing_lr": (
        "def cosine_annealing_lr(t, lr0, T_max, eta_min=0.0):\n"
        "    _check_step(t, T_max)\n"
        "    sgd = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)\n"
        "    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(sgd, T_max, eta_min)\n"
        "    for _ in range(t):\n"
        "        sgd.step()\n"
        "        schedule.step()\n"
        "    return sgd.param_groups[0]['lr']\n")}, 7),
    # Cheats that defeated in-kernel asserts: they must gain nothing over the honest mistake.
    "no_zero_grad_patching_torch": ({"train_epoch": TRAIN_EPOCH.replace(
        "        optimizer.zero_grad()\n", "") + (
        "torch.allclose = lambda *args, **kwargs: True\n"
        "torch.equal = lambda *args, **kwargs: True\n"
        "get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)\n")}, 6),
    "gradients_replacing_the_grader": ({"evaluate": EVALUATE.replace(
        "with torch.no_grad(), autocast():", "with autocast():") + (
        "get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)\n"
        "import autograder.hidden\n"
        "autograder.hidden.compare = autograder.hidden.judge = lambda *args, **kwargs: None\n")},
        7),
}


def test_the_wrong_answers_really_change_the_code():
    for name, (answers, _) in WRONG.items():
        for grade_id, code in answers.items():
            reference = {"train_epoch": TRAIN_EPOCH, "evaluate": EVALUATE}.get(grade_id)
            assert code != reference, name


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("training")
    return course.grade("training", {
        "correct": ALL_ANSWERS,
        "partial": {"cosine_annealing_lr": None},
        **{name: {**ALL_ANSWERS, **answers} for name, (answers, _) in WRONG.items()},
    }, out)


@pytest.mark.parametrize("student, score", [("correct", 10), ("partial", 3)]
                         + [(name, score) for name, (_, score) in WRONG.items()])
def test_each_submission_gets_the_score_it_deserves(graded, student, score):
    row = graded[student]
    assert (row["status"], float(row["score"]), float(row["max_score"])) == ("graded", score, 10), row


def test_reasons_name_the_behaviour_that_is_wrong(graded):
    assert "clear the gradients" in graded["no_zero_grad"]["reason"]
    assert "in proportion to its size" in graded["mean_of_batch_means"]["reason"]
    assert "No module named 'solutions'" in graded["calls_the_course"]["reason"]
    assert "must switch to evaluation mode" in graded["no_eval_mode"]["reason"]
    assert "gradients_recorded: wrong values" in graded["records_gradients"]["reason"]
    assert "with a floor eta_min: wrong values" in graded["cosine_without_floor"]["reason"]
    assert "calls the library's torch.optim.lr_scheduler" in graded["cosine_from_torch"]["reason"]


@pytest.mark.parametrize("cheat, honest", [("no_zero_grad_patching_torch", "no_zero_grad"),
                                           ("gradients_replacing_the_grader",
                                            "records_gradients")])
def test_cheats_fail_the_hidden_tests_the_honest_mistake_fails(graded, cheat, honest):
    assert hidden_failures(graded[cheat]) == hidden_failures(graded[honest])
