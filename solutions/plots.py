"""Figures of a training run: learning curves, first-layer filters, feature maps, confusions.

Each function returns a matplotlib Figure; the book shows it, ``cnnbook train`` saves it.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn


def plot_history(history):
    """Loss and accuracy per epoch, training and validation, from fit()'s history."""
    epochs = [h["epoch"] for h in history]
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 3.8))
    for split, style in (("train", "-o"), ("val", "--s")):
        loss_ax.plot(epochs, [h[f"{split}_loss"] for h in history], style, label=split)
        acc_ax.plot(epochs, [h[f"{split}_accuracy"] for h in history], style, label=split)
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (loss_ax, acc_ax):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def first_conv(model):
    """The model's first nn.Conv2d layer (ValueError if it has none)."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module
    raise ValueError("the model has no Conv2d layer")


def _grid(n, columns=8):
    columns = min(n, columns)
    return -(-n // columns), columns


def plot_filters(model):
    """The learned kernels of the first convolution, one panel per output channel.

    One input channel: grey, zero at the middle of the colour scale; three: as RGB, each
    kernel rescaled to [0, 1].
    """
    weight = first_conv(model).weight.detach().float().cpu()
    rows, columns = _grid(len(weight))
    fig, axes = plt.subplots(rows, columns, figsize=(1.4 * columns, 1.5 * rows), squeeze=False)
    limit = weight.abs().max().item()
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(weight):
            continue
        kernel = weight[i]
        if kernel.shape[0] == 3:
            low, high = kernel.min(), kernel.max()
            ax.imshow(((kernel - low) / (high - low + 1e-12)).permute(1, 2, 0).numpy())
        else:
            ax.imshow(kernel[0].numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"filter {i}", fontsize=8)
    fig.suptitle("first-layer filters")
    fig.tight_layout()
    return fig


def feature_maps(model, image):
    """Output of the first convolution for one image (C, H, W): a (C_out, H', W') tensor."""
    maps = []
    handle = first_conv(model).register_forward_hook(lambda m, i, out: maps.append(out))
    model.eval()
    try:
        with torch.no_grad():
            model(image[None].to(next(model.parameters()).device))
    finally:
        handle.remove()
    return maps[0][0].float().cpu()


def plot_feature_maps(model, image, title="input"):
    """The image and the first convolution's feature maps for it."""
    maps = feature_maps(model, image)
    rows, columns = _grid(len(maps) + 1)
    fig, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.7 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    shown = image.cpu()
    axes.flat[0].imshow(shown[0] if len(shown) == 1 else
                        ((shown - shown.min()) / (shown.max() - shown.min())).permute(1, 2, 0),
                        cmap="gray")
    axes.flat[0].set_title(title, fontsize=8)
    for i, (ax, feature_map) in enumerate(zip(axes.flat[1:], maps)):
        ax.imshow(feature_map.numpy(), cmap="viridis")
        ax.set_title(f"map {i}", fontsize=8)
    fig.suptitle("feature maps of the first convolution")
    fig.tight_layout()
    return fig


def plot_confusion(matrix, classes):
    """The confusion matrix (rows: true class, columns: predicted), counts written in."""
    matrix = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(0.5 * len(classes) + 2.5, 0.5 * len(classes) + 2))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        if count:
            ax.text(j, i, count, ha="center", va="center", fontsize=8,
                    color="white" if count > matrix.max() / 2 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=90 if len(classes[0]) > 2 else 0)
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted class", ylabel="true class", title="confusion matrix (test set)")
    fig.tight_layout()
    return fig
