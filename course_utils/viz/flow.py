"""Optical flow as colour and as arrows over frames; 3D convolution filters as tiny clips.

Flow fields are ``Tensor[2, H, W]`` with ``(u, v)`` in pixels, ``u`` to the right and ``v``
down (the convention of :mod:`course_utils.ops.flow`). Arrows are drawn in the image's own
coordinates (pixel centres at integers, ``imshow``'s default), so an arrow points where the
pixel goes. In colour, the hue gives the direction and the brightness the speed
(:func:`flow_to_color`, legend by :func:`color_wheel`).
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import hsv_to_rgb
from matplotlib.figure import Figure

from course_utils.checks import check_positive_int, check_tensor
from course_utils.viz.core import _check_titles, _imshow

__all__ = ["flow_to_color", "color_wheel", "draw_flow", "show_flow", "show_filters3d"]


def _check_flow(flow) -> torch.Tensor:
    check_tensor(flow, "flow", ndim=3, floating=True)
    if flow.shape[0] != 2:
        raise ValueError(f"flow must have shape [2, H, W] (u, v), got {list(flow.shape)}")
    return flow.detach().cpu().to(torch.float64)


def flow_to_color(flow: torch.Tensor, max_magnitude: float | None = None) -> np.ndarray:
    """Colour image of a flow field: hue = direction, brightness = speed (black = still).

    Directions (on screen, y down): right is red, down is yellow-green, left is cyan,
    up is purple (hue = angle / 360 degrees, measured from the x axis towards y).

    Args:
        flow: Tensor[2, H, W].
        max_magnitude: the speed shown at full brightness (default: the largest in ``flow``).

    Returns:
        np.ndarray[H, W, 3] float in [0, 1].

    Examples:
        >>> rgb = flow_to_color(torch.tensor([[[1.0, 0.0]], [[0.0, 0.0]]]))  # one pixel moves right
        >>> rgb.shape, rgb[0, 0].round(2).tolist(), rgb[0, 1].tolist()
        ((1, 2, 3), [1.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    """
    f = _check_flow(flow)
    u, v = f[0].numpy(), f[1].numpy()
    magnitude = np.hypot(u, v)
    top = float(magnitude.max()) if max_magnitude is None else float(max_magnitude)
    if not top > 0:
        return np.zeros((*u.shape, 3))
    hue = (np.arctan2(v, u) / (2 * np.pi)) % 1.0
    value = np.clip(magnitude / top, 0.0, 1.0)
    return hsv_to_rgb(np.stack([hue, np.ones_like(hue), value], axis=-1))


def color_wheel(size: int = 65) -> np.ndarray:
    """The legend of :func:`flow_to_color`: every flow in the unit disk, coloured (np.ndarray[size, size, 3]).

    Examples:
        >>> color_wheel(5).shape
        (5, 5, 3)
    """
    check_positive_int(size, "size")
    coords = np.linspace(-1.0, 1.0, size)
    u, v = np.meshgrid(coords, coords)  # v grows downwards, like the image's rows
    inside = np.hypot(u, v) <= 1.0
    rgb = flow_to_color(torch.from_numpy(np.stack([u * inside, v * inside])), max_magnitude=1.0)
    rgb[~inside] = 1.0  # white outside the disk
    return rgb


def draw_flow(ax: Axes, flow: torch.Tensor, step: int = 2, scale: float = 1.0, color="yellow",
              min_magnitude: float = 0.0, width: float = 0.004):
    """Draw flow arrows on ``ax`` (over an image shown with ``imshow``), one every ``step`` pixels.

    An arrow starts at a pixel centre and ends where the pixel moves, times ``scale``.
    Arrows shorter than ``min_magnitude`` pixels are left out. Returns the ``Quiver``.
    """
    f = _check_flow(flow)
    check_positive_int(step, "step")
    _, height, width_px = f.shape
    rows = np.arange(step // 2, height, step)
    cols = np.arange(step // 2, width_px, step)
    x, y = np.meshgrid(cols, rows)  # pixel centres in imshow coordinates
    u, v = f[0].numpy()[y, x], f[1].numpy()[y, x]
    keep = np.hypot(u, v) >= min_magnitude
    # angles="xy" and scale_units="xy": arrows live in data coordinates, so a y axis pointing
    # down (imshow) draws v > 0 downwards, as it should.
    return ax.quiver(x[keep], y[keep], u[keep] * scale, v[keep] * scale, color=color, angles="xy",
                     scale_units="xy", scale=1.0, width=width, headwidth=4, headlength=4, headaxislength=3.5)


def show_flow(frames, flows: torch.Tensor, titles: Sequence | None = None, *, step: int = 2, scale: float = 1.0,
              min_magnitude: float = 0.05, color_row: bool = True) -> Figure:
    """Frames with their flow arrows (top row) and, optionally, the flow in colour (bottom row).

    Args:
        frames: Tensor[N, C, H, W] or [N, H, W] (the first frame of each pair), or a list.
        flows: Tensor[N, 2, H, W], one flow per frame.
        titles: N titles, or None.
        step, scale, min_magnitude: see :func:`draw_flow`.
        color_row: add a row with :func:`flow_to_color` (all panels on one brightness scale).

    Returns:
        The Figure, with N axes per row.

    Examples:
        >>> fig = show_flow(torch.rand(3, 3, 8, 8), torch.randn(3, 2, 8, 8))
        >>> len(fig.axes)
        6
        >>> plt.close(fig)
    """
    check_tensor(flows, "flows", ndim=4, floating=True)
    items = list(frames)
    n = len(items)
    if flows.shape[0] != n:
        raise ValueError(f"need one flow per frame: {n} frames but {flows.shape[0]} flows")
    titles = _check_titles(titles, n)
    rows = 2 if color_row else 1
    fig, axes = plt.subplots(rows, max(n, 1), figsize=(2.1 * max(n, 1), 2.1 * rows + 0.2), squeeze=False)
    top = float(flows.detach().norm(dim=1).max()) if n else 1.0
    for i in range(n):
        _imshow(axes[0, i], items[i])
        draw_flow(axes[0, i], flows[i], step=step, scale=scale, min_magnitude=min_magnitude)
        if titles is not None:
            axes[0, i].set_title(titles[i], fontsize=8)
        if color_row:
            axes[1, i].imshow(flow_to_color(flows[i], max_magnitude=top), interpolation="nearest")
            axes[1, i].set_xticks([])
            axes[1, i].set_yticks([])
    fig.tight_layout()
    return fig


def show_filters3d(weight: torch.Tensor, max_filters: int = 8, *, channel: int | None = None,
                   title: str | None = None) -> Figure:
    """Show 3D convolution filters as tiny clips: one row per filter, one column per time step.

    Args:
        weight: ``Tensor[O, I, kt, kh, kw]`` (e.g. ``nn.Conv3d(...).weight``).
        max_filters: show the first this many filters.
        channel: the input channel to show in grey; default RGB when ``I == 3``, else channel 0.
        title: a title above the filters (default: how many filters and time steps are shown).

    Each filter is min-max rescaled over all its time steps together, so the frames of one
    filter are comparable (a filter that changes from frame to frame responds to motion).

    Returns:
        The Figure, with ``min(O, max_filters) * kt`` axes.

    Examples:
        >>> fig = show_filters3d(torch.randn(4, 3, 3, 5, 5))
        >>> len(fig.axes)
        12
        >>> plt.close(fig)
    """
    check_tensor(weight, "weight", ndim=5, floating=True)
    check_positive_int(max_filters, "max_filters")
    w = weight.detach().cpu().to(torch.float64)[:max_filters]  # [O, I, kt, kh, kw]
    if channel is None and w.shape[1] == 3:
        clips = w
    else:
        c = 0 if channel is None else channel
        if not 0 <= c < w.shape[1]:
            raise ValueError(f"channel must be in [0, {w.shape[1] - 1}], got {c}")
        clips = w[:, c:c + 1]
    lo = clips.amin(dim=(1, 2, 3, 4), keepdim=True)
    hi = clips.amax(dim=(1, 2, 3, 4), keepdim=True)
    clips = (clips - lo) / (hi - lo).clamp_min(1e-12)  # each filter to [0, 1] over all its frames
    n, kt = clips.shape[0], clips.shape[2]
    fig, axes = plt.subplots(n, kt, figsize=(0.9 * kt + 1.2, 0.9 * n + 0.8), squeeze=False)
    for i in range(n):
        for t in range(kt):
            frame = clips[i, :, t]  # [C, kh, kw]
            _imshow(axes[i, t], frame if frame.shape[0] == 3 else frame[0], rescale=False)
            if i == 0:
                axes[i, t].set_title(f"t={t}", fontsize=8)
        axes[i, 0].set_ylabel(f"filter {i}", fontsize=7)
    fig.suptitle(title if title is not None else f"{n} filters x {kt} time steps", fontsize=9)
    fig.tight_layout()
    return fig
