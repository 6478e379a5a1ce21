"""`cnnbook train` end to end: one epoch of LeNet on the digits, and on tiny MNIST files."""

import json
import re

import pytest
import torch
from matplotlib.image import imread

from autograder.cli import main
from tests.conftest import cnnbook
from tests.test_data import write_mnist


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    done = cnnbook("train", "--model", "lenet", "--data", "digits", "--epochs", 1,
                   "--device", "cpu", "--out", out)
    return done, out


def test_the_last_line_is_the_test_accuracy(run):
    done, out = run
    last = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"test_accuracy=[01]\.\d{3}", last), last
    metrics = json.loads((out / "metrics.json").read_text())
    assert last == f"test_accuracy={metrics['test_accuracy']:.3f}"
    assert "epoch 1: loss" in done.stdout
    assert "epoch 1/1" in done.stderr, "a progress bar on stderr"


def test_metrics_describe_the_run(run):
    _, out = run
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["model"], metrics["data"], metrics["device"]) == ("lenet", "digits", "cpu")
    assert metrics["parameters"] == 61706 and len(metrics["history"]) == 1
    assert sum(map(sum, metrics["confusion_matrix"])) == 269
    assert metrics["test_accuracy"] > 0.5, "one epoch already learns most digits"


def test_the_checkpoint_holds_the_trained_weights(run):
    _, out = run
    state = torch.load(out / "checkpoint.pt", weights_only=False)
    assert state["model"]["0.weight"].shape == (6, 1, 5, 5)
    assert state["config"]["epochs"] == 1 and len(state["history"]) == 1


@pytest.mark.parametrize("name", ["curves", "filters", "feature_maps", "confusion"])
def test_plots_are_written(run, name):
    _, out = run
    image = imread(out / f"{name}.png")
    assert image.shape[0] > 100 and image.shape[1] > 300 and image.std() > 0.05


def test_mnist_from_a_data_folder(tmp_path):
    write_mnist(tmp_path, n_train=40, n_test=10, compress=True)
    done = cnnbook("train", "--data", "mnist", "--data-dir", tmp_path, "--epochs", 1,
                   "--device", "cpu", "--out", tmp_path / "run")
    assert done.stdout.strip().splitlines()[-1].startswith("test_accuracy=")
    assert sum(map(sum, json.loads((tmp_path / "run" / "metrics.json").read_text())
                   ["confusion_matrix"])) == 10


@pytest.mark.parametrize("args, message", [
    (["--data", "mnist", "--data-dir", "nowhere"], "missing nowhere/train-images-idx3-ubyte"),
    (["--data", "cifar10"], "pass data_dir"),
    (["--model", "alexnet"], "unknown model 'alexnet'"),
] + ([] if torch.cuda.is_available() else [(["--device", "cuda"], "'cuda' is not available")]))
def test_mistakes_are_reported_clearly(tmp_path, capsys, args, message):
    assert main(["train", *args, "--epochs", "1", "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
