"""solutions.distributed on two CPU processes (gloo): replicas take the step one process takes,
samplers split the data, and `cnnbook train --nproc-per-node 2` trains LeNet on the digits."""

import json
import re

import pytest
import torch
from torch import nn
from torch.utils.data import DistributedSampler

from autograder.cli import main
from solutions import distributed
from tests.conftest import cnnbook


def small_network():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))


def batch(size=8):
    generator = torch.Generator().manual_seed(1)
    return torch.randn(size, 1, 8, 8, generator=generator), torch.randint(0, 3, (size,),
                                                                           generator=generator)


@pytest.fixture(scope="module")
def one_process_step():
    model = distributed.sgd_step(small_network(), batch(), lr=0.5)
    return [parameter.detach() for parameter in model.parameters()]


@pytest.mark.parametrize("wrap", [False, True], ids=["average_gradients", "DDP"])
def test_two_replicas_on_half_batches_take_the_full_batch_step(one_process_step, wrap):
    ranks = distributed.spawn(distributed.replica_step, 2, small_network(), batch(), 0.5, wrap)
    for mine, theirs, single in zip(*ranks, one_process_step):
        assert torch.equal(mine, theirs)  # every replica holds the same weights
        torch.testing.assert_close(mine, single, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(one_process_step[0], small_network()[0].weight)  # it moved


def test_statistics_over_all_replicas_are_those_of_the_whole_batch():
    x = torch.randn(4, 3, 5, 5, generator=torch.Generator().manual_seed(2)) * 3 + 1
    ranks = distributed.spawn(distributed.replica_batch_stats, 2, x)
    for (own_mean, _), (mean, var) in ranks:
        torch.testing.assert_close(mean, x.mean(dim=(0, 2, 3)))
        torch.testing.assert_close(var, x.var(dim=(0, 2, 3), unbiased=False))
    assert not torch.allclose(ranks[0][0][0], ranks[1][0][0])  # each replica's own differ


@pytest.mark.parametrize("size, world_size", [(12, 2), (12, 3), (10, 5)])
def test_samplers_give_each_example_to_exactly_one_replica_every_epoch(size, world_size):
    data = list(range(size))
    for epoch in range(3):
        shards = []
        for rank in range(world_size):
            sampler = DistributedSampler(data, num_replicas=world_size, rank=rank, seed=0)
            sampler.set_epoch(epoch)
            shards.append(list(sampler))
        assert sorted(sum(shards, [])) == data
    first = DistributedSampler(data, num_replicas=world_size, rank=0, seed=0)
    again = DistributedSampler(data, num_replicas=world_size, rank=0, seed=0)
    again.set_epoch(1)
    assert list(first) != list(again), "set_epoch reshuffles"


def test_an_uneven_split_repeats_examples_unless_they_are_dropped():
    data = list(range(10))
    padded = [list(DistributedSampler(data, 3, rank, shuffle=False)) for rank in range(3)]
    dropped = [list(DistributedSampler(data, 3, rank, shuffle=False, drop_last=True))
               for rank in range(3)]
    assert sum(map(len, padded)) == 12 and sum(map(len, dropped)) == 9


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    done = cnnbook("train", "--model", "lenet", "--data", "digits", "--epochs", 6,
                   "--device", "cpu", "--nproc-per-node", 2, "--out", out, timeout=600)
    return done, out


def test_two_processes_train_lenet_on_the_digits(run):
    done, out = run
    last = done.stdout.strip().splitlines()[-1]
    metrics = json.loads((out / "metrics.json").read_text())
    assert re.fullmatch(r"test_accuracy=[01]\.\d{3}", last), done.stdout + done.stderr
    assert last == f"test_accuracy={metrics['test_accuracy']:.3f}"
    assert metrics["processes"] == 2 and len(metrics["history"]) == 6
    assert metrics["test_accuracy"] >= 0.90
    assert done.stdout.count("epoch 6:") == 1, "rank 0 alone reports"


def test_rank_zero_alone_writes_one_checkpoint(run):
    _, out = run
    assert sorted(p.name for p in out.iterdir() if p.suffix in (".pt", ".tmp")) == [
        "checkpoint.pt"]
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert "0.weight" in state["model"], "the model's own names, not DDP's module.*"


@pytest.mark.parametrize("args, message", [
    (["--nproc-per-node", "0"], "--nproc-per-node must be at least 1"),
    (["--nproc-per-node", "2", "--model", "alexnet"], "unknown model 'alexnet'"),
] + ([] if torch.cuda.is_available() else [
    (["--nproc-per-node", "2", "--device", "cuda"], "'cuda' is not available")]))
def test_bad_setups_fail_before_any_process_starts(tmp_path, capsys, args, message):
    assert main(["train", *args, "--epochs", "1", "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
