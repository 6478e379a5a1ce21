"""Drawing helpers shared by the chapters (they run in this folder when the book is built)."""

import matplotlib.pyplot as plt
import numpy as np


def draw_grid(ax, values, title, highlight=(), color="tab:blue", shade=None, fmt="{:g}"):
    """Draw a matrix as labelled cells.

    highlight: a window (row, col, height, width), or a list of them, filled in ``color``
    (one colour, or one per window); shade: a boolean mask of cells to grey out, e.g. padding;
    fmt: how each value is written.
    """
    values = np.asarray(values)
    rows, cols = values.shape
    ax.set_xlim(0, cols)
    ax.set_ylim(rows, 0)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title)
    for (i, j), v in np.ndenumerate(values):
        grey = shade is not None and shade[i, j]
        ax.add_patch(plt.Rectangle((j, i), 1, 1, fill=grey, facecolor="0.85", edgecolor="k", lw=1))
        ax.text(j + 0.5, i + 0.5, fmt.format(v), ha="center", va="center", fontsize=13,
                color="0.45" if grey else "k")
    windows = [highlight] if highlight and np.isscalar(highlight[0]) else list(highlight)
    colors = [color] * len(windows) if isinstance(color, str) else list(color)
    for (r, c, h, w), window_color in zip(windows, colors):
        ax.add_patch(plt.Rectangle((c, r), w, h, color=window_color, alpha=0.3, lw=0))
        ax.add_patch(plt.Rectangle((c, r), w, h, fill=False, edgecolor=window_color, lw=2.5))
