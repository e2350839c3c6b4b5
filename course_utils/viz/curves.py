"""Training curves, named curves against a shared x axis, and confusion matrices."""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_utils.viz.core import _as_tensor

__all__ = ["plot_history", "plot_curves", "plot_confusion_matrix"]


_NOT_METRICS = {"epoch", "epoch_time", "lr", "time"}


def _history_dict(history) -> dict[str, list[float]]:
    if hasattr(history, "as_dict"):
        history = history.as_dict()
    if not isinstance(history, Mapping):
        raise TypeError(f"history must be a History or a mapping name -> list of values, got {type(history).__name__}")
    return {str(k): [float(v) for v in vals] for k, vals in history.items()}


def plot_history(history, metrics: Sequence[str] | None = None, *, figsize=None) -> Figure:
    """Plot training curves: one panel per quantity, train and validation together.

    Args:
        history: a ``course_utils.train.History`` or a mapping such as
            ``{"train_loss": [...], "val_loss": [...], "train_accuracy": [...]}``.
            Keys ``train_<m>`` and ``val_<m>`` share the panel ``<m>``; ``epoch`` gives
            the x axis (default 1, 2, ...).
        metrics: panels to draw, e.g. ``["loss", "accuracy", "lr"]``; default all
            ``<m>`` found, loss first (``lr`` and ``epoch_time`` only when asked for).

    Returns:
        The Figure, one axes per panel.

    Examples:
        >>> fig = plot_history({"train_loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "val_accuracy": [0.5, 0.8]})
        >>> [ax.get_title() for ax in fig.axes]
        ['loss', 'accuracy']
        >>> plt.close(fig)
    """
    data = _history_dict(history)
    found: list[str] = []
    for key in data:
        base = key.split("_", 1)[1] if key.startswith(("train_", "val_")) else key
        if base not in found and base not in _NOT_METRICS:
            found.append(base)
    found.sort(key=lambda m: m != "loss")  # stable: loss first, the rest in insertion order
    panels = list(metrics) if metrics is not None else found
    for m in panels:
        if not any(k in data for k in (m, f"train_{m}", f"val_{m}")):
            raise ValueError(f"history has no values for {m!r}; it has keys {sorted(data)}")
    n = max(1, len(panels))
    fig, axes = plt.subplots(1, n, figsize=figsize or (4.0 * n, 3.0), squeeze=False)
    for ax, m in zip(axes[0], panels):
        for key, label in ((f"train_{m}", "train"), (f"val_{m}", "val"), (m, m)):
            if key in data and data[key]:
                ys = data[key]
                xs = data.get("epoch") or list(range(1, len(ys) + 1))
                ax.plot(xs[: len(ys)], ys, marker="o", markersize=3, label=label)
        ax.set_title(m)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_curves(
    xs,
    ys: Mapping[str, Sequence[float]],
    *,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    logx: bool = False,
    logy: bool = False,
    ax: Axes | None = None,
) -> Figure:
    """Plot several named curves against the same x values (e.g. precision-recall, LR sweeps).

    Args:
        xs: the x values, length L.
        ys: name -> L y values; one line per entry, labelled by its name.

    Returns:
        The Figure (``ax.figure`` when ``ax`` is given).

    Examples:
        >>> fig = plot_curves([1, 2, 3], {"a": [1, 4, 9], "b": [1, 2, 3]}, xlabel="x")
        >>> len(fig.axes[0].lines)
        2
        >>> plt.close(fig)
    """
    x = np.asarray(_as_tensor(xs, "xs"), dtype=float).reshape(-1)
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 3.2))
    else:
        fig = ax.figure
    for name, y in ys.items():
        y = np.asarray(_as_tensor(y, f"ys[{name!r}]"), dtype=float).reshape(-1)
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"ys[{name!r}] must have {x.shape[0]} values like xs, got {y.shape[0]}")
        ax.plot(x, y, label=str(name))
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel or "")
    ax.set_ylabel(ylabel or "")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    if ys:
        ax.legend(fontsize=8)
    return fig


def plot_confusion_matrix(
    cm,
    class_names: Sequence[str] | None = None,
    normalize: bool = False,
    *,
    cmap: str = "Blues",
    annotate: bool | None = None,
    figsize=None,
) -> Figure:
    """Plot a confusion matrix with a colorbar and the value of every cell.

    Args:
        cm: ``Tensor[C, C]`` or ndarray of counts; row = true class, column = predicted
            (the convention of ``sklearn.metrics.confusion_matrix``).
        class_names: C names for the ticks, or None for 0..C-1.
        normalize: divide each row by its total (so the diagonal is per-class recall);
            empty rows stay 0.
        annotate: write values in the cells; default when C <= 20.

    Returns:
        The Figure (two axes: the matrix and its colorbar).

    Examples:
        >>> fig = plot_confusion_matrix(torch.tensor([[5, 1], [2, 7]]), class_names=["cat", "dog"])
        >>> len(fig.axes), len(fig.axes[0].texts)
        (2, 4)
        >>> plt.close(fig)
    """
    m = _as_tensor(cm, "cm").double()
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"cm must be a square matrix [C, C], got shape {list(m.shape)}")
    c = m.shape[0]
    if class_names is not None and len(class_names) != c:
        raise ValueError(f"class_names must have {c} entries (one per row of cm), got {len(class_names)}")
    if normalize:
        m = m / m.sum(dim=1, keepdim=True).clamp_min(1e-12)  # [C, C] / [C, 1]
    arr = m.numpy()
    side = max(3.5, 0.45 * c + 1.5)
    fig, ax = plt.subplots(figsize=figsize or (side + 0.8, side))
    vmax = 1.0 if normalize else max(float(arr.max()) if arr.size else 0.0, 1e-12)
    im = ax.imshow(arr, cmap=cmap, vmin=0.0, vmax=vmax)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    names = [str(n) for n in class_names] if class_names is not None else [str(i) for i in range(c)]
    ax.set_xticks(range(c), names, rotation=45 if c > 4 else 0, ha="right" if c > 4 else "center", fontsize=8)
    ax.set_yticks(range(c), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if annotate if annotate is not None else c <= 20:
        threshold = 0.5 * vmax  # white text on the dark half of the colormap
        for i in range(c):
            for j in range(c):
                v = arr[i, j]
                text = f"{v:.2f}" if normalize else (f"{int(v)}" if float(v).is_integer() else f"{v:.2g}")
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if v > threshold else "black")
    fig.tight_layout()
    return fig
