"""The training loop every chapter uses: on a GPU when there is one, reproducible, resumable.

``fit`` trains a model on :class:`solutions.data.Splits` with a :class:`TrainConfig`: it picks
the device (CUDA, Apple's MPS or the CPU), uses bfloat16 mixed precision and the channels-last
memory layout on CUDA, seeds every random number generator, shows tqdm progress bars, records
per-epoch metrics and saves a checkpoint after each epoch from which ``resume`` continues
exactly where it stopped. ``train_epoch`` and ``evaluate`` are the two pieces it repeats.
"""

import contextlib
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from solutions.data import random_crop, random_horizontal_flip
from solutions.schedules import cosine_annealing_lr, linear_lr, step_lr, warmup_cosine_lr

#: Learning rate at epoch t of T, from the initial rate lr0, for each --schedule name.
SCHEDULES = {
    "constant": lambda t, lr0, T: lr0,
    "step": lambda t, lr0, T: step_lr(t, lr0, step_size=max(1, T // 3)),
    "cosine": lambda t, lr0, T: cosine_annealing_lr(t, lr0, T),
    "linear": lambda t, lr0, T: linear_lr(t, lr0, T),
    "warmup-cosine": lambda t, lr0, T: warmup_cosine_lr(t, lr0, max(1, T // 5), T)
    if T > 1 else lr0,
}


@dataclass
class TrainConfig:
    """Everything that decides a training run; saved in its checkpoint."""

    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "adam"      # "adam" or "sgd" (with momentum)
    lr: float = 3e-3
    momentum: float = 0.9        # SGD only
    weight_decay: float = 0.0
    schedule: str = "cosine"     # a key of SCHEDULES, stepped once per epoch
    crop_padding: int = 0        # augmentation: random shifts of up to this many pixels
    flip: bool = False           # augmentation: random left-right mirror (not for digits!)
    seed: int = 0
    device: str = "auto"         # "auto", "cpu", "cuda" or "mps"
    amp: bool = True             # bfloat16 autocast, used on CUDA only
    progress: bool = True        # tqdm bars on stderr

    def __post_init__(self):
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}: choose one of "
                             f"{', '.join(SCHEDULES)}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"epochs and batch_size must be >= 1, got {self.epochs}, "
                             f"{self.batch_size}")


def select_device(name="auto"):
    """The torch.device for "auto" (CUDA, else MPS, else CPU), "cpu", "cuda" or "mps".

    Raises ValueError for an unknown name or an accelerator this machine does not have.
    """
    available = {"cpu": True, "cuda": torch.cuda.is_available(),
                 "mps": torch.backends.mps.is_available()}
    if name == "auto":
        return torch.device(next(d for d in ("cuda", "mps", "cpu") if available[d]))
    if name not in available:
        raise ValueError(f"unknown device {name!r}: choose auto, cpu, cuda or mps")
    if not available[name]:
        raise ValueError(f"device {name!r} is not available on this machine "
                         f"(torch {torch.__version__}); use --device auto or cpu")
    return torch.device(name)


def seed_everything(seed):
    """Seed Python's, NumPy's and PyTorch's generators; make cuDNN pick deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True


def batches(dataset, batch_size, device, generator=None, transform=None, channels_last=False):
    """Yield (images, labels) mini-batches of a TensorDataset on ``device``.

    Shuffled with ``generator`` when one is given (training), in order otherwise; ``transform``
    (augmentation) is applied to each batch of images on the CPU.
    """
    images, labels = dataset.tensors
    order = (torch.randperm(len(labels), generator=generator) if generator is not None
             else torch.arange(len(labels)))
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    for start in range(0, len(labels), batch_size):
        index = order[start:start + batch_size]
        x = images[index] if transform is None else transform(images[index])
        yield (x.to(device, memory_format=memory_format, non_blocking=True),
               labels[index].to(device, non_blocking=True))


def train_epoch(model, batches, optimizer, autocast=contextlib.nullcontext):
    """One pass over the training batches: forward, cross-entropy, backward, update.

    Puts the model in training mode (dropout on, batch norm on batch statistics). ``autocast``
    wraps the forward pass (mixed precision). Returns (mean loss, accuracy) over the epoch.
    """
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for images, labels in batches:
        with autocast():
            logits = model(images)
            loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += loss.detach() * len(labels)  # a tensor: no GPU sync per step
        correct += (logits.argmax(dim=1) == labels).sum()
        seen += len(labels)
    return float(total_loss) / seen, int(correct) / seen


def evaluate(model, batches, autocast=contextlib.nullcontext):
    """Mean cross-entropy and accuracy of the model on the batches, in evaluation mode.

    Evaluation mode turns dropout off and makes batch norm use its running statistics; no
    gradients are recorded. The model is left in evaluation mode.
    """
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    with torch.no_grad(), autocast():
        for images, labels in batches:
            logits = model(images)
            total_loss += F.cross_entropy(logits, labels, reduction="sum").float()
            correct += (logits.argmax(dim=1) == labels).sum()
            seen += len(labels)
    return float(total_loss) / seen, int(correct) / seen


def predict(model, batches):
    """(labels, predicted classes) over all batches, as two CPU int64 tensors, in eval mode."""
    model.eval()
    labels, predictions = [], []
    with torch.no_grad():
        for x, y in batches:
            labels.append(y.cpu())
            predictions.append(model(x).argmax(dim=1).cpu())
    return torch.cat(labels), torch.cat(predictions)


def confusion_matrix(labels, predictions, num_classes):
    """Counts (num_classes, num_classes): row = true class, column = predicted class."""
    labels, predictions = torch.as_tensor(labels), torch.as_tensor(predictions)
    if labels.shape != predictions.shape:
        raise ValueError(f"labels {tuple(labels.shape)} and predictions "
                         f"{tuple(predictions.shape)} differ in shape")
    flat = labels * num_classes + predictions
    return torch.bincount(flat, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def make_optimizer(config, parameters):
    """Adam or SGD with momentum over the parameters that require a gradient."""
    parameters = [p for p in parameters if p.requires_grad]
    if not parameters:
        raise ValueError("every parameter is frozen: there is nothing to train")
    if config.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    return torch.optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)


def _augmentation(config, generator):
    """The batch transform the config asks for, drawing from ``generator``; None if none."""
    steps = []
    if config.crop_padding:
        steps.append(lambda x: random_crop(x, config.crop_padding, generator))
    if config.flip:
        steps.append(lambda x: random_horizontal_flip(x, 0.5, generator))
    if not steps:
        return None

    def transform(images):
        for step in steps:
            images = step(images)
        return images
    return transform


def save_checkpoint(path, model, optimizer, config, history, generator):
    """Write everything needed to continue training: weights, optimizer, RNG states, metrics.

    Only tensors and plain values, so that ``torch.load(weights_only=True)`` reads it: fit draws
    its random numbers from torch's generators alone (data order, augmentation, dropout).
    """
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "config": asdict(config), "history": history,
             "rng": {"torch": torch.get_rng_state(), "data": generator.get_state(),
                     "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path.with_suffix(".tmp"))
    path.with_suffix(".tmp").replace(path)  # never leave a half-written checkpoint behind


def load_checkpoint(path, model, optimizer, generator):
    """Restore a checkpoint written by save_checkpoint; return its history."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    generator.set_state(state["rng"]["data"])
    torch.set_rng_state(state["rng"]["torch"])
    if state["rng"]["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng"]["cuda"])
    return state["history"]


def fit(model, splits, config, checkpoint=None, resume=False):
    """Train ``model`` on ``splits.train``, validating on ``splits.val`` after every epoch.

    With ``checkpoint`` (a path) the state is saved after each epoch; with ``resume`` and an
    existing checkpoint, training continues after its last epoch and ends where an
    uninterrupted run would have. Returns the history: one dict per epoch with train_loss,
    train_accuracy, val_loss, val_accuracy, lr, seconds and images_per_second.
    Call ``seed_everything`` before building the model so its initial weights repeat too.
    """
    device = select_device(config.device)
    on_cuda = device.type == "cuda"
    channels_last = on_cuda  # NHWC feeds cuDNN's tensor-core kernels; on a CPU it seldom helps
    autocast = ((lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if on_cuda and config.amp
                else contextlib.nullcontext)
    model.to(device, memory_format=torch.channels_last if channels_last else torch.preserve_format)
    optimizer = make_optimizer(config, model.parameters())
    generator = torch.Generator().manual_seed(config.seed)
    history = []
    if resume and checkpoint is not None and Path(checkpoint).exists():
        history = load_checkpoint(checkpoint, model, optimizer, generator)
    transform = _augmentation(config, generator)
    steps = math.ceil(len(splits.train) / config.batch_size)
    for epoch in range(len(history), config.epochs):
        lr = SCHEDULES[config.schedule](epoch, config.lr, config.epochs)
        for group in optimizer.param_groups:
            group["lr"] = lr
        start = time.perf_counter()
        train = tqdm(batches(splits.train, config.batch_size, device, generator, transform,
                             channels_last), total=steps, desc=f"epoch {epoch + 1}/{config.epochs}",
                     leave=False, disable=not config.progress)
        train_loss, train_accuracy = train_epoch(model, train, optimizer, autocast)
        seconds = time.perf_counter() - start
        val_loss, val_accuracy = evaluate(
            model, batches(splits.val, 512, device, channels_last=channels_last), autocast)
        history.append({"epoch": epoch + 1, "train_loss": train_loss,
                        "train_accuracy": train_accuracy, "val_loss": val_loss,
                        "val_accuracy": val_accuracy, "lr": lr, "seconds": seconds,
                        "images_per_second": len(splits.train) / seconds})
        if config.progress:
            tqdm.write(f"epoch {epoch + 1}: loss {train_loss:.3f}, train accuracy "
                       f"{train_accuracy:.3f}, val accuracy {val_accuracy:.3f}, "
                       f"{len(splits.train) / seconds:.0f} images/s")
        if checkpoint is not None:
            save_checkpoint(checkpoint, model, optimizer, config, history, generator)
    return history


def test_report(model, splits):
    """Accuracy and confusion matrix of the trained model on the test split."""
    device = next(model.parameters()).device
    labels, predictions = predict(model, batches(splits.test, 512, device))
    return {"test_accuracy": (labels == predictions).float().mean().item(),
            "confusion_matrix": confusion_matrix(labels, predictions, len(splits.classes)).tolist()}


#: Augmentation that suits each data set: digits must not be mirrored, photographs can be.
AUGMENTATION = {"digits": {}, "mnist": {"crop_padding": 2}, "fashion-mnist": {"crop_padding": 2},
                "cifar10": {"crop_padding": 4, "flip": True}}


def train_and_report(model_name, data_name, out, epochs=10, device="auto", data_dir=None, seed=0):
    """What ``cnnbook train`` does: train, test, and write the run's files into ``out``.

    Writes checkpoint.pt and, through ``report``, metrics.json and the figures. Returns the
    metrics as a dict.
    """
    from solutions import data, models

    check_run(model_name, device)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    raw = data.load(data_name, data_dir, seed=seed)
    splits, normalization = data.standardize(raw)
    channels, size, _ = splits.image_shape
    seed_everything(seed)
    model = models.build(model_name, channels, len(splits.classes), size)
    config = TrainConfig(epochs=epochs, device=device, seed=seed, **AUGMENTATION[data_name])
    started = time.perf_counter()
    history = fit(model, splits, config, checkpoint=out / "checkpoint.pt")
    return report(out, model_name, data_name, model, splits, config, history,
                  time.perf_counter() - started, normalization)


def check_run(model_name, device):
    """Raise ValueError for an unknown model or device, before any data is read."""
    from solutions import models

    select_device(device)
    if model_name not in models.MODELS:
        models.build(model_name)


def report(out, model_name, data_name, model, splits, config, history, seconds, normalization,
           processes=1):
    """Test the trained model and write ``out/metrics.json`` (config, history, test accuracy,
    confusion matrix) and the figures curves.png, filters.png, feature_maps.png and
    confusion.png. Returns the metrics as a dict."""
    import json

    import matplotlib.pyplot as plt

    from solutions import models, plots

    mean, std = normalization
    metrics = {"model": model_name, "data": data_name, "device": select_device(config.device).type,
               "processes": processes, "parameters": models.count_parameters(model),
               "config": asdict(config), "seconds": seconds, "history": history,
               "normalization": {"mean": mean.tolist(), "std": std.tolist()},
               "classes": list(splits.classes), **test_report(model, splits)}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    image = splits.test.tensors[0][0]
    for name, figure in (("curves", plots.plot_history(history)),
                         ("filters", plots.plot_filters(model)),
                         ("feature_maps", plots.plot_feature_maps(
                             model, image, f"a test image ({splits.classes[splits.test.tensors[1][0]]})")),
                         ("confusion", plots.plot_confusion(metrics["confusion_matrix"], splits.classes))):
        figure.savefig(out / f"{name}.png", dpi=100)
        plt.close(figure)
    return metrics
