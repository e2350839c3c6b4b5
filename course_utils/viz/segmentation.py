"""Label maps over images: semantic masks (0 = background) and instance masks."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from course_utils.viz.core import _as_tensor, _class_name, _imshow, class_color

__all__ = ["overlay_mask", "show_segmentation"]


def _label_map(mask, name: str) -> torch.Tensor:
    """``Tensor[H, W]`` int64 from an int/bool label map or instance masks ``[N, H, W]`` bool."""
    m = _as_tensor(mask, name)
    if m.ndim == 3 and m.dtype == torch.bool:
        # Instance masks: instance i gets label i + 1; later instances are drawn on top.
        ids = torch.arange(1, m.shape[0] + 1).reshape(-1, 1, 1)  # [N, 1, 1]
        return (m.long() * ids).amax(dim=0) if m.shape[0] > 0 else torch.zeros(m.shape[1:], dtype=torch.long)
    if m.ndim != 2:
        raise ValueError(f"{name} must have shape [H, W] (or [N, H, W] bool instance masks), got {list(m.shape)}")
    if m.is_floating_point():
        raise TypeError(f"{name} must be an integer or bool label map, got {str(m.dtype).replace('torch.', '')}")
    return m.long()


def overlay_mask(ax: Axes, mask, num_classes: int | None = None, alpha: float = 0.5):
    """Overlay a label map on ``ax``: class c > 0 in ``class_color(c)``, background transparent.

    The overlay takes the extent of the first image already shown in ``ax`` (if any),
    so it lines up with it whichever pixel convention that image uses.

    Args:
        ax: the axes, typically already showing the image of the same size.
        mask: ``Tensor[H, W]`` int64 class indices (0 = background), a bool mask
            (shown as class 1), or ``Tensor[N, H, W]`` bool instance masks (instance i as i + 1).
        num_classes: if given, every value must be below it.
        alpha: opacity of the coloured pixels.

    Returns:
        The ``AxesImage`` added.

    Examples:
        >>> fig, ax = plt.subplots()
        >>> overlay_mask(ax, torch.tensor([[0, 1], [2, 0]])).get_array().shape
        (2, 2, 4)
        >>> plt.close(fig)
    """
    m = _label_map(mask, "mask")
    if m.numel() > 0 and int(m.min()) < 0:
        raise ValueError(f"mask values must be >= 0, got minimum {int(m.min())}")
    if num_classes is not None and m.numel() > 0 and int(m.max()) >= num_classes:
        raise ValueError(f"mask values must be < num_classes ({num_classes}), got maximum {int(m.max())}")
    top = int(m.max()) + 1 if m.numel() > 0 else 1
    lut = np.zeros((top, 4), dtype=np.float32)  # class -> RGBA, row 0 (background) fully transparent
    for c in range(1, top):
        lut[c, :3] = class_color(c)
        lut[c, 3] = alpha
    rgba = lut[m.numpy()]  # [H, W, 4]
    shown = ax.get_images()
    extent = shown[0].get_extent() if shown else None
    return ax.imshow(rgba, interpolation="nearest", extent=extent)


def _legend(ax: Axes, classes: Sequence[int], class_names: Sequence[str] | None) -> None:
    handles = [Patch(facecolor=class_color(c), label=_class_name(c, class_names)) for c in classes]
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)


def show_segmentation(
    image,
    mask,
    pred=None,
    class_names: Sequence[str] | None = None,
    *,
    alpha: float = 0.5,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> Figure:
    """Show an image, its ground-truth label map and optionally a prediction, side by side.

    Args:
        image: ``Tensor[3, H, W]`` (see :func:`to_display`).
        mask: ``Tensor[H, W]`` int64 ground truth (0 = background).
        pred: ``Tensor[H, W]`` int64 predicted labels or ``Tensor[C, H, W]`` float
            logits (argmax over C is taken), or None.
        class_names: names indexed by class (index 0 = background), used in the legend.

    Returns:
        The Figure with 2 axes (3 with ``pred``) and a legend of the classes present.

    Examples:
        >>> fig = show_segmentation(torch.rand(3, 8, 8), torch.zeros(8, 8, dtype=torch.long), pred=torch.randn(3, 8, 8))
        >>> len(fig.axes)
        3
        >>> plt.close(fig)
    """
    gt = _label_map(mask, "mask")
    panels = [("image", None), ("ground truth", gt)]
    if pred is not None:
        p = _as_tensor(pred, "pred")
        if p.ndim == 3 and p.is_floating_point():
            p = p.argmax(dim=0)  # logits [C, H, W] -> labels [H, W]
        p = _label_map(p, "pred")
        if p.shape != gt.shape:
            raise ValueError(f"pred must have the shape of mask {list(gt.shape)}, got {list(p.shape)}")
        panels.append(("prediction", p))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.0 * len(panels) + 1.2, 3.2), squeeze=False)
    present: set[int] = set()
    for ax, (title, m) in zip(axes[0], panels):
        _imshow(ax, image, mean=mean, std=std)
        if m is not None:
            overlay_mask(ax, m, alpha=alpha)
            present.update(int(v) for v in m.unique().tolist() if v > 0)
        ax.set_title(title, fontsize=9)
    _legend(axes[0][-1], sorted(present), class_names)
    fig.tight_layout()
    return fig
