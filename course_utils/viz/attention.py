"""Attention over images: where a captioner looks for each word, where a ViT's class token looks.

An attention map is a ``Tensor[g, g]`` (or ``[g * g]``) of weights over the cells of a
feature grid (or the patches of a ViT) covering the image. It is drawn over the image
stretched to the image's extent, each cell a ``S/g x S/g`` square (no smoothing: the
model attends to cells, not pixels).

Like every ``course_utils.viz`` figure maker, these return the ``Figure`` (made through
pyplot) and never call ``plt.show()``.
"""
from __future__ import annotations

import math
from typing import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_utils.viz.core import to_display

__all__ = ["draw_attention", "show_caption_attention", "show_attention_maps"]

_PANEL = 1.7  # inches per panel


def _as_grid(weights) -> torch.Tensor:
    w = torch.as_tensor(weights).detach().cpu().float()
    if w.ndim == 1:
        side = math.isqrt(w.numel())
        if side * side != w.numel():
            raise ValueError(f"a flat attention map must have a square number of cells, got {w.numel()}")
        w = w.reshape(side, side)
    if w.ndim != 2:
        raise ValueError(f"an attention map must be [g, g] or [g * g], got shape {list(w.shape)}")
    return w


def draw_attention(ax: Axes, image, weights, alpha: float = 0.6, cmap: str = "magma", normalize: bool = True):
    """Draw ``image`` with an attention map over it; return the overlay's ``AxesImage``.

    Args:
        ax: where to draw.
        image: ``Tensor[C, H, W]`` (or anything :func:`course_utils.viz.to_display` takes).
        weights: ``Tensor[g, g]`` or ``[g * g]``.
        alpha: opacity of the map.
        normalize: scale the map to [0, 1] by its maximum (else shown as is, 0..1).

    Examples:
        >>> fig, ax = plt.subplots()
        >>> _ = draw_attention(ax, torch.rand(3, 32, 32), torch.rand(8, 8)); plt.close(fig)
    """
    shown = to_display(image)
    h, w = shown.shape[:2]
    grid = _as_grid(weights)
    if normalize and grid.max() > 0:
        grid = grid / grid.max()
    ax.imshow(shown, extent=(0, w, h, 0), cmap="gray" if shown.ndim == 2 else None)
    overlay = ax.imshow(grid.numpy(), extent=(0, w, h, 0), cmap=cmap, alpha=alpha, vmin=0, vmax=1,
                        interpolation="nearest")
    ax.set_axis_off()
    return overlay


def show_caption_attention(image, words: Sequence[str], weights, ncols: int | None = None,
                           title: str | None = None) -> Figure:
    """The image, then one panel per generated word with the attention used to produce it.

    Args:
        image: ``Tensor[3, H, W]``.
        words: the generated words (``L`` of them).
        weights: ``Tensor[L, P]``: row ``t`` is the attention (over ``P = g * g`` cells) when word
            ``t`` was chosen; or ``Tensor[heads, L, P]`` for several heads, drawn one row per head.
        ncols: panels per row (default: all the words in one row).
        title: put above the figure.

    Examples:
        >>> fig = show_caption_attention(torch.rand(3, 32, 32), ["a", "red", "star"], torch.rand(3, 64)); plt.close(fig)
        >>> fig = show_caption_attention(torch.rand(3, 32, 32), ["a", "star"], torch.rand(2, 2, 64)); len(fig.axes)
        6
        >>> plt.close(fig)
    """
    weights = torch.as_tensor(weights).detach().cpu()
    if weights.ndim not in (2, 3):
        raise ValueError(f"weights must be [L, P] or [heads, L, P], got shape {list(weights.shape)}")
    heads = weights if weights.ndim == 3 else None
    per_head = [weights] if heads is None else list(heads)
    for w in per_head:
        if len(words) != len(w):
            raise ValueError(f"got {len(words)} words but {len(w)} attention maps")
    ncols = len(words) + 1 if ncols is None else ncols
    rows_per_head = -(-(len(words) + 1) // ncols)
    nrows = rows_per_head * len(per_head)
    fig, axes = plt.subplots(nrows, ncols, figsize=(_PANEL * ncols, _PANEL * 1.1 * nrows), squeeze=False)
    for head, w in enumerate(per_head):
        panel = axes[head * rows_per_head:(head + 1) * rows_per_head].ravel()
        panel[0].imshow(to_display(image))
        panel[0].set_title("image" if heads is None else f"head {head + 1}", fontsize=9)
        panel[0].set_axis_off()
        for ax, word, m in zip(panel[1:], words, w):
            draw_attention(ax, image, m)
            ax.set_title(repr(word), fontsize=9)
        for ax in panel[len(words) + 1:]:
            ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def show_attention_maps(images, maps, titles: Sequence[str] | None = None, ncols: int = 8) -> Figure:
    """Images (top of each pair of rows) and their attention maps drawn over them (below).

    Args:
        images: ``Tensor[B, C, H, W]`` (or a list of images).
        maps: ``Tensor[B, g, g]`` or ``[B, g * g]``.
        titles: one per image.

    Examples:
        >>> fig = show_attention_maps(torch.rand(3, 1, 16, 16), torch.rand(3, 4, 4)); plt.close(fig)
    """
    images = list(images)
    if len(images) != len(maps):
        raise ValueError(f"got {len(images)} images but {len(maps)} maps")
    n = len(images)
    ncols = min(ncols, n)
    blocks = -(-n // ncols)
    fig, axes = plt.subplots(2 * blocks, ncols, figsize=(_PANEL * ncols, 2 * _PANEL * blocks), squeeze=False)
    for k in range(blocks * ncols):
        top, bottom = axes[2 * (k // ncols), k % ncols], axes[2 * (k // ncols) + 1, k % ncols]
        top.set_axis_off()
        bottom.set_axis_off()
        if k >= n:
            continue
        shown = to_display(images[k])
        top.imshow(shown, cmap="gray" if shown.ndim == 2 else None)
        if titles is not None:
            top.set_title(titles[k], fontsize=9)
        draw_attention(bottom, images[k], maps[k])
    fig.tight_layout()
    return fig
