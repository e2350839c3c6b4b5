"""Keypoint heatmaps: rendering, decoding (argmax, soft-argmax, sub-pixel refinement) and flips.

Conventions (those of :mod:`course_utils.data.figures`):

* **Pixel-index coordinates.** A keypoint ``(x, y)`` is in pixels with the *centre* of
  pixel (row ``r``, column ``c``) at ``(x, y) = (c, r)``. On a heatmap the same holds for
  cells: the functions here work in heatmap cells, and :func:`cells_to_pixels` maps a
  cell coordinate to the image when the heatmap has a stride (cell ``j`` looks at image
  pixel ``j * stride + (stride - 1) / 2``).
* **Heatmaps** are ``Tensor[..., K, H, W]``: any leading batch dimensions, one map per
  keypoint. Decoded keypoints are ``Tensor[..., K, 2]`` ``(x, y)``.
* **Horizontal flips** map ``x -> W - 1 - x`` and must swap every (left, right) pair of
  keypoints: after a flip the figure's left arm is where its right arm was.

Each teaching op comes twice: ``op_loop`` follows the formula one keypoint (or one cell)
at a time, ``op`` is vectorized; the tests compare both and the library versions.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import Tensor

from course_utils.checks import (
    check_finite,
    check_nonnegative_int,
    check_number,
    check_numel,
    check_positive_int,
    check_tensor,
)
from course_utils.references import reference_of

__all__ = [
    "gaussian_heatmaps",
    "gaussian_heatmaps_loop",
    "argmax_keypoints",
    "argmax_keypoints_loop",
    "soft_argmax",
    "soft_argmax_loop",
    "quarter_offset",
    "parabola_offset",
    "cells_to_pixels",
    "flip_index",
    "hflip_keypoints",
    "hflip_image_and_keypoints",
    "flip_heatmaps",
    "flip_test",
]


# --------------------------------------------------------------------------- checks


def _check_points(keypoints, name: str = "keypoints") -> Tensor:
    check_tensor(keypoints, name, ndim=2, floating=True)
    if keypoints.shape[1] < 2:
        raise ValueError(f"{name} must have shape [K, 2] (x, y) or [K, 3], got {list(keypoints.shape)}")
    return keypoints


def _check_maps(heatmaps, name: str = "heatmaps") -> Tensor:
    check_tensor(heatmaps, name, floating=True)
    if heatmaps.ndim < 3:
        raise ValueError(f"{name} must have shape [..., K, H, W], got {list(heatmaps.shape)}")
    return heatmaps


def _check_sigma(sigma) -> float:
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not sigma > 0 or math.isinf(sigma):
        raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}")
    return float(sigma)


def _check_render(keypoints, height: int, width: int, sigma) -> float:
    """The checks of the three heatmap renderers (the twin's: finite points, finite sigma, bounded size)."""
    _check_points(keypoints)
    check_finite(keypoints[:, :2], "keypoints")
    check_positive_int(height, "height")
    check_positive_int(width, "width")
    check_numel(len(keypoints) * height * width, "height", (len(keypoints), height, width))
    return _check_sigma(sigma)


def _check_beta(beta) -> None:
    """beta > 0, finite; checked but not converted (a 0-d tensor may carry a gradient)."""
    check_number(beta, "beta", low=0, low_open=True)


def _check_pairs(flip_pairs: Sequence[tuple[int, int]], num_keypoints: int) -> list[tuple[int, int]]:
    try:
        pairs = [(int(a), int(b)) for a, b in flip_pairs]
    except (TypeError, ValueError):
        raise TypeError(f"flip_pairs must be a list of (left, right) index pairs, got {flip_pairs!r}") from None
    seen = [k for pair in pairs for k in pair]
    if any(not 0 <= k < num_keypoints for k in seen) or len(set(seen)) != len(seen):
        raise ValueError(f"flip_pairs must be disjoint pairs of indices in [0, {num_keypoints - 1}], got {pairs}")
    return pairs


# --------------------------------------------------------------------------- rendering


def _gaussian_heatmaps_twin(keypoints: Tensor, height: int, width: int, sigma: float) -> Tensor:
    from course_utils.data.figures import render_heatmaps

    _check_points(keypoints)
    check_positive_int(height, "height")
    check_positive_int(width, "width")
    sigma = _check_sigma(sigma)
    points = torch.cat([keypoints[:, :2], keypoints.new_ones(len(keypoints), 1)], dim=1)  # [K, 3], all labelled
    return render_heatmaps(points, (height, width), sigma=sigma, stride=1, include_occluded=True)


@reference_of("09_pose/gaussian_heatmaps", twin=_gaussian_heatmaps_twin)
def gaussian_heatmaps_loop(keypoints: Tensor, height: int, width: int, sigma: float) -> Tensor:
    """Loop reference of :func:`gaussian_heatmaps`: one keypoint, then one pixel, at a time."""
    sigma = _check_render(keypoints, height, width, sigma)
    maps = keypoints.new_zeros(len(keypoints), height, width)
    for k, (x, y) in enumerate(keypoints[:, :2].tolist()):
        for row in range(height):
            for col in range(width):
                squared = (col - x) ** 2 + (row - y) ** 2
                maps[k, row, col] = math.exp(-squared / (2 * sigma**2))
    return maps


@reference_of("09_pose/gaussian_heatmaps", twin=_gaussian_heatmaps_twin)
def gaussian_heatmaps(keypoints: Tensor, height: int, width: int, sigma: float) -> Tensor:
    """One Gaussian heatmap per keypoint, peak 1 at the keypoint.

    ``map[k, r, c] = exp(-((c - x_k)^2 + (r - y_k)^2) / (2 sigma^2))`` in pixel-index
    coordinates. The Gaussian is separable: a row profile times a column profile.

    Args:
        keypoints: Tensor[K, 2] (or [K, 3], the third column ignored) float ``(x, y)``.
        height, width: size of the maps.
        sigma: standard deviation in pixels (cells), > 0.

    Returns:
        Tensor[K, height, width] with the dtype and device of ``keypoints``.

    Examples:
        >>> maps = gaussian_heatmaps(torch.tensor([[2.0, 1.0]]), 3, 4, sigma=1.0)
        >>> maps.shape, float(maps[0, 1, 2]), round(float(maps[0, 1, 3]), 4)
        (torch.Size([1, 3, 4]), 1.0, 0.6065)
    """
    sigma = _check_render(keypoints, height, width, sigma)
    cols = torch.arange(width, dtype=keypoints.dtype, device=keypoints.device)  # [W]
    rows = torch.arange(height, dtype=keypoints.dtype, device=keypoints.device)  # [H]
    gx = torch.exp(-(cols - keypoints[:, 0:1]) ** 2 / (2 * sigma**2))  # [K, W]
    gy = torch.exp(-(rows - keypoints[:, 1:2]) ** 2 / (2 * sigma**2))  # [K, H]
    return gy[:, :, None] * gx[:, None, :]  # [K, H, W]


# --------------------------------------------------------------------------- decoding


def _argmax_keypoints_twin(heatmaps: Tensor) -> Tensor:
    _check_maps(heatmaps)
    *lead, height, width = heatmaps.shape
    if heatmaps.numel() == 0:
        return heatmaps.new_zeros(*lead, 2)
    flat = heatmaps.reshape(*lead, height * width).argmax(dim=-1)  # [..., K] first maximum
    row, col = torch.unravel_index(flat, (height, width))
    return torch.stack([col, row], dim=-1).to(heatmaps.dtype)  # [..., K, 2]


@reference_of("09_pose/decode_heatmaps", twin=_argmax_keypoints_twin)
def argmax_keypoints_loop(heatmaps: Tensor) -> Tensor:
    """Loop reference of :func:`argmax_keypoints`: scan each map cell by cell, keep the first maximum."""
    _check_maps(heatmaps)
    *lead, num_kp, height, width = heatmaps.shape
    flat = heatmaps.reshape(math.prod(lead) * num_kp, height, width)  # not -1: H or W may be 0
    out = heatmaps.new_zeros(flat.shape[0], 2)
    for m, hm in enumerate(flat.tolist()):
        best, best_rc = None, (0, 0)
        for r in range(height):
            for c in range(width):
                if best is None or hm[r][c] > best:  # strictly greater: ties keep the first cell
                    best, best_rc = hm[r][c], (r, c)
        out[m, 0], out[m, 1] = best_rc[1], best_rc[0]
    return out.reshape(*lead, num_kp, 2)


@reference_of("09_pose/decode_heatmaps", twin=_argmax_keypoints_twin)
def argmax_keypoints(heatmaps: Tensor) -> Tensor:
    """Keypoints at the largest cell of each heatmap (in cells, pixel-index convention).

    Args:
        heatmaps: Tensor[..., K, H, W] float.

    Returns:
        Tensor[..., K, 2] ``(x, y) = (column, row)`` of the maximum, with the dtype of
        ``heatmaps``; when several cells share the maximum, the first in row-major order
        (smallest row, then smallest column).

    Examples:
        >>> h = torch.zeros(1, 3, 4); h[0, 2, 1] = 5.0
        >>> argmax_keypoints(h)
        tensor([[1., 2.]])
    """
    _check_maps(heatmaps)
    *lead, height, width = heatmaps.shape
    if heatmaps.numel() == 0:
        return heatmaps.new_zeros(*lead, 2)
    index = heatmaps.reshape(*lead, height * width).argmax(dim=-1)  # [..., K] the first maximum
    row = torch.div(index, width, rounding_mode="floor")
    col = index - row * width
    return torch.stack([col, row], dim=-1).to(heatmaps.dtype)  # [..., K, 2]


def _soft_argmax_twin(heatmaps: Tensor, beta: float = 1.0) -> Tensor:
    _check_maps(heatmaps)
    _check_beta(beta)
    *lead, height, width = heatmaps.shape
    p = torch.softmax(beta * heatmaps.reshape(*lead, height * width), dim=-1).reshape(heatmaps.shape)
    xs = torch.arange(width, dtype=heatmaps.dtype, device=heatmaps.device)
    ys = torch.arange(height, dtype=heatmaps.dtype, device=heatmaps.device)
    return torch.stack([torch.einsum("...hw,w->...", p, xs), torch.einsum("...hw,h->...", p, ys)], dim=-1)


@reference_of("09_pose/decode_heatmaps", twin=_soft_argmax_twin)
def soft_argmax_loop(heatmaps: Tensor, beta: float = 1.0) -> Tensor:
    """Loop reference of :func:`soft_argmax`: one map at a time, weights from a stable softmax."""
    _check_maps(heatmaps)
    _check_beta(beta)
    *lead, num_kp, height, width = heatmaps.shape
    flat = heatmaps.reshape(math.prod(lead) * num_kp, height, width)  # not -1: H or W may be 0
    out = heatmaps.new_zeros(flat.shape[0], 2)
    for m in range(flat.shape[0]):
        if height * width == 0:
            continue  # no cell: (0, 0), as argmax_keypoints and the twin
        scores = beta * flat[m].double()
        weights = (scores - scores.max()).exp()
        weights = weights / weights.sum()
        x = sum(float(weights[r, c]) * c for r in range(height) for c in range(width))
        y = sum(float(weights[r, c]) * r for r in range(height) for c in range(width))
        out[m, 0], out[m, 1] = x, y
    return out.reshape(*lead, num_kp, 2)


@reference_of("09_pose/decode_heatmaps", twin=_soft_argmax_twin)
def soft_argmax(heatmaps: Tensor, beta: float = 1.0) -> Tensor:
    """Differentiable decoding: the expected cell under a softmax over each map.

    ``p = softmax(beta * map)`` over the ``H * W`` cells, then ``x = sum p * column`` and
    ``y = sum p * row``. The maximum is subtracted before ``exp`` so a large ``beta`` (or
    large logits) cannot overflow. With ``beta -> infinity`` this tends to the argmax (the
    mean of the tied maxima); with ``beta = 1`` on network logits it is the integral
    regression of Sun et al. (2018).

    Args:
        heatmaps: Tensor[..., K, H, W] float (heatmaps or logits).
        beta: inverse temperature, > 0.

    Returns:
        Tensor[..., K, 2] ``(x, y)`` in cells, with the dtype of ``heatmaps``.

    Examples:
        >>> h = torch.full((1, 1, 3), -1e9); h[0, 0, 0] = h[0, 0, 2] = 0.0  # two equal peaks
        >>> soft_argmax(h)
        tensor([[1., 0.]])
    """
    _check_maps(heatmaps)
    _check_beta(beta)
    *lead, height, width = heatmaps.shape
    if heatmaps.numel() == 0:  # no map, or maps without cells: (0, 0), as argmax_keypoints
        return heatmaps.new_zeros(*lead, 2)
    scores = beta * heatmaps.reshape(*lead, height * width)  # [..., K, H*W]
    weights = (scores - scores.amax(dim=-1, keepdim=True)).exp()  # largest weight exactly 1: no overflow
    weights = (weights / weights.sum(dim=-1, keepdim=True)).reshape(heatmaps.shape)  # [..., K, H, W]
    xs = torch.arange(width, dtype=heatmaps.dtype, device=heatmaps.device)  # [W]
    ys = torch.arange(height, dtype=heatmaps.dtype, device=heatmaps.device)  # [H]
    x = (weights.sum(dim=-2) * xs).sum(dim=-1)  # marginal over rows, then the mean column
    y = (weights.sum(dim=-1) * ys).sum(dim=-1)
    return torch.stack([x, y], dim=-1)  # [..., K, 2]


def _check_coords(coords, heatmaps: Tensor) -> None:
    check_tensor(coords, "coords", shape=(*heatmaps.shape[:-2], 2))
    if coords.is_complex() or coords.dtype == torch.bool:
        raise TypeError(f"coords must be a real tensor, got {str(coords.dtype).replace('torch.', '')}")


def _neighbours(heatmaps: Tensor, coords: Tensor) -> tuple[Tensor, ...]:
    """Values at the integer cell ``coords`` and at its left, right, upper and lower neighbours
    (the cell itself where a neighbour would leave the map), plus masks of interior cells."""
    *lead, height, width = heatmaps.shape
    flat = heatmaps.reshape(*lead, height * width)
    col, row = coords[..., 0].round().long(), coords[..., 1].round().long()

    def at(r: Tensor, c: Tensor) -> Tensor:
        r, c = r.clamp(0, height - 1), c.clamp(0, width - 1)
        return flat.gather(-1, (r * width + c)[..., None])[..., 0]

    inner_x = (col > 0) & (col < width - 1)
    inner_y = (row > 0) & (row < height - 1)
    return at(row, col), at(row, col - 1), at(row, col + 1), at(row - 1, col), at(row + 1, col), inner_x, inner_y


def quarter_offset(heatmaps: Tensor, coords: Tensor) -> Tensor:
    """The classic refinement: move a quarter cell towards the larger neighbour, along x and y.

    Used by the stacked-hourglass code and its successors (SimpleBaseline, HRNet): if the
    cell right of the maximum is larger than the cell left of it, add 0.25 to x, and so on.

    Args:
        heatmaps: Tensor[..., K, H, W].
        coords: Tensor[..., K, 2] integer cell coordinates (from :func:`argmax_keypoints`).

    Returns:
        Tensor[..., K, 2] refined coordinates (in cells); border cells move only inwards.

    Examples:
        >>> h = torch.tensor([[[0.0, 0.2, 1.0, 0.5]]])
        >>> quarter_offset(h, argmax_keypoints(h))
        tensor([[2.2500, 0.0000]])
    """
    _check_maps(heatmaps)
    _check_coords(coords, heatmaps)
    if heatmaps.numel() == 0:  # maps without cells: nothing to refine
        return coords.clone()
    _, left, right, up, down, inner_x, inner_y = _neighbours(heatmaps, coords)
    dx = 0.25 * torch.sign(right - left) * inner_x
    dy = 0.25 * torch.sign(down - up) * inner_y
    return coords + torch.stack([dx, dy], dim=-1).to(coords.dtype)


def parabola_offset(log_heatmaps: Tensor, coords: Tensor) -> Tensor:
    """Sub-pixel refinement by a parabola through the peak and its two neighbours, per axis.

    Give it the *logarithm* of Gaussian-like heatmaps, or the logits of a spatial softmax
    (which are log-probabilities up to a constant): the log of a Gaussian is exactly a
    parabola, so the vertex is the true centre. The offset is clamped to half a cell and
    skipped on the border or where the curvature is not negative.

    Args:
        log_heatmaps: Tensor[..., K, H, W] (log-heatmaps or logits).
        coords: Tensor[..., K, 2] integer cell coordinates of the maxima.

    Returns:
        Tensor[..., K, 2] refined coordinates in cells.

    Examples:
        >>> cols = torch.arange(5.0)
        >>> logs = (-(cols - 2.3) ** 2 / 2).reshape(1, 1, 5)
        >>> parabola_offset(logs, argmax_keypoints(logs)).round(decimals=4)
        tensor([[2.3000, 0.0000]])
    """
    _check_maps(log_heatmaps, "log_heatmaps")
    _check_coords(coords, log_heatmaps)
    if log_heatmaps.numel() == 0:  # maps without cells: nothing to refine
        return coords.clone()
    centre, left, right, up, down, inner_x, inner_y = _neighbours(log_heatmaps, coords)

    def vertex(before: Tensor, after: Tensor, inside: Tensor) -> Tensor:
        curvature = before - 2 * centre + after
        ok = inside & (curvature < 0)
        step = 0.5 * (before - after) / torch.where(ok, curvature, torch.ones_like(curvature))
        return torch.where(ok, step.clamp(-0.5, 0.5), torch.zeros_like(step))

    offset = torch.stack([vertex(left, right, inner_x), vertex(up, down, inner_y)], dim=-1)
    return coords + offset.to(coords.dtype)


def cells_to_pixels(coords: Tensor, stride: int) -> Tensor:
    """Heatmap-cell coordinates to image pixels: ``x * stride + (stride - 1) / 2``.

    Examples:
        >>> cells_to_pixels(torch.tensor([[0.0, 3.0]]), 4)
        tensor([[ 1.5000, 13.5000]])
    """
    check_tensor(coords, "coords", floating=True)
    check_positive_int(stride, "stride")
    return coords * stride + (stride - 1) / 2


# --------------------------------------------------------------------------- flips


def flip_index(num_keypoints: int, flip_pairs: Sequence[tuple[int, int]]) -> list[int]:
    """The permutation that swaps every (left, right) pair: ``flipped[k] = original[index[k]]``.

    Examples:
        >>> flip_index(5, [(1, 2), (3, 4)])
        [0, 2, 1, 4, 3]
    """
    check_nonnegative_int(num_keypoints, "num_keypoints")  # no keypoints: the empty permutation
    order = list(range(num_keypoints))
    for left, right in _check_pairs(flip_pairs, num_keypoints):
        order[left], order[right] = right, left
    return order


def _hflip_keypoints_twin(keypoints: Tensor, width: int, flip_pairs: Sequence[tuple[int, int]]) -> Tensor:
    from torchvision.transforms.v2 import functional as TF

    check_tensor(keypoints, "keypoints", floating=True)
    if keypoints.ndim < 2 or keypoints.shape[-1] < 2:
        raise ValueError(f"keypoints must have shape [..., K, D] with D >= 2, got {list(keypoints.shape)}")
    check_positive_int(width, "width")
    moved = TF.horizontal_flip_keypoints(keypoints[..., :2], canvas_size=(1, width))  # x -> W - 1 - x, no swap
    moved = moved + 0.0  # torchvision negates (x - (W - 1)), giving -0.0 at x = W - 1; the reference gives 0.0
    return torch.cat([moved, keypoints[..., 2:]], dim=-1)[..., flip_index(keypoints.shape[-2], flip_pairs), :]


@reference_of("09_pose/hflip", twin=_hflip_keypoints_twin)
def hflip_keypoints(keypoints: Tensor, width: int, flip_pairs: Sequence[tuple[int, int]]) -> Tensor:
    """Keypoints of the horizontally flipped image: ``x -> width - 1 - x``, pairs swapped.

    Args:
        keypoints: Tensor[..., K, D] with ``(x, y, ...)`` in pixel-index coordinates (the
            other columns, such as visibility, travel with their keypoint).
        width: image width W.
        flip_pairs: (left, right) index pairs.

    Returns:
        A new Tensor[..., K, D].

    Examples:
        >>> kp = torch.tensor([[1.0, 5.0, 1.0], [2.0, 6.0, 0.0]])
        >>> hflip_keypoints(kp, 10, [(0, 1)])
        tensor([[7., 6., 0.],
                [8., 5., 1.]])
    """
    check_tensor(keypoints, "keypoints", floating=True)
    if keypoints.ndim < 2 or keypoints.shape[-1] < 2:
        raise ValueError(f"keypoints must have shape [..., K, D] with D >= 2, got {list(keypoints.shape)}")
    check_positive_int(width, "width")
    flipped = keypoints[..., flip_index(keypoints.shape[-2], flip_pairs), :].clone()  # [..., K, D]
    flipped[..., 0] = width - 1 - flipped[..., 0]
    return flipped


def _hflip_image_and_keypoints_twin(image: Tensor, keypoints: Tensor, flip_pairs) -> tuple[Tensor, Tensor]:
    from torchvision import tv_tensors
    from torchvision.transforms.v2 import functional as TF

    check_tensor(image, "image", floating=True)
    check_tensor(keypoints, "keypoints", ndim=2, floating=True)
    if image.ndim < 2 or keypoints.shape[1] < 2:
        raise ValueError(f"image [C, H, W] and keypoints [K, 3] expected, got image {list(image.shape)} "
                         f"and keypoints {list(keypoints.shape)}")
    flip_pairs = _check_pairs(flip_pairs, len(keypoints))
    height, width = image.shape[-2:]
    points = tv_tensors.KeyPoints(keypoints[:, :2], canvas_size=(height, width))
    moved = TF.horizontal_flip(points).as_subclass(Tensor) + 0.0  # x -> W - 1 - x (+0.0: no -0.0); no swap
    flipped = torch.cat([moved, keypoints[:, 2:]], dim=1)
    order = list(range(len(keypoints)))
    for left, right in flip_pairs:
        order[left], order[right] = right, left
    return TF.horizontal_flip(image), flipped[order]


@reference_of("09_pose/hflip", twin=_hflip_image_and_keypoints_twin)
def hflip_image_and_keypoints(image: Tensor, keypoints: Tensor,
                              flip_pairs: Sequence[tuple[int, int]]) -> tuple[Tensor, Tensor]:
    """Flip an image left-right and move its keypoints along, swapping left and right.

    Args:
        image: Tensor[C, H, W].
        keypoints: Tensor[K, 3] ``(x, y, visible)`` in pixel-index coordinates.
        flip_pairs: (left, right) index pairs of keypoints that exchange names.

    Returns:
        ``(flipped_image, flipped_keypoints)``: the keypoint of the new image's "left
        wrist" is the old right wrist, mirrored (``x -> W - 1 - x``), with its visibility.

    Examples:
        >>> image, kp = torch.arange(6.0).view(1, 2, 3), torch.tensor([[0.0, 1.0, 1.0], [2.0, 0.0, 0.0]])
        >>> flipped_image, flipped_kp = hflip_image_and_keypoints(image, kp, [(0, 1)])
        >>> flipped_image[0, 0].tolist(), flipped_kp.tolist()
        ([2.0, 1.0, 0.0], [[0.0, 0.0, 0.0], [2.0, 1.0, 1.0]])
    """
    check_tensor(image, "image", floating=True)
    check_tensor(keypoints, "keypoints", ndim=2, floating=True)
    if image.ndim < 2 or keypoints.shape[1] < 2:
        raise ValueError(f"image [C, H, W] and keypoints [K, 3] expected, got image {list(image.shape)} "
                         f"and keypoints {list(keypoints.shape)}")
    flip_pairs = _check_pairs(flip_pairs, len(keypoints))
    width = image.shape[-1]
    flipped = keypoints.clone()
    flipped[:, 0] = width - 1 - keypoints[:, 0]  # mirror: pixel centres at 0 .. W-1
    for left, right in flip_pairs:  # the old right wrist is the new left wrist
        flipped[[left, right]] = flipped[[right, left]]
    return image.flip(-1), flipped


def flip_heatmaps(heatmaps: Tensor, flip_pairs: Sequence[tuple[int, int]]) -> Tensor:
    """Heatmaps of a flipped image brought back to the original: mirror each map, swap the pairs.

    With cell centres at ``j * stride + (stride - 1) / 2`` (this course's convention), cell
    ``j`` of a map of width ``W' = W / stride`` mirrors exactly onto cell ``W' - 1 - j``:
    no half-cell shift is needed (codes with other conventions shift the flipped map by
    one cell).

    Args:
        heatmaps: Tensor[..., K, H, W].
        flip_pairs: (left, right) index pairs.

    Returns:
        Tensor[..., K, H, W]; applying it twice gives the input back.

    Examples:
        >>> h = torch.zeros(2, 1, 3); h[0, 0, 0] = 1.0  # keypoint 0 at the left edge
        >>> flip_heatmaps(h, [(0, 1)])[1, 0].tolist()  # becomes keypoint 1 at the right edge
        [0.0, 0.0, 1.0]
    """
    _check_maps(heatmaps)
    return heatmaps.flip(-1)[..., flip_index(heatmaps.shape[-3], flip_pairs), :, :]


def flip_test(predict: Callable[[Tensor], Tensor], images: Tensor, flip_pairs: Sequence[tuple[int, int]],
              swap: bool = True) -> Tensor:
    """Flip test-time averaging: the mean of the heatmaps of the image and of its mirror image.

    Args:
        predict: images ``Tensor[B, C, H, W]`` -> heatmaps (or logits) ``Tensor[B, K, h, w]``.
        images: Tensor[B, C, H, W].
        flip_pairs: (left, right) index pairs.
        swap: swap the pairs of the mirrored prediction (``False`` shows the classic bug).

    Returns:
        Tensor[B, K, h, w], the average of ``predict(images)`` and the mirrored prediction
        brought back.

    Examples:
        >>> def predict(x): return x.mean(dim=1, keepdim=True).expand(-1, 2, -1, -1)  # 2 maps from the image
        >>> flip_test(predict, torch.rand(4, 3, 8, 8), [(0, 1)]).shape
        torch.Size([4, 2, 8, 8])
    """
    check_tensor(images, "images", ndim=4, floating=True)
    direct = predict(images)
    mirrored = predict(images.flip(-1))
    back = flip_heatmaps(mirrored, flip_pairs) if swap else mirrored.flip(-1)
    return (direct + back) / 2
