"""Boxes (xyxy, absolute pixels on pixel edges) with class names and scores."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from course_utils.checks import check_tensor
from course_utils.viz.core import _as_tensor, _class_name, _imshow, class_color

__all__ = ["draw_boxes", "show_detections"]


def draw_boxes(
    ax: Axes,
    boxes,
    labels=None,
    scores=None,
    class_names: Sequence[str] | None = None,
    color=None,
    *,
    linewidth: float = 2.0,
    linestyle: str = "-",
    fontsize: float = 8.0,
) -> list[Rectangle]:
    """Draw boxes (with ``"name score"`` captions) into ``ax``.

    Args:
        ax: the axes, typically already showing the image.
        boxes: ``Tensor[N, 4]`` xyxy in absolute pixels.
        labels: ``Tensor[N]`` integer class indices (into ``class_names``), or None.
        scores: ``Tensor[N]`` confidences, shown with two decimals, or None.
        class_names: names indexed by label (index 0 = background), or None to show numbers.
        color: one matplotlib colour for every box; default colours by label.

    Returns:
        The N ``Rectangle`` patches added (one caption text per box with a label or score).

    Examples:
        >>> fig, ax = plt.subplots()
        >>> len(draw_boxes(ax, torch.tensor([[1.0, 2.0, 5.0, 6.0]]), labels=torch.tensor([1]), class_names=["bg", "square"]))
        1
        >>> plt.close(fig)
    """
    b = _as_tensor(boxes, "boxes")
    check_tensor(b, "boxes", shape=(None, 4))
    n = b.shape[0]
    lab = None if labels is None else _as_tensor(labels, "labels").reshape(-1)
    sc = None if scores is None else _as_tensor(scores, "scores").reshape(-1)
    for name, t in (("labels", lab), ("scores", sc)):
        if t is not None and t.shape[0] != n:
            raise ValueError(f"{name} must have one entry per box ({n}), got {t.shape[0]}")
    patches = []
    for i, (x1, y1, x2, y2) in enumerate(b.double().tolist()):
        label = int(lab[i]) if lab is not None else None
        c = color if color is not None else class_color(label if label is not None else 1)
        rect = Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=c, linewidth=linewidth, linestyle=linestyle)
        ax.add_patch(rect)
        patches.append(rect)
        parts = []
        if label is not None:
            parts.append(_class_name(label, class_names))
        if sc is not None:
            parts.append(f"{float(sc[i]):.2f}")
        if parts:
            ax.text(
                x1, y1, " ".join(parts), fontsize=fontsize, color="white", va="bottom", ha="left",
                bbox=dict(facecolor=c, edgecolor="none", alpha=0.8, pad=1.0),
            )
    return patches


def show_detections(
    image,
    boxes,
    labels=None,
    scores=None,
    class_names: Sequence[str] | None = None,
    ax: Axes | None = None,
    *,
    score_threshold: float | None = None,
    gt_boxes=None,
    gt_labels=None,
    title: str | None = None,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> Figure:
    """Show an image with its (predicted) boxes, and optionally ground truth dashed in white.

    Args:
        image: ``Tensor[3, H, W]`` (see :func:`to_display`).
        boxes, labels, scores, class_names: as in :func:`draw_boxes`.
        ax: draw into this axes instead of a new figure.
        score_threshold: hide boxes whose score is below it.
        gt_boxes, gt_labels: ground-truth ``Tensor[M, 4]`` xyxy and ``Tensor[M]``, drawn dashed.
        title: axes title.

    Returns:
        The Figure (``ax.figure`` when ``ax`` is given). The image is drawn with
        ``extent=(0, W, H, 0)``: box coordinates are on pixel edges.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(4, 4))
    else:
        fig = ax.figure
    _imshow(ax, image, pixel_edges=True, mean=mean, std=std)
    b = _as_tensor(boxes, "boxes")
    check_tensor(b, "boxes", shape=(None, 4))
    lab = None if labels is None else _as_tensor(labels, "labels").reshape(-1)
    sc = None if scores is None else _as_tensor(scores, "scores").reshape(-1)
    if score_threshold is not None and sc is not None:
        keep = sc >= score_threshold
        b, sc = b[keep], sc[keep]
        lab = None if lab is None else lab[keep]
    if gt_boxes is not None:
        draw_boxes(ax, gt_boxes, gt_labels, None, class_names, color="white", linestyle="--", linewidth=1.5)
    draw_boxes(ax, b, lab, sc, class_names)
    if title:
        ax.set_title(title, fontsize=9)
    return fig
