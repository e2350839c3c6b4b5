"""Shared pieces of the plots: the class palette, turning tensors into displayable images, grids."""
from __future__ import annotations

import math
from typing import Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_utils.checks import check_in, check_tensor

__all__ = ["class_color", "class_colors", "denormalize", "to_display"]

# tab10 first (the most distinct colours), then the light halves of tab20.
_PALETTE: tuple[tuple[float, float, float], ...] = tuple(
    tuple(c) for c in list(matplotlib.colormaps["tab10"].colors) + list(matplotlib.colormaps["tab20"].colors[1::2])
)
_PANEL_INCHES = 1.6  # side of one small image panel in a grid
_EPS = 1e-6  # tolerance when deciding whether values already lie in [0, 1]



def class_color(index: int) -> tuple[float, float, float]:
    """The RGB colour (floats in [0, 1]) used for class or instance ``index``.

    Examples:
        >>> class_color(0) == class_color(20)
        True
        >>> len(class_color(3))
        3
    """
    return _PALETTE[int(index) % len(_PALETTE)]


def class_colors(n: int) -> list[tuple[float, float, float]]:
    """The first ``n`` colours of the palette, ``class_color(0) ... class_color(n - 1)``."""
    return [class_color(i) for i in range(n)]


def _as_tensor(x, name: str) -> torch.Tensor:
    """A CPU tensor from a tensor, NumPy array or nested sequence (no copy when possible)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu()
    if isinstance(x, (np.ndarray, list, tuple)):
        return torch.as_tensor(np.asarray(x))
    raise TypeError(f"{name} must be a torch.Tensor or numpy.ndarray, got {type(x).__name__}")


def denormalize(
    image: torch.Tensor, mean: Sequence[float], std: Sequence[float]
) -> torch.Tensor:
    """Undo ``transforms.Normalize(mean, std)``: ``image * std + mean`` per channel.

    Args:
        image: ``Tensor[..., C, H, W]`` (any leading batch dimensions).
        mean: C per-channel means (or one value for all channels).
        std: C per-channel standard deviations (or one value).

    Returns:
        ``Tensor`` of the same shape, dtype and device as ``image``.

    Examples:
        >>> denormalize(torch.zeros(3, 2, 2), mean=[0.5, 0.5, 0.5], std=[0.2, 0.2, 0.2])[0, 0, 0].item()
        0.5
    """
    check_tensor(image, "image", floating=True)
    if image.ndim < 3:
        raise ValueError(f"image must have shape [..., C, H, W], got {list(image.shape)}")
    mean_t = torch.as_tensor(mean, dtype=image.dtype, device=image.device).reshape(-1, 1, 1)  # [C, 1, 1]
    std_t = torch.as_tensor(std, dtype=image.dtype, device=image.device).reshape(-1, 1, 1)  # [C, 1, 1]
    channels = image.shape[-3]
    for name, t in (("mean", mean_t), ("std", std_t)):
        if t.shape[0] not in (1, channels):
            raise ValueError(f"{name} must have 1 or {channels} values (one per channel), got {t.shape[0]}")
    return image * std_t + mean_t


def to_display(
    image,
    *,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    rescale: bool | str = "auto",
) -> np.ndarray:
    """Turn one image into a NumPy array that ``imshow`` shows correctly.

    Args:
        image: ``Tensor[C, H, W]`` with C in (1, 3, 4), ``Tensor[H, W]``, or a NumPy
            array ``[H, W, C]`` (preferred when the last dimension is 1, 3 or 4),
            ``[C, H, W]`` or ``[H, W]``. ``uint8`` is divided by 255.
        mean, std: if given, undo this normalization first (see :func:`denormalize`).
        rescale: ``"auto"`` min-max rescales only when values leave ``[0, 1]``;
            ``True`` always rescales (e.g. filters, feature maps); ``False`` clips to ``[0, 1]``.

    Returns:
        ``ndarray[H, W]`` (grayscale) or ``ndarray[H, W, C]`` float32 in ``[0, 1]``.

    Examples:
        >>> to_display(torch.rand(3, 4, 5)).shape
        (4, 5, 3)
        >>> float(to_display(torch.tensor([[-2.0, 2.0]])).max())
        1.0
    """
    check_in(rescale, "rescale", ("auto", True, False))
    is_numpy = isinstance(image, np.ndarray)
    x = _as_tensor(image, "image")
    if x.dtype == torch.uint8:
        x = x.float() / 255.0
    x = x.float()
    if x.ndim == 3:
        # Tensors are [C, H, W] (PyTorch); arrays are [H, W, C] (NumPy, PIL) unless only
        # the first dimension can be a channel count.
        channels_last = is_numpy and x.shape[-1] in (1, 3, 4) and not (x.shape[0] in (1, 3, 4) and x.shape[-1] > 4)
        if channels_last:
            x = x.permute(2, 0, 1)  # [H, W, C] -> [C, H, W]
        if x.shape[0] not in (1, 3, 4):
            raise ValueError(f"image must have 1, 3 or 4 channels in [C, H, W], got shape {list(x.shape)}")
        if mean is not None or std is not None:
            x = denormalize(x, mean if mean is not None else [0.0], std if std is not None else [1.0])
        x = x[0] if x.shape[0] == 1 else x.permute(1, 2, 0)  # [H, W] or [H, W, C]
    elif x.ndim == 2:
        if mean is not None or std is not None:
            x = denormalize(x[None], mean if mean is not None else [0.0], std if std is not None else [1.0])[0]
    else:
        raise ValueError(f"image must have shape [C, H, W] or [H, W], got {list(x.shape)}")
    if x.numel() > 0:
        lo, hi = x.min(), x.max()
        outside = bool(lo < -_EPS) or bool(hi > 1 + _EPS)
        if rescale is True or (rescale == "auto" and outside):
            x = (x - lo) / (hi - lo).clamp_min(1e-12)
        else:
            x = x.clamp(0.0, 1.0)
    return x.numpy().astype(np.float32)


def _image_list(images, name: str = "images") -> list:
    """Split a batch (Tensor/ndarray [N, ...]) or a list into a list of single images."""
    if isinstance(images, (torch.Tensor, np.ndarray)):
        if images.ndim not in (3, 4):
            raise ValueError(
                f"{name} must have shape [N, C, H, W] or [N, H, W] (or be a list of images), got {list(images.shape)}"
            )
        return [images[i] for i in range(images.shape[0])]
    if isinstance(images, (list, tuple)):
        return list(images)
    raise TypeError(f"{name} must be a Tensor, ndarray or list of images, got {type(images).__name__}")


def _grid(n: int, ncols: int, figsize, panel: float = _PANEL_INCHES) -> tuple[Figure, list[Axes]]:
    """A figure with ``n`` axes laid out on ``ncols`` columns (unused cells removed)."""
    ncols = max(1, min(ncols, n))
    nrows = max(1, math.ceil(n / ncols))
    if figsize is None:
        figsize = (panel * ncols, panel * nrows + 0.3)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        fig.delaxes(ax)
    return fig, flat[:n]


def _imshow(ax: Axes, image, cmap=None, pixel_edges: bool = False, **display_kwargs):
    """Show one image; ``pixel_edges`` puts pixel c on [c, c + 1) (the box convention)."""
    arr = to_display(image, **display_kwargs)
    h, w = arr.shape[:2]
    extent = (0, w, h, 0) if pixel_edges else None
    if arr.ndim == 2:
        artist = ax.imshow(arr, cmap=cmap or "gray", vmin=0.0, vmax=1.0, interpolation="nearest", extent=extent)
    else:
        artist = ax.imshow(arr, interpolation="nearest", extent=extent)
    ax.set_xticks([])
    ax.set_yticks([])
    return artist, arr.shape[:2]


def _check_titles(titles, n: int) -> list[str] | None:
    if titles is None:
        return None
    titles = list(titles)
    if len(titles) != n:
        raise ValueError(f"titles must have one entry per image ({n}), got {len(titles)}")
    return [str(t) for t in titles]


def _class_name(label: int, class_names: Sequence[str] | None) -> str:
    if class_names is None:
        return str(label)
    if not 0 <= label < len(class_names):
        raise ValueError(f"label {label} is out of range for class_names of length {len(class_names)}")
    return str(class_names[label])
