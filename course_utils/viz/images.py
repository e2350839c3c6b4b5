"""Grids of images, video clips as frame strips, and convolution filters."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from course_utils.checks import check_positive_int, check_tensor
from course_utils.viz.core import _as_tensor, _check_titles, _grid, _image_list, _imshow

__all__ = ["show_images", "show_clips", "show_filters"]


def show_images(
    images,
    titles: Sequence | None = None,
    ncols: int = 8,
    cmap: str | None = None,
    figsize: tuple[float, float] | None = None,
    *,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    rescale: bool | str = "auto",
    suptitle: str | None = None,
) -> Figure:
    """Show a grid of images, one per axes.

    Args:
        images: ``Tensor[N, C, H, W]``, ``Tensor[N, H, W]`` (N grayscale images; to
            show a single image pass ``[image]``) or a list of single images in any
            layout :func:`to_display` accepts.
        titles: N titles (e.g. class names), or None.
        ncols: images per row.
        cmap: colormap for single-channel images (default gray).
        figsize: figure size in inches; default scales with the grid.
        mean, std, rescale: how values become colours, see :func:`to_display`.
        suptitle: a title above the grid.

    Returns:
        The Figure, with exactly N axes (none for N = 0).

    Examples:
        >>> fig = show_images(torch.rand(5, 3, 8, 8), titles=list("abcde"), ncols=4)
        >>> len(fig.axes)
        5
        >>> plt.close(fig)
    """
    check_positive_int(ncols, "ncols")
    items = _image_list(images)
    titles = _check_titles(titles, len(items))
    if not items:
        return plt.figure(figsize=figsize or (2, 1))
    fig, axes = _grid(len(items), ncols, figsize)
    for i, (ax, img) in enumerate(zip(axes, items)):
        _imshow(ax, img, cmap=cmap, mean=mean, std=std, rescale=rescale)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def show_clips(
    clips,
    titles: Sequence | None = None,
    max_frames: int = 8,
    *,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    rescale: bool | str = "auto",
) -> Figure:
    """Show video clips as frame strips: one row per clip, one column per frame.

    Args:
        clips: ``Tensor[C, T, H, W]`` (one clip), ``Tensor[N, C, T, H, W]`` or a list
            of ``Tensor[C, T, H, W]`` (the layout of ``ActionClips`` and 3D convolutions).
        titles: one title per clip (shown on the first frame), or None.
        max_frames: show at most this many frames, evenly spaced over T.
        mean, std, rescale: see :func:`to_display`.

    Returns:
        The Figure, with ``N * min(T, max_frames)`` axes.

    Examples:
        >>> fig = show_clips(torch.rand(2, 3, 4, 8, 8))
        >>> len(fig.axes)
        8
        >>> plt.close(fig)
    """
    check_positive_int(max_frames, "max_frames")
    if isinstance(clips, (torch.Tensor, np.ndarray)):
        if clips.ndim not in (4, 5):
            raise ValueError(f"clips must have shape [C, T, H, W] or [N, C, T, H, W], got {list(clips.shape)}")
        items = [clips] if clips.ndim == 4 else list(clips)
    elif isinstance(clips, (list, tuple)):
        items = list(clips)
    else:
        raise TypeError(f"clips must be a Tensor, ndarray or list of clips, got {type(clips).__name__}")
    titles = _check_titles(titles, len(items))
    if not items:
        return plt.figure(figsize=(2, 1))
    tensors = [_as_tensor(c, "clip") for c in items]
    for c in tensors:
        if c.ndim != 4:
            raise ValueError(f"each clip must have shape [C, T, H, W], got {list(c.shape)}")
    t = tensors[0].shape[1]
    frame_ids = np.linspace(0, t - 1, num=min(t, max_frames)).round().astype(int) if t > 0 else []
    ncols = max(1, len(frame_ids))
    fig, axes = _grid(len(tensors) * ncols, ncols, None, panel=1.2)
    for row, clip in enumerate(tensors):
        if clip.shape[1] != t:
            raise ValueError(f"all clips must have the same number of frames, got {t} and {clip.shape[1]}")
        for col, f in enumerate(frame_ids):
            ax = axes[row * ncols + col]
            _imshow(ax, clip[:, f], mean=mean, std=std, rescale=rescale)
            ax.set_xlabel(f"t={f}", fontsize=7)
            if col == 0 and titles is not None:
                ax.set_title(titles[row], fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def show_filters(weight: torch.Tensor, ncols: int = 8, *, channel: int | None = None, max_filters: int = 64) -> Figure:
    """Show the kernels of a convolution layer, each min-max rescaled on its own.

    Args:
        weight: ``Tensor[O, I, kh, kw]``, e.g. ``conv.weight``.
        ncols: filters per row.
        channel: which input channel to show in gray. Default: RGB when I == 3,
            otherwise channel 0.
        max_filters: show at most the first this many filters.

    Returns:
        The Figure, with ``min(O, max_filters)`` axes.

    Examples:
        >>> fig = show_filters(torch.randn(6, 3, 5, 5))
        >>> len(fig.axes)
        6
        >>> plt.close(fig)
    """
    check_tensor(weight, "weight", ndim=4, floating=True)
    check_positive_int(max_filters, "max_filters")
    w = weight.detach().cpu()[:max_filters]
    if channel is None and w.shape[1] == 3:
        items = list(w)  # O images [3, kh, kw]
    else:
        c = 0 if channel is None else channel
        if not 0 <= c < w.shape[1]:
            raise ValueError(f"channel must be in [0, {w.shape[1] - 1}], got {c}")
        items = list(w[:, c])  # O images [kh, kw]
    fig = show_images(items, ncols=ncols, rescale=True, figsize=None)
    return fig
