"""autograder.hidden: records of networks and tensors, and the grader's comparison of them."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from autograder.assignments.convolution import conv2d_cases
from autograder.hidden import (ERROR, LIBRARY, Case, HiddenTest, cases_for, compare, encode, judge,
                               reported, seeded, uses_forbidden)

TEST = HiddenTest("f", list)


def network():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def record(value, args=()):
    return json.loads(json.dumps(encode(value, args)))  # what travels from kernel to grader


def test_a_network_matches_its_own_record_and_a_tensor_its_numbers():
    assert compare(record(network()), encode(network()), TEST) is None
    assert compare(record(torch.ones(2, requires_grad=True)), encode([1.0, 1.0]), TEST) is None


@pytest.mark.parametrize("change, problem", [
    (lambda net: net.append(nn.ReLU()), "has a layer 3 too many"),
    (lambda net: net.__setitem__(1, nn.ReLU()), "layer 1 is a ReLU, expected a BatchNorm1d"),
    (lambda net: net[0].requires_grad_(False),
     "parameter 0.weight should be trainable (requires_grad=True)"),
    (lambda net: net.eval(), "the network should be in training mode"),
    (lambda net: net[1].eval(), "layer 1 should be in training mode"),
    (lambda net: net[1].running_mean.add_(1e-3), "1.running_mean: wrong values"),
    (lambda net: net.__setitem__(2, nn.Linear(4, 3)),
     "2.weight: wrong shape (3, 4), expected (2, 4)"),
])
def test_each_difference_of_networks_is_named(change, problem):
    changed = network()
    change(changed)
    assert compare(record(changed), encode(network()), TEST) == problem


def test_returning_the_network_given_differs_from_returning_a_new_one():
    given = network()
    assert record(given, (0, given)) == {"argument": 1}
    assert compare(record(network(), (given,)), {"argument": 0}, TEST).startswith(
        "should return its argument 1 itself")
    assert compare({"argument": 0}, encode(network()), TEST) == (
        "returned one of its arguments, not a new value")


def test_numbers_returned_are_values_even_when_they_are_an_argument():
    rate = 0.1
    assert encode(rate, (rate,)) == encode(0.1)


def test_seeded_calls_draw_the_same_numbers_and_leave_the_callers_generator_alone():
    torch.manual_seed(5)
    before = torch.get_rng_state()
    with seeded(3):
        first = torch.rand(2)
    with seeded(3):
        second = torch.rand(2)
    assert torch.equal(first, second) and torch.equal(torch.get_rng_state(), before)


def test_a_scheduler_module_and_the_forbidden_part_of_the_course_are_caught_in_the_source():
    assert uses_forbidden("torch.optim.lr_scheduler.StepLR(sgd, 3)", ("lr scheduler",)) == (
        "lr_scheduler")
    assert uses_forbidden("from solutions.transfer import fine_tune", (),
                          "solutions.transfer") == "transfer"
    assert uses_forbidden("from solutions.train import fit", (), "solutions.transfer") is None


def test_a_secret_seed_gives_cases_nobody_has_seen_and_the_same_traps(monkeypatch):
    public = conv2d_cases()
    monkeypatch.setenv("CNNBOOK_HIDDEN_SEED", "an instructor's secret")
    secret, again = conv2d_cases(), conv2d_cases()
    assert [c.description for c in secret] == [c.description for c in public]
    for mine, theirs, repeat in zip(secret, public, again):
        assert [np.shape(a) for a in mine.args] == [np.shape(a) for a in theirs.args]
        assert not np.array_equal(mine.args[0], theirs.args[0]), mine.description
        assert np.array_equal(mine.args[0], repeat.args[0])  # the kernel draws the same


def test_each_submission_draws_cases_of_its_own_and_the_same_ones_again():
    with cases_for("digest of one notebook"):
        first, again = conv2d_cases(), conv2d_cases()
    with cases_for("digest of another notebook"):
        other = conv2d_cases()
    for mine, repeat, theirs in zip(first, again, other):
        assert np.array_equal(mine.args[0], repeat.args[0])
        assert np.shape(mine.args[0]) == np.shape(theirs.args[0])
        assert not np.array_equal(mine.args[0], theirs.args[0]), mine.description


@pytest.mark.parametrize("text, pattern, shown", [
    ("ValueError", ERROR, "ValueError"),
    ("ModuleNotFoundError: No module named 'torch'", ERROR,
     "ModuleNotFoundError: No module named 'torch'"),
    ("Ж" * 40, ERROR, "an exception"),  # letters of any script would carry 17 bits each
    ("ValueError: the hidden input was [[1.5, 2.5]]", ERROR, "an exception"),
    ("torch.nn.functional.conv2d", LIBRARY, "torch.nn.functional.conv2d"),
    ("x" * 81, LIBRARY, "an exception"),
])
def test_only_names_are_shown_of_what_the_sandbox_reports(text, pattern, shown):
    assert reported(text, pattern, "an exception") == shown


@pytest.mark.parametrize("record", [
    {"argument": [1, 2]}, {"argument": 10**400}, {"shape": [2], "data": [10**400, 1]},
    {"items": "not a list"}, {"shape": "2", "data": None},
])
def test_a_forged_record_is_wrong_without_a_word_of_its_own(record):
    test = HiddenTest("f", lambda: [Case("a case", (1,))], lambda x: np.ones(2))
    message = judge(test, test.cases(), [{"value": record, "args": []}])
    assert message.startswith("f with a case: ") and not any(c.isdigit() for c in message[15:])
