"""Heatmaps over images: saliency, occlusion, CAM and Grad-CAM, side by side (chapter 10).

A heatmap is a ``Tensor[h, w]`` at any resolution (a 7 x 7 CAM, a 32 x 32 saliency map);
it is stretched over the image's extent, so a coarse map covers the whole picture.
Maps are scaled to [0, 1] by their own min and max unless ``normalize=False``.

Like every ``course_utils.viz`` figure maker, these return the ``Figure`` (made through
pyplot) and never call ``plt.show()``.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_utils.viz.core import to_display

__all__ = ["draw_heatmap", "draw_outline", "show_explanations", "image_grid"]

_PANEL = 1.6  # inches per panel


def _as_map(heatmap) -> np.ndarray:
    m = torch.as_tensor(heatmap).detach().cpu().float()
    if m.ndim == 3 and m.shape[0] == 1:
        m = m[0]
    if m.ndim != 2:
        raise ValueError(f"a heatmap must be [h, w], got shape {list(m.shape)}")
    return m.numpy()


def draw_heatmap(ax: Axes, image, heatmap, *, alpha: float = 0.55, cmap: str = "jet", normalize: bool = True,
                 smooth: bool = True, size: tuple[int, int] | None = None):
    """Draw ``image`` with ``heatmap`` over it; return the overlay's ``AxesImage``.

    Args:
        ax: where to draw.
        image: ``Tensor[C, H, W]`` (anything :func:`course_utils.viz.to_display` takes), or None
            to draw the heatmap alone.
        heatmap: ``Tensor[h, w]``, stretched over the image.
        alpha: opacity of the heatmap over the image.
        normalize: scale the map to [0, 1] by its min and max.
        smooth: bilinear display interpolation (False: one flat square per cell).
        size: ``(H, W)`` extent of a heatmap drawn without an image (default: the map's own size).

    Examples:
        >>> fig, ax = plt.subplots()
        >>> _ = draw_heatmap(ax, torch.rand(3, 32, 32), torch.rand(8, 8)); plt.close(fig)
    """
    m = _as_map(heatmap)
    if normalize:
        low, high = float(m.min()), float(m.max())
        m = (m - low) / (high - low) if high > low else np.zeros_like(m)
    if image is None:
        h, w = m.shape if size is None else size
    else:
        shown = to_display(image)
        h, w = shown.shape[:2]
        ax.imshow(shown, extent=(0, w, h, 0), cmap="gray" if shown.ndim == 2 else None, interpolation="nearest")
    overlay = ax.imshow(m, extent=(0, w, h, 0), cmap=cmap, alpha=1.0 if image is None else alpha,
                        vmin=0 if normalize else None, vmax=1 if normalize else None,
                        interpolation="bilinear" if smooth else "nearest")
    ax.set_axis_off()
    return overlay


def draw_outline(ax: Axes, mask, color: str = "white", linewidth: float = 1.2):
    """Draw the outline of a boolean ``mask`` ``[H, W]`` (pixel-edge extent); return the contour set.

    Examples:
        >>> fig, ax = plt.subplots(); m = torch.zeros(8, 8, dtype=torch.bool); m[2:5, 3:6] = True
        >>> _ = draw_outline(ax, m); plt.close(fig)
    """
    m = torch.as_tensor(mask).detach().cpu().float().numpy()
    h, w = m.shape
    return ax.contour(np.arange(w) + 0.5, np.arange(h) + 0.5, m, levels=[0.5], colors=[color], linewidths=linewidth)


def show_explanations(images, maps: Mapping[str, object], *, titles: Sequence[str] | None = None,
                      masks=None, alpha: float = 0.55, cmap: str = "jet", overlay: bool = True,
                      suptitle: str | None = None) -> Figure:
    """One row per image: the image, then one panel per method with its heatmap over the image.

    Args:
        images: ``Tensor[N, C, H, W]`` or a list of N images.
        maps: method name -> ``Tensor[N, h, w]`` (one map per image); drawn in that order.
        titles: one title per image (shown over its first panel), or None.
        masks: ``Tensor[N, H, W]`` bool, outlined on every heatmap panel, or None.
        alpha, cmap: of the heatmaps.
        overlay: draw the heatmaps over the image (False: the heatmap alone).
        suptitle: a title above the grid.

    Returns:
        The Figure, with ``N * (1 + len(maps))`` axes.

    Examples:
        >>> fig = show_explanations(torch.rand(2, 3, 16, 16), {"a": torch.rand(2, 4, 4), "b": torch.rand(2, 16, 16)})
        >>> len(fig.axes)
        6
        >>> plt.close(fig)
    """
    items = list(images)
    names = list(maps)
    for name in names:
        if len(maps[name]) != len(items):
            raise ValueError(f"maps[{name!r}] has {len(maps[name])} maps for {len(items)} images")
    if titles is not None and len(titles) != len(items):
        raise ValueError(f"got {len(titles)} titles for {len(items)} images")
    ncols = 1 + len(names)
    fig, axes = plt.subplots(len(items), ncols, figsize=(_PANEL * ncols, _PANEL * len(items) + 0.3),
                             squeeze=False)
    for row, image in enumerate(items):
        shown = to_display(image)
        axes[row, 0].imshow(shown, cmap="gray" if shown.ndim == 2 else None, interpolation="nearest")
        axes[row, 0].set_axis_off()
        if titles is not None:
            axes[row, 0].set_title(titles[row], fontsize=8)
        for col, name in enumerate(names, start=1):
            ax = axes[row, col]
            draw_heatmap(ax, image if overlay else None, maps[name][row], alpha=alpha, cmap=cmap,
                         size=shown.shape[:2])
            if masks is not None:
                draw_outline(ax, masks[row])
            if row == 0:
                ax.set_title(name, fontsize=9)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig


def image_grid(images, ncols: int, *, pad: int = 1, pad_value: float = 1.0, frames=None,
               frame_width: int = 2) -> np.ndarray:
    """Tile images into one ``[H, W, 3]`` array for a single ``imshow`` (far cheaper than one axes per image).

    Args:
        images: ``Tensor[N, C, H, W]`` with C = 1 or 3, values in [0, 1] (grey is repeated to RGB).
        ncols: images per row.
        pad: pixels between tiles, filled with ``pad_value``.
        frames: optional list of N RGB triples (or None entries): a coloured frame around each tile.
        frame_width: width of the frames in pixels.

    Returns:
        np.ndarray[rows * (H + 2 f + pad) + pad, ncols * (W + 2 f + pad) + pad, 3] float32,
        with ``f = frame_width`` when frames are given (0 otherwise). Tile ``i`` has its
        top-left pixel at row ``pad + (i // ncols) * (H + 2 f + pad) + f``.

    Examples:
        >>> image_grid(torch.zeros(5, 1, 4, 4), ncols=3).shape
        (11, 16, 3)
    """
    x = torch.as_tensor(images).detach().cpu().float()
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"images must be [N, 1 or 3, H, W], got shape {list(x.shape)}")
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    n, _, h, w = x.shape
    f = frame_width if frames is not None else 0
    if frames is not None:
        if len(frames) != n:
            raise ValueError(f"got {len(frames)} frames for {n} images")
        boxed = torch.full((n, 3, h + 2 * f, w + 2 * f), pad_value)
        for i, colour in enumerate(frames):
            if colour is not None:
                boxed[i] = torch.as_tensor(colour, dtype=torch.float32)[:, None, None]
        boxed[:, :, f:f + h, f:f + w] = x
        x = boxed
    rows = -(-n // ncols)
    th, tw = h + 2 * f, w + 2 * f
    grid = torch.full((3, pad + rows * (th + pad), pad + ncols * (tw + pad)), pad_value)
    for i in range(n):
        r, c = divmod(i, ncols)
        top, left = pad + r * (th + pad), pad + c * (tw + pad)
        grid[:, top:top + th, left:left + tw] = x[i]
    return grid.permute(1, 2, 0).clamp(0, 1).numpy()
