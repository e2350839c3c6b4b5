"""Occlusion sensitivity (Zeiler and Fergus, 2014): hide a square of the image, watch the class probability.

Slide a ``patch x patch`` square over the image with a given ``stride``; at each
position, paint the square with a constant ``fill`` (in every channel) and record the
probability the model gives to the class of interest. Where hiding the square makes
the probability fall, the model was using that part of the image.

Positions: the square's top-left corner visits rows ``0, stride, 2 stride, ...`` as
long as the whole square fits inside the image, so the map has
``(H - patch) // stride + 1`` rows and ``(W - patch) // stride + 1`` columns; entry
``[i, j]`` belongs to the square whose top-left pixel is ``(i * stride, j * stride)``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.checks import check_nonnegative_int, check_positive_int, check_tensor
from course_utils.references import not_an_answer, reference_of

__all__ = ["occlusion_map", "occlusion_grid", "upsample_occlusion"]

CHUNK = 256  # occluded copies per forward pass


def _check_occlusion(model, image: Tensor, label: int, patch: int, stride: int) -> tuple[int, int]:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    check_tensor(image, "image", ndim=3, floating=True)
    check_nonnegative_int(label, "label")
    check_positive_int(patch, "patch")
    check_positive_int(stride, "stride")
    height, width = image.shape[1:]
    if patch > height or patch > width:
        raise ValueError(f"patch ({patch}) must fit in the {height} x {width} image")
    return occlusion_grid(height, width, patch, stride)


def occlusion_grid(height: int, width: int, patch: int, stride: int) -> tuple[int, int]:
    """Rows and columns of an occlusion map: ``((H - patch) // stride + 1, (W - patch) // stride + 1)``.

    Examples:
        >>> occlusion_grid(32, 24, 8, 4)
        (7, 5)
    """
    return (height - patch) // stride + 1, (width - patch) // stride + 1


@not_an_answer("10_visualization/occlusion_map", why="the twin's batched forward pass, forbidden so that a copy of the twin is caught")
def _class_probability(model: nn.Module, images: Tensor, label: int) -> Tensor:
    """Softmax probability of ``label`` for a batch [B, C, H, W], in chunks: Tensor[B]."""
    out = [F.softmax(model(images[i:i + CHUNK]), dim=1)[:, label] for i in range(0, len(images), CHUNK)]
    return torch.cat(out)


def _occlusion_map_twin(model, image, label, patch, stride, fill=0.0):
    rows, cols = _check_occlusion(model, image, label, patch, stride)
    height, width = image.shape[1:]
    tops = torch.arange(rows, device=image.device) * stride  # [rows]
    lefts = torch.arange(cols, device=image.device) * stride  # [cols]
    r = torch.arange(height, device=image.device)
    c = torch.arange(width, device=image.device)
    in_rows = (r[None, :] >= tops[:, None]) & (r[None, :] < tops[:, None] + patch)  # [rows, H]
    in_cols = (c[None, :] >= lefts[:, None]) & (c[None, :] < lefts[:, None] + patch)  # [cols, W]
    hidden = in_rows[:, None, :, None] & in_cols[None, :, None, :]  # [rows, cols, H, W]
    hidden = hidden.reshape(rows * cols, 1, height, width)  # one mask per position
    copies = torch.where(hidden, torch.full_like(image, fill)[None], image[None])  # [rows*cols, C, H, W]
    with torch.no_grad():
        return _class_probability(model, copies, label).reshape(rows, cols)


@reference_of("10_visualization/occlusion_map", twin=_occlusion_map_twin)
def occlusion_map(model: nn.Module, image: Tensor, label: int, patch: int, stride: int,
                  fill: float = 0.0) -> Tensor:
    """The probability of class ``label`` with a ``patch x patch`` square of ``image`` painted ``fill``.

    Args:
        model: a classifier (logits ``Tensor[B, K]``), already in eval mode; used under no_grad.
        image: Tensor[C, H, W] float.
        label: the class whose probability is recorded.
        patch: side of the square, at most ``min(H, W)``.
        stride: step between neighbouring positions of the square.
        fill: the value painted into every channel of the square.

    Returns:
        Tensor[rows, cols] (see the module docstring for the grid): the softmax
        probability of ``label`` for each occluded copy, with the dtype of the model's output.

    Examples:
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(4, 2, bias=False))
        >>> _ = net[1].weight.data.copy_(torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]))
        >>> (1000 * occlusion_map(net, torch.ones(1, 2, 2), label=0, patch=1, stride=1)).round().tolist()
        [[500.0, 731.0], [731.0, 731.0]]
    """
    rows, cols = _check_occlusion(model, image, label, patch, stride)
    copies = []
    for i in range(rows):
        for j in range(cols):
            top, left = i * stride, j * stride
            copy = image.clone()
            copy[:, top:top + patch, left:left + patch] = fill  # hide one square, in every channel
            copies.append(copy)
    with torch.no_grad():
        probabilities = _class_probability(model, torch.stack(copies), label)  # [rows * cols]
    return probabilities.reshape(rows, cols)


def upsample_occlusion(values: Tensor, height: int, width: int, patch: int, stride: int) -> Tensor:
    """Spread an occlusion map back over the image: each pixel gets the mean of the entries whose square covers it.

    Args:
        values: Tensor[rows, cols] (e.g. the probability *drop* ``p(image) - occlusion_map(...)``).
        height, width, patch, stride: as for :func:`occlusion_map`.

    Returns:
        Tensor[height, width]; pixels that no square covers (when the stride leaves a margin) are 0.

    Examples:
        >>> upsample_occlusion(torch.tensor([[1.0, 3.0]]), 2, 3, 2, 1).tolist()
        [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    """
    check_tensor(values, "values", ndim=2, floating=True)
    rows, cols = occlusion_grid(height, width, patch, stride)
    if tuple(values.shape) != (rows, cols):
        raise ValueError(f"values must have shape [{rows}, {cols}] for these sizes, got {list(values.shape)}")
    total = values.new_zeros(height, width)
    count = values.new_zeros(height, width)
    for i in range(rows):
        for j in range(cols):
            total[i * stride:i * stride + patch, j * stride:j * stride + patch] += values[i, j]
            count[i * stride:i * stride + patch, j * stride:j * stride + patch] += 1
    return torch.where(count > 0, total / count.clamp_min(1), total)
