"""solutions.transfer: loading local weights with clear errors, a new head, frozen features."""

import pytest
import torch
from torch import nn

from solutions import data, models, train, transfer

torch.set_num_threads(1)  # tiny networks: one thread is fastest, and the CPU is shared


def test_a_state_dict_file_is_loaded(tmp_path):
    torch.manual_seed(0)
    source = models.lenet()
    torch.save(source.state_dict(), tmp_path / "lenet.pt")
    target = transfer.load_pretrained(models.lenet(), tmp_path / "lenet.pt")
    assert all(torch.equal(a, b) for a, b in zip(source.state_dict().values(),
                                                 target.state_dict().values()))


def test_a_checkpoint_of_fit_is_loaded(tmp_path):
    splits = data.task(data.digits(size=12), [0, 1], per_class=10)
    train.seed_everything(0)
    net = models.lenet(num_classes=2, image_size=12)
    train.fit(net, splits, train.TrainConfig(epochs=1, progress=False, device="cpu"),
              checkpoint=tmp_path / "checkpoint.pt")
    loaded = transfer.load_pretrained(models.lenet(num_classes=2, image_size=12), tmp_path / "checkpoint.pt")
    assert torch.equal(loaded[0].weight, net[0].weight)


def test_a_different_head_is_named_with_both_shapes(tmp_path):
    torch.save(models.lenet(num_classes=10).state_dict(), tmp_path / "ten.pt")
    with pytest.raises(ValueError) as error:
        transfer.load_pretrained(models.lenet(num_classes=5), tmp_path / "ten.pt")
    message = str(error.value)
    assert "ten.pt does not fit this model" in message
    assert "11.weight: file has (10, 84), model has (5, 84)" in message
    assert "11.bias: file has (10,), model has (5,)" in message
    assert "0.weight" not in message, "only the parameters that differ are listed"


def test_colour_weights_do_not_fit_a_grey_network(tmp_path):
    torch.save(models.lenet(in_channels=3, image_size=32).state_dict(), tmp_path / "cifar.pt")
    with pytest.raises(ValueError, match=r"0.weight: file has \(6, 3, 5, 5\), model has \(6, 1, 5, 5\)"):
        transfer.load_pretrained(models.lenet(), tmp_path / "cifar.pt")


def test_another_architecture_lists_missing_and_unknown_names(tmp_path):
    torch.save(models.lenet().state_dict(), tmp_path / "lenet.pt")
    with pytest.raises(ValueError) as error:
        transfer.load_pretrained(models.lenet5(), tmp_path / "lenet.pt")
    assert "4.index: missing from the file" in str(error.value)
    assert "3.weight: not in the model" in str(error.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no weights file .*nothing.pt"):
        transfer.load_pretrained(models.lenet(), tmp_path / "nothing.pt")


def test_replace_head_keeps_the_features():
    net = models.lenet()
    features = net[0]
    transfer.replace_head(net, 3)
    assert net[0] is features
    assert isinstance(net[-1], nn.Linear) and (net[-1].in_features, net[-1].out_features) == (84, 3)
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 3)
    with pytest.raises(ValueError, match="last layer must be nn.Linear"):
        transfer.replace_head(nn.Sequential(nn.Linear(2, 2), nn.ReLU()), 3)


def test_freeze_features_leaves_only_the_head_trainable():
    net = transfer.freeze_features(models.lenet())
    assert models.count_parameters(net, trainable_only=True) == 84 * 10 + 10
    assert all(p.requires_grad for p in net[-1].parameters())


def test_training_a_frozen_network_changes_only_its_head():
    splits = data.task(data.digits(size=12), [3, 8], per_class=20)
    train.seed_everything(0)
    net = transfer.freeze_features(models.lenet(num_classes=2, image_size=12))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    train.fit(net, splits, train.TrainConfig(epochs=2, progress=False, device="cpu"))
    after = net.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"11.weight", "11.bias"}


def test_task_keeps_some_classes_relabelled_and_few_training_images():
    digits = data.digits()
    target = data.task(digits, [5, 6, 7], per_class=4, seed=1)
    assert target.classes == ("5", "6", "7")
    assert sorted(target.train.tensors[1].tolist()) == [0] * 4 + [1] * 4 + [2] * 4
    test_labels = digits.test.tensors[1]
    assert len(target.test) == int(((test_labels >= 5) & (test_labels <= 7)).sum())
    sevens = digits.test.tensors[0][test_labels == 7]
    assert torch.equal(target.test.tensors[0][target.test.tensors[1] == 2], sevens)
    again = data.task(digits, [5, 6, 7], per_class=4, seed=1)
    assert torch.equal(again.train.tensors[0], target.train.tensors[0])
