"""solutions.train on the CPU with tiny data: the loop's pieces, reproducibility and resuming."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import TensorDataset

from solutions import data, models, train
from solutions.train import TrainConfig

torch.set_num_threads(1)  # tiny networks: one thread is fastest, and the CPU is shared


@pytest.fixture(scope="module")
def tiny():
    """240 training digits at 12x12, 60 for validation and test: a second per epoch at most."""
    splits = data.digits(size=12)
    cut = lambda d, n: TensorDataset(*(t[:n] for t in d.tensors))  # noqa: E731
    return data.Splits(cut(splits.train, 240), cut(splits.val, 60), cut(splits.test, 60),
                       splits.classes)


def small_vgg():
    return models.vgg(image_size=12, widths=(4, 8))


def quiet(**options):
    return TrainConfig(progress=False, device="cpu", **options)


def test_auto_picks_the_cpu_when_there_is_no_accelerator():
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert train.select_device("auto").type == expected
    assert train.select_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_a_missing_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="device 'cuda' is not available on this machine"):
        train.select_device("cuda")


def test_unknown_device_and_bad_config_are_rejected():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        train.select_device("tpu")
    with pytest.raises(ValueError, match="unknown schedule 'exp'"):
        TrainConfig(schedule="exp")
    with pytest.raises(ValueError, match="optimizer must be"):
        TrainConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="epochs and batch_size must be >= 1"):
        TrainConfig(epochs=0)


def test_seeding_repeats_the_initial_weights():
    train.seed_everything(3)
    a = models.lenet()
    train.seed_everything(3)
    b = models.lenet()
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))


def test_batches_cover_the_data_once_shuffled_or_in_order(tiny):
    cpu = torch.device("cpu")
    ordered = [y for _, y in train.batches(tiny.val, 16, cpu)]
    assert [len(y) for y in ordered] == [16, 16, 16, 12]
    assert torch.equal(torch.cat(ordered), tiny.val.tensors[1])
    shuffled = torch.cat([y for _, y in train.batches(tiny.val, 16, cpu, torch.Generator().manual_seed(0))])
    assert sorted(shuffled.tolist()) == sorted(tiny.val.tensors[1].tolist())
    assert not torch.equal(shuffled, tiny.val.tensors[1])
    flipped = next(train.batches(tiny.val, 4, cpu, transform=lambda x: x.flip(3)))[0]
    assert torch.equal(flipped, tiny.val.tensors[0][:4].flip(3))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=40))
def test_confusion_matrix_matches_scikit_learn(extra, pairs):
    from sklearn.metrics import confusion_matrix

    labels, predictions = map(list, zip(*pairs))
    classes = 6 + extra
    ours = train.confusion_matrix(torch.tensor(labels), torch.tensor(predictions), classes)
    np.testing.assert_array_equal(ours.numpy(), confusion_matrix(labels, predictions, labels=range(classes)))


def test_confusion_matrix_rows_are_true_classes():
    matrix = train.confusion_matrix(torch.tensor([0, 0, 1]), torch.tensor([1, 1, 1]), 2)
    assert matrix.tolist() == [[0, 2], [0, 1]]
    with pytest.raises(ValueError, match="differ in shape"):
        train.confusion_matrix(torch.tensor([0, 1]), torch.tensor([0]), 2)


def test_train_epoch_learns_and_reports_what_it_saw(tiny):
    torch.manual_seed(0)
    net = models.lenet(image_size=12)
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    cpu = torch.device("cpu")
    before = train.evaluate(net, train.batches(tiny.train, 64, cpu))
    losses = [train.train_epoch(net, train.batches(tiny.train, 32, cpu), optimizer)[0] for _ in range(4)]
    after = train.evaluate(net, train.batches(tiny.train, 64, cpu))
    assert losses[-1] < losses[0] and after[0] < before[0] and after[1] > before[1]


def test_train_epoch_returns_the_mean_loss_and_accuracy_of_its_batches():
    net = nn.Linear(2, 2)
    with torch.no_grad():
        net.weight.copy_(torch.eye(2))
        net.bias.zero_()
    x, y = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), torch.tensor([0, 0, 1])
    optimizer = torch.optim.SGD(net.parameters(), lr=0.0)
    loss, accuracy = train.train_epoch(net, [(x[:2], y[:2]), (x[2:], y[2:])], optimizer)
    assert loss == pytest.approx(nn.functional.cross_entropy(net(x), y).item())
    assert accuracy == pytest.approx(1 / 3)


def test_evaluate_turns_dropout_off_and_uses_running_statistics():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), nn.Linear(8, 3))
    x, y = torch.randn(16, 1, 2, 2), torch.randint(0, 3, (16,))
    net.train()
    net(x * 3 + 1)  # moves the running statistics away from the batch's own
    running = net[2].running_mean.clone()
    results = [train.evaluate(net, [(x, y)]) for _ in range(3)]
    assert results[0] == results[1] == results[2] and not net.training
    assert torch.equal(net[2].running_mean, running), "evaluation must not update running stats"
    with torch.no_grad():
        expected = nn.functional.cross_entropy(net.eval()(x), y).item()
    assert results[0][0] == pytest.approx(expected)


def test_make_optimizer_skips_frozen_parameters():
    net = models.lenet()
    for p in net[:4].parameters():
        p.requires_grad_(False)
    optimizer = train.make_optimizer(quiet(optimizer="sgd", lr=0.1), net.parameters())
    assert sum(p.numel() for p in optimizer.param_groups[0]["params"]) == \
        models.count_parameters(net, trainable_only=True)
    assert optimizer.param_groups[0]["momentum"] == 0.9
    for p in net.parameters():
        p.requires_grad_(False)
    with pytest.raises(ValueError, match="every parameter is frozen"):
        train.make_optimizer(quiet(), net.parameters())


def test_fit_records_each_epoch_and_follows_the_schedule(tiny):
    train.seed_everything(0)
    history = train.fit(models.lenet(image_size=12), tiny, quiet(epochs=3, schedule="step", lr=0.01))
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert [h["lr"] for h in history] == pytest.approx([0.01, 0.001, 0.0001])
    assert set(history[0]) == {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
                               "lr", "seconds", "images_per_second"}


def run(tiny, checkpoint, resume=False, model_seed=0):
    """Train the small VGG (dropout, augmentation) for 3 epochs; return weights and history."""
    train.seed_everything(model_seed)
    net = small_vgg()
    config = quiet(epochs=3, crop_padding=1, flip=True, schedule="cosine", seed=0)
    history = train.fit(net, tiny, config, checkpoint=checkpoint, resume=resume)
    return net.state_dict(), history


def deterministic(history):
    return [{k: v for k, v in h.items() if k not in ("seconds", "images_per_second")} for h in history]


def test_resuming_from_a_checkpoint_gives_the_uninterrupted_result(tiny, tmp_path, monkeypatch):
    weights, history = run(tiny, tmp_path / "straight.pt")

    real_epoch, calls = train.train_epoch, []

    def interrupted(*args, **kwargs):
        if len(calls) == 2:
            raise KeyboardInterrupt  # the user stops training during the third epoch
        calls.append(1)
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(train, "train_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(tiny, tmp_path / "stopped.pt")
    monkeypatch.setattr(train, "train_epoch", real_epoch)
    torch.manual_seed(123)  # the new process's generators are somewhere else entirely
    resumed_weights, resumed = run(tiny, tmp_path / "stopped.pt", resume=True, model_seed=99)

    assert deterministic(resumed) == deterministic(history)
    assert resumed_weights.keys() == weights.keys()
    for name in weights:
        assert torch.equal(resumed_weights[name], weights[name]), name


def test_resuming_a_finished_run_trains_no_more(tiny, tmp_path):
    weights, history = run(tiny, tmp_path / "done.pt")
    again, history_again = run(tiny, tmp_path / "done.pt", resume=True, model_seed=5)
    assert history_again == history
    assert all(torch.equal(again[k], weights[k]) for k in weights)


def test_test_report_has_accuracy_and_confusion(tiny):
    train.seed_everything(0)
    net = models.lenet(image_size=12)
    train.fit(net, tiny, quiet(epochs=1))
    report = train.test_report(net, tiny)
    matrix = np.array(report["confusion_matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == len(tiny.test)
    assert report["test_accuracy"] == pytest.approx(np.trace(matrix) / matrix.sum())
