"""Transfer learning: reuse a network trained on one task for another with few labels.

The networks of ``solutions.models`` are ``nn.Sequential``s whose last layer is the linear
classifier, the "head"; everything before it is the feature extractor.
"""

from pathlib import Path

import torch
from torch import nn

from solutions.train import TrainConfig, fit


def load_pretrained(model, path):
    """Load weights from a local file into ``model``: a state_dict, or a checkpoint of fit().

    Raises ValueError naming every parameter whose shape differs (file vs model), and the
    names missing from the file or unknown to the model, instead of PyTorch's long error;
    FileNotFoundError if there is no such file. Returns the model.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weights file {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state.get("model"), dict):  # a checkpoint written by solutions.train.fit
        state = state["model"]
    own = model.state_dict()
    problems = [f"{name}: file has {tuple(state[name].shape)}, model has {tuple(own[name].shape)}"
                for name in own if name in state and state[name].shape != own[name].shape]
    problems += [f"{name}: missing from the file" for name in own if name not in state]
    problems += [f"{name}: not in the model" for name in state if name not in own]
    if problems:
        raise ValueError(f"{path} does not fit this model:\n  " + "\n  ".join(problems))
    model.load_state_dict(state)
    return model


def replace_head(model, num_classes):
    """Swap the last layer (a Linear) for a freshly initialized one with num_classes outputs."""
    head = model[-1]
    if not isinstance(head, nn.Linear):
        raise ValueError(f"the last layer must be nn.Linear to be replaced, got {type(head).__name__}")
    model[-1] = nn.Linear(head.in_features, num_classes)
    return model


def freeze_features(model):
    """Stop training every layer but the head: requires_grad False for all other parameters."""
    for parameter in model[:-1].parameters():
        parameter.requires_grad_(False)
    for parameter in model[-1].parameters():
        parameter.requires_grad_(True)
    return model


def fine_tune(model, splits, epochs=30, lr=2e-3, seed=0):
    """Train every parameter of a pretrained model on ``splits``, with a learning rate below
    the 3e-3 used from scratch, so that the pretrained weights are adjusted, not overwritten.

    Unfreezes all parameters, then runs solutions.train.fit (Adam, cosine schedule); returns
    its history. The model is trained in place.
    """
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    return fit(model, splits, TrainConfig(epochs=epochs, lr=lr, seed=seed, progress=False))
