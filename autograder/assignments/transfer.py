"""Hidden cases of the transfer assignment, judged in the grader's process.

replace_head and freeze_features are compared with the course's reference on the grader's own
copies of the same networks (new heads drawn from the same seed). fine_tune has no reference
value: the grader loads the weights it recorded into its own copy of the network and measures
the accuracy on the target task itself.
"""

import copy
from functools import cache

import numpy as np
import torch
from torch import nn

from autograder.hidden import Case, HiddenTest, decode
from solutions import data, models, transfer
from solutions.train import TrainConfig, fit, test_report

#: The answers may use PyTorch and the course's data, models and training loop, not its
#: ``solutions.transfer`` (which the notebook's cells include from where they need it).
IMPORTS = ("numpy", "torch", "scikit-learn", "tqdm", "solutions")
WITHHOLD = ("transfer",)
SIZE = 12  # small images keep the recorded networks small; the layers are the same


def replace_head_cases():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(2)
        networks = {
            "LeNet": models.lenet(image_size=SIZE),
            "a small VGG whose head has 128 inputs": models.vgg(image_size=SIZE),
            "the classic LeNet-5": models.lenet5(image_size=SIZE),
        }
    return [Case(f"{name} (keep every layer but the last, replace the head, don't add one)",
                 (network, 7), check_args=(0,)) for name, network in networks.items()] + [
        Case("a last layer that is not nn.Linear (must raise ValueError)",
             (nn.Sequential(nn.Linear(3, 3), nn.ReLU()), 2), raises=ValueError)]


def freeze_features_cases():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        networks = {
            "LeNet": models.lenet(image_size=SIZE),
            "a small ResNet with batch norm": models.resnet(widths=(8, 16)),
            "a network whose head was frozen before": models.vgg(image_size=SIZE),
        }
    networks["a network whose head was frozen before"].requires_grad_(False)
    return [Case(name, (network,), check_args=(0,)) for name, network in networks.items()]


@cache
def tasks():
    """The source task (digits 0-4) and the target task (5-9, 20 training images of each)."""
    digits, _ = data.standardize(data.digits())
    return data.task(digits, range(5)), data.task(digits, range(5, 10), per_class=20)


def fine_tune_cases():
    """The network pretrained on the source task, with a new head, frozen: as the notebook's."""
    source, target = tasks()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        network = models.lenet(num_classes=5)
        fit(network, source, TrainConfig(epochs=6, progress=False))
        transfer.freeze_features(transfer.replace_head(network, 5))
    return [Case("the pretrained network, a new head and frozen features, on the target task",
                 (network, target), check_args=(0,))]


def fine_tuned(test, case, outcome):
    """None if the network fine_tune left trains everywhere, changed its features and reaches
    85 % test accuracy on the target task (measured here), else what is wrong."""
    record = (outcome.get("args") or [{}])[0].get("module")
    if not isinstance(record, dict) or not isinstance(record.get("trainable"), dict):
        return "no record of the network it trained"
    if not record["trainable"] or not all(record["trainable"].values()):
        return "fine_tune must unfreeze every parameter"
    network, target = copy.deepcopy(case.args)
    first_kernels = network[0].weight.detach().clone()
    try:
        network.load_state_dict({name: torch.as_tensor(decode(record["state"][name]),
                                                       dtype=tensor.dtype)
                                 for name, tensor in network.state_dict().items()})
    except (KeyError, TypeError, ValueError, RuntimeError):
        return "the network it trained has other layers than the one it was given"
    if np.allclose(network[0].weight.detach(), first_kernels, atol=1e-4):
        return "fine_tune left the features unchanged: it must train every layer"
    accuracy = test_report(network, target)["test_accuracy"]
    if accuracy < 0.85:
        return (f"the fine-tuned network reaches {accuracy:.3f} test accuracy on the target "
                "task, below 0.85")
    return None


HIDDEN = {
    "replace_head-hidden": HiddenTest("replace_head", replace_head_cases, transfer.replace_head,
                                      seed=0),
    "freeze_features-hidden": HiddenTest("freeze_features", freeze_features_cases,
                                         transfer.freeze_features),
    "fine_tune-hidden": HiddenTest("fine_tune", fine_tune_cases, course="solutions.transfer",
                                   seed=1, check=fine_tuned),
}
