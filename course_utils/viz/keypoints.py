"""Keypoints with skeleton edges, and keypoint heatmaps (pixel-index coordinates)."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_utils.checks import check_tensor
from course_utils.viz.core import _as_tensor, _grid, _imshow, class_color

__all__ = ["draw_keypoints", "show_heatmaps"]


def draw_keypoints(
    ax: Axes,
    keypoints,
    skeleton: Sequence[tuple[int, int]] | None = None,
    names: Sequence[str] | None = None,
    *,
    color=None,
    markersize: float = 20.0,
    linewidth: float = 2.0,
    fontsize: float = 6.0,
) -> list:
    """Draw keypoints (and the skeleton edges between visible ones) into ``ax``.

    Args:
        ax: the axes, typically already showing the image.
        keypoints: ``Tensor[K, 3]`` ``(x, y, visible)`` pixels, ``Tensor[K, 2]`` (all
            visible), or ``Tensor[P, K, 3]`` for P people.
        skeleton: pairs ``(i, j)`` of keypoint indices joined by a line; an edge is
            drawn only when both ends are visible (``visible > 0``).
        names: K keypoint names written next to visible points, or None.
        color: one colour for everything; default colours edge e with ``class_color(e)``.

    Returns:
        The artists added: one ``Line2D`` per drawn edge, then one scatter collection
        per person, then the name texts.

    Examples:
        >>> fig, ax = plt.subplots()
        >>> kp = torch.tensor([[1.0, 1.0, 1.0], [5.0, 5.0, 1.0], [9.0, 1.0, 0.0]])
        >>> len(draw_keypoints(ax, kp, skeleton=[(0, 1), (1, 2)]))  # edge (1, 2) hidden
        2
        >>> plt.close(fig)
    """
    kp = _as_tensor(keypoints, "keypoints").float()
    if kp.ndim == 2:
        kp = kp[None]  # [1, K, D]
    if kp.ndim != 3 or kp.shape[-1] not in (2, 3):
        raise ValueError(f"keypoints must have shape [K, 3], [K, 2] or [P, K, 3], got {list(kp.shape)}")
    if kp.shape[-1] == 2:
        kp = torch.cat([kp, kp.new_ones(kp.shape[:-1] + (1,))], dim=-1)  # [P, K, 3]
    num_kp = kp.shape[1]
    if names is not None and len(names) != num_kp:
        raise ValueError(f"names must have one entry per keypoint ({num_kp}), got {len(names)}")
    edges = [tuple(int(v) for v in e) for e in (skeleton or [])]
    for i, j in edges:
        if not (0 <= i < num_kp and 0 <= j < num_kp):
            raise ValueError(f"skeleton edge ({i}, {j}) refers to a keypoint outside [0, {num_kp - 1}]")
    lines, dots, texts = [], [], []
    for person in kp:
        vis = person[:, 2] > 0
        for e, (i, j) in enumerate(edges):
            if vis[i] and vis[j]:
                (line,) = ax.plot(
                    [float(person[i, 0]), float(person[j, 0])], [float(person[i, 1]), float(person[j, 1])],
                    color=color if color is not None else class_color(e), linewidth=linewidth,
                )
                lines.append(line)
        pts = person[vis]
        dots.append(ax.scatter(pts[:, 0].numpy(), pts[:, 1].numpy(), s=markersize,
                               c=[color if color is not None else "white"], edgecolors="black", linewidths=0.8,
                               zorder=3))
        if names is not None:
            for k in torch.nonzero(vis).flatten().tolist():
                texts.append(ax.text(float(person[k, 0]) + 1, float(person[k, 1]), str(names[k]),
                                     fontsize=fontsize, color="yellow"))
    return lines + dots + texts


def show_heatmaps(
    heatmaps,
    image=None,
    names: Sequence[str] | None = None,
    *,
    ncols: int = 6,
    alpha: float = 0.6,
    combined: bool = False,
    cmap: str = "magma",
) -> Figure:
    """Show one heatmap per keypoint, over the image if one is given.

    Heatmaps may be smaller than the image by an integer stride ``s = W // W'``; heatmap
    cell (i, j) is drawn over image pixels ``[j s, (j + 1) s)``, so that a keypoint and
    the peak of its map line up (pixel-index convention, see the module docstring).

    Args:
        heatmaps: ``Tensor[K, H', W']``.
        image: ``Tensor[3, H, W]`` to show underneath, or None.
        names: K titles, or None.
        ncols: panels per row.
        alpha: opacity of the heatmaps over the image.
        combined: add a last panel with the maximum over all K heatmaps.

    Returns:
        The Figure with K axes (K + 1 with ``combined``).

    Examples:
        >>> fig = show_heatmaps(torch.rand(4, 8, 8), combined=True)
        >>> len(fig.axes)
        5
        >>> plt.close(fig)
    """
    h = _as_tensor(heatmaps, "heatmaps").float()
    check_tensor(h, "heatmaps", ndim=3)
    if names is not None and len(names) != h.shape[0]:
        raise ValueError(f"names must have one entry per heatmap ({h.shape[0]}), got {len(names)}")
    maps = list(h) + ([h.amax(dim=0)] if combined and h.shape[0] > 0 else [])
    titles = (list(names) if names is not None else [str(k) for k in range(h.shape[0])]) + (
        ["all (max)"] if len(maps) > h.shape[0] else []
    )
    if not maps:
        return plt.figure(figsize=(2, 1))
    fig, axes = _grid(len(maps), ncols, None)
    for ax, m, title in zip(axes, maps, titles):
        if image is not None:
            _, (H, W) = _imshow(ax, image)
            sy, sx = max(1, H // m.shape[0]), max(1, W // m.shape[1])  # heatmap stride
            extent = (-0.5, m.shape[1] * sx - 0.5, m.shape[0] * sy - 0.5, -0.5)  # cell -> its s x s pixels
            ax.imshow(m.numpy(), cmap=cmap, alpha=alpha, extent=extent, interpolation="bilinear")
        else:
            ax.imshow(m.numpy(), cmap=cmap, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig
