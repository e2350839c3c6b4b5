"""RoI pooling and RoI align: a fixed-size feature for every box of a feature map.

Boxes are xyxy absolute pixels of the *image* (see :mod:`course_utils.ops.boxes`);
``spatial_scale`` maps them onto the feature map (``1 / stride``: 1/16 for a
stride-16 backbone). On the feature map, like in the image, pixel ``(i, j)``
covers ``[j, j + 1] x [i, i + 1]``, so its centre is at ``(j + 0.5, i + 0.5)``.

* RoI pooling (Fast R-CNN) rounds the box to whole feature cells, cuts it into
  ``output_size`` bins on the integer grid and takes the max of each bin. The two
  roundings move the box by up to a cell: harmless for classification, bad for masks.
* RoI align (Mask R-CNN) rounds nothing: each bin is sampled at a regular grid
  of ``sampling_ratio x sampling_ratio`` points by bilinear interpolation, and the
  samples are averaged. ``sampling_ratio <= 0`` picks ``ceil(bin size)`` points per
  bin and axis, so the number of samples follows the size of each box.
  ``aligned=True`` shifts the box by half a pixel so that continuous coordinates
  line up with pixel centres; ``aligned=False`` is the original (Detectron) version,
  which also stretches boxes smaller than one cell to one cell.

Both match ``torchvision.ops.roi_pool`` / ``roi_align`` (same rounding, same
bilinear boundary rules). Each comes as a loop reference (``*_loop``, read it first)
and a vectorized version:

* ``roi_align``: bilinear interpolation is separable, so averaging the samples of a
  bin is ``Ay @ F @ Ax.T``, where ``Ay[ph]`` (length H) holds the summed vertical
  interpolation weights of the bin's sample rows and ``Ax[pw]`` (length W) the
  horizontal ones. Two matrix products per chunk of boxes replace millions of
  gathers; boxes are sorted by their top row and each chunk only reads the rows it
  needs. Adaptive sampling grids differ per box: they are padded to the largest one
  and the padding samples get weight 0.
* ``roi_pool``: the rows and columns of every bin are gathered (padded to the largest
  bin, masked with -inf), then a max over the bin's columns and rows.

Gradients flow to ``input`` (not to the boxes), as in torchvision.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor

from course_utils.checks import check_bool, check_finite, check_number, check_numel, check_positive_int, check_tensor

__all__ = ["roi_pool", "roi_pool_loop", "roi_align", "roi_align_loop", "rois_from_boxes"]

# Chunks of boxes are sized so that their largest intermediate tensor has about
# this many elements: big enough for efficient matrix products, small enough to
# stay in cache and to keep memory flat whatever the number of boxes.
_CHUNK_ELEMENTS = 1 << 21
# Box coordinates on the feature map (times spatial_scale) must stay within this bound: float32
# still counts whole cells exactly there, and index arithmetic cannot overflow. A box that far
# outside any feature map is a unit mistake (pixels given for cells, a wrong spatial_scale).
MAX_COORDINATE = float(2**24)
# Adaptive sampling (sampling_ratio <= 0) averages ceil(bin size) points per axis and bin; a box
# whose bins would need more points than this in total is refused rather than left to run for
# hours. A fixed sampling_ratio is at most MAX_SAMPLING_RATIO for the same reason.
MAX_SAMPLES_PER_BIN = 2**16
MAX_SAMPLING_RATIO = 2**8


# ------------------------------------------------------------------------- inputs


def rois_from_boxes(boxes: Tensor | Sequence[Tensor]) -> Tensor:
    """Turn boxes into the ``Tensor[K, 5]`` RoI format ``(batch_index, x1, y1, x2, y2)``.

    Args:
        boxes: already a Tensor[K, 5], or a list with one Tensor[L_i, 4] (xyxy) per image.

    Returns:
        Tensor[K, 5] (float), boxes of image 0 first.

    Examples:
        >>> rois_from_boxes([torch.tensor([[0., 0., 4., 4.]]), torch.tensor([[1., 1., 2., 2.]])])
        tensor([[0., 0., 0., 4., 4.],
                [1., 1., 1., 2., 2.]])
    """
    if isinstance(boxes, Tensor):
        return _check_real(check_tensor(boxes, "rois", shape=(None, 5)), "rois")
    if not isinstance(boxes, (list, tuple)):
        raise TypeError(f"rois must be a Tensor[K, 5] or a list of Tensor[L, 4], got {type(boxes).__name__}")
    for i, b in enumerate(boxes):
        _check_real(check_tensor(b, f"rois[{i}]", shape=(None, 4)), f"rois[{i}]")
        if b.device != boxes[0].device:
            raise ValueError(f"rois[{i}] must be on the device of rois[0] ({boxes[0].device}), got {b.device}")
    if len(boxes) == 0:
        return torch.empty(0, 5)
    dtype = boxes[0].dtype if boxes[0].is_floating_point() else torch.get_default_dtype()
    parts = [
        torch.cat((torch.full_like(b[:, :1], i, dtype=dtype), b.to(dtype)), dim=1)  # [L_i, 5]
        for i, b in enumerate(boxes)
    ]
    return torch.cat(parts)


def _check_real(boxes: Tensor, name: str) -> Tensor:
    if boxes.dtype == torch.bool or boxes.is_complex():
        raise TypeError(f"{name} must hold real numbers, got dtype {str(boxes.dtype).replace('torch.', '')}")
    return check_finite(boxes, name)


def _check_output_size(output_size) -> tuple[int, int]:
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError(f"output_size must be a positive int or a pair (PH, PW), got {output_size!r}")
        return check_positive_int(output_size[0], "output_size"), check_positive_int(output_size[1], "output_size")
    size = check_positive_int(output_size, "output_size")
    return size, size


def _check_inputs(input, rois, output_size, spatial_scale) -> tuple[Tensor, int, int, float]:
    check_tensor(input, "input", ndim=4, floating=True)
    rois = rois_from_boxes(rois)
    if rois.device != input.device:
        raise ValueError(f"rois must be on the device of input ({input.device}), got {rois.device}")
    ph, pw = _check_output_size(output_size)
    check_numel(rois.shape[0] * input.shape[1] * ph * pw, "output_size", (rois.shape[0], input.shape[1], ph, pw))
    scale = check_number(spatial_scale, "spatial_scale", low=0.0, low_open=True)
    if rois.shape[0] > 0:
        bidx = rois[:, 0]
        if bool((bidx != bidx.round()).any()) or bool((bidx < 0).any()) or bool((bidx >= input.shape[0]).any()):
            raise ValueError(
                f"rois[:, 0] must hold batch indices in [0, {input.shape[0] - 1}], "
                f"got values in [{bidx.min().item()}, {bidx.max().item()}]"
            )
        far = rois[:, 1:].detach().double().abs().amax(dim=1) * scale  # [K], before any rounding to input.dtype
        if bool((far > MAX_COORDINATE).any()):
            k = int((far > MAX_COORDINATE).nonzero()[0])
            raise ValueError(
                f"rois coordinates times spatial_scale must lie within +-{MAX_COORDINATE:.0f} on the feature map, "
                f"got {rois[k, 1:].tolist()} (row {k}) with spatial_scale={spatial_scale}"
            )
    return rois.detach().to(input.dtype), ph, pw, scale


def _check_sampling(rois: Tensor, ph: int, pw: int, scale: float, sampling_ratio, aligned) -> int:
    """The RoI-align arguments: sampling_ratio and aligned, and a bounded number of samples per bin."""
    if isinstance(sampling_ratio, bool) or not isinstance(sampling_ratio, int):
        raise TypeError(f"sampling_ratio must be an int (<= 0 for adaptive), got {sampling_ratio!r}")
    if sampling_ratio > MAX_SAMPLING_RATIO:
        raise ValueError(f"sampling_ratio must be at most {MAX_SAMPLING_RATIO} (or <= 0 for adaptive), "
                         f"got {sampling_ratio}")
    check_bool(aligned, "aligned")
    if sampling_ratio <= 0 and rois.shape[0] > 0:
        size = (rois[:, 3:5] - rois[:, 1:3]).double() * scale  # [K, 2] (w, h) on the feature map
        if not aligned:
            size = size.clamp(min=1.0)
        grid = torch.ceil(size / torch.tensor([pw, ph], dtype=torch.float64, device=size.device))  # [K, 2]
        samples = grid.clamp(min=0).prod(dim=1)  # [K] points per bin
        if bool((samples > MAX_SAMPLES_PER_BIN).any()):
            k = int((samples > MAX_SAMPLES_PER_BIN).nonzero()[0])
            raise ValueError(
                f"sampling_ratio={sampling_ratio} (adaptive) would average {samples[k]:.0f} points per bin for "
                f"rois row {k} ({size[k, 0]:.0f} x {size[k, 1]:.0f} cells on the feature map; at most "
                f"{MAX_SAMPLES_PER_BIN}): check spatial_scale, or pass a sampling_ratio > 0"
            )
    return sampling_ratio


def _c_round(x: Tensor) -> Tensor:
    """Round half away from zero, like C's round() (torch.round rounds half to even)."""
    t = torch.trunc(x)
    return torch.where((x - t).abs() == 0.5, t + torch.sign(x), torch.round(x))


# ----------------------------------------------------------------------- RoI pool


def roi_pool_loop(
    input: Tensor,
    rois: Tensor | Sequence[Tensor],
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
) -> Tensor:
    """Loop reference of :func:`roi_pool`: one box, one bin at a time."""
    rois, ph_out, pw_out, spatial_scale = _check_inputs(input, rois, output_size, spatial_scale)
    _, channels, height, width = input.shape
    out = input.new_zeros(rois.shape[0], channels, ph_out, pw_out)
    if input.numel() == 0:  # no channel, or an empty map: every bin is empty, 0
        return out
    for k, (b, x1, y1, x2, y2) in enumerate(rois.tolist()):
        # the box, rounded to whole feature cells (both ends inclusive)
        x1, y1 = _round_half_away(x1 * spatial_scale), _round_half_away(y1 * spatial_scale)
        x2, y2 = _round_half_away(x2 * spatial_scale), _round_half_away(y2 * spatial_scale)
        roi_w, roi_h = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)  # malformed boxes become 1 x 1
        bin_h, bin_w = roi_h / ph_out, roi_w / pw_out
        for ph in range(ph_out):
            # bin rows [h0, h1) of the box, moved to the map and clipped to it
            h0 = min(max(math.floor(ph * bin_h) + y1, 0), height)
            h1 = min(max(math.ceil((ph + 1) * bin_h) + y1, 0), height)
            for pw in range(pw_out):
                w0 = min(max(math.floor(pw * bin_w) + x1, 0), width)
                w1 = min(max(math.ceil((pw + 1) * bin_w) + x1, 0), width)
                if h1 > h0 and w1 > w0:  # an empty bin (outside the map) stays 0
                    out[k, :, ph, pw] = input[int(b), :, h0:h1, w0:w1].amax(dim=(1, 2))
    return out


def _round_half_away(v: float) -> int:
    return int(math.floor(v + 0.5)) if v >= 0 else -int(math.floor(-v + 0.5))


def _pool_bins(start: Tensor, bin_size: Tensor, num_bins: int, size: int) -> tuple[Tensor, Tensor]:
    """First and last+1 cell of each bin along one axis, clipped to [0, size]: Tensor[K, P] each."""
    p = torch.arange(num_bins, dtype=bin_size.dtype, device=bin_size.device)
    lo = torch.floor(p[None, :] * bin_size[:, None]).long() + start[:, None]  # [K, P]
    hi = torch.ceil((p[None, :] + 1) * bin_size[:, None]).long() + start[:, None]  # [K, P]
    return lo.clamp(0, size), hi.clamp(0, size)


def roi_pool(
    input: Tensor,
    rois: Tensor | Sequence[Tensor],
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
) -> Tensor:
    """RoI max pooling (Fast R-CNN), equal to ``torchvision.ops.roi_pool``.

    Args:
        input: Tensor[N, C, H, W] float feature maps.
        rois: Tensor[K, 5] ``(batch_index, x1, y1, x2, y2)`` or a list of N Tensor[L_i, 4],
            xyxy absolute pixels of the image.
        output_size: ``(PH, PW)`` or an int for a square output.
        spatial_scale: factor from image to feature-map coordinates (1 / stride).

    Returns:
        Tensor[K, C, PH, PW]; a bin entirely outside the map gives 0.

    Examples:
        >>> x = torch.arange(16.).reshape(1, 1, 4, 4)
        >>> roi_pool(x, torch.tensor([[0., 0., 0., 3., 3.]]), output_size=2)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """
    rois, ph_out, pw_out, scale = _check_inputs(input, rois, output_size, spatial_scale)
    n, channels, height, width = input.shape
    k = rois.shape[0]
    out = input.new_zeros(k, channels, ph_out, pw_out)
    if k == 0 or input.numel() == 0:  # no box; or no channel, or an empty map: every bin is empty, 0
        return out
    # The same integer arithmetic as torchvision's kernel, in the input's dtype.
    corners = _c_round(rois[:, 1:] * scale).long()  # [K, 4]
    roi_w = (corners[:, 2] - corners[:, 0] + 1).clamp(min=1)  # [K]
    roi_h = (corners[:, 3] - corners[:, 1] + 1).clamp(min=1)
    h0, h1 = _pool_bins(corners[:, 1], roi_h.to(input.dtype) / ph_out, ph_out, height)  # [K, PH] each
    w0, w1 = _pool_bins(corners[:, 0], roi_w.to(input.dtype) / pw_out, pw_out, width)  # [K, PW] each
    bh = max(int((h1 - h0).max()), 1)  # largest bin, every bin is padded to it
    bw = max(int((w1 - w0).max()), 1)
    rows = h0[:, :, None] + torch.arange(bh, device=input.device)  # [K, PH, bh]
    cols = w0[:, :, None] + torch.arange(bw, device=input.device)  # [K, PW, bw]
    row_ok = rows < h1[:, :, None]  # [K, PH, bh] padding rows are masked
    col_ok = cols < w1[:, :, None]  # [K, PW, bw]
    rows, cols = rows.clamp(max=height - 1), cols.clamp(max=width - 1)
    bidx = rois[:, 0].long()
    chan = torch.arange(channels, device=input.device)
    per_chunk = max(1, _CHUNK_ELEMENTS // (channels * ph_out * bh * pw_out * bw))
    for s in range(0, k, per_chunk):
        sl = slice(s, s + per_chunk)
        # gather every (row, column) of every bin: [k, C, PH * bh, PW * bw]
        vals = input[
            bidx[sl, None, None, None],
            chan[None, :, None, None],
            rows[sl].reshape(-1, 1, ph_out * bh, 1),
            cols[sl].reshape(-1, 1, 1, pw_out * bw),
        ]
        ok = row_ok[sl].reshape(-1, 1, ph_out * bh, 1) & col_ok[sl].reshape(-1, 1, 1, pw_out * bw)
        vals = vals.masked_fill(~ok, -math.inf)
        vals = vals.reshape(vals.shape[0], channels, ph_out, bh, pw_out, bw)  # split rows and columns into bins
        pooled = vals.amax(dim=5).amax(dim=3)  # [k, C, PH, PW]
        empty = ~(row_ok[sl].any(2)[:, :, None] & col_ok[sl].any(2)[:, None, :])  # [k, PH, PW]
        out[sl] = pooled.masked_fill(empty[:, None], 0)
    return out


# ---------------------------------------------------------------------- RoI align


def _bilinear(feature: Tensor, y: float, x: float) -> Tensor:
    """Bilinear interpolation of ``feature`` (Tensor[C, H, W]) at the continuous point (y, x).

    Index coordinates: (0, 0) is the centre of the first cell. Points more than one
    cell outside the map give 0; points in the border band use the border cells.
    """
    _, height, width = feature.shape
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return feature.new_zeros(feature.shape[0])
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= height - 1:
        y0 = y1 = height - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= width - 1:
        x0 = x1 = width - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0  # distances to the top-left neighbour
    hy, hx = 1.0 - ly, 1.0 - lx
    return (
        hy * hx * feature[:, y0, x0]
        + hy * lx * feature[:, y0, x1]
        + ly * hx * feature[:, y1, x0]
        + ly * lx * feature[:, y1, x1]
    )


def roi_align_loop(
    input: Tensor,
    rois: Tensor | Sequence[Tensor],
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
    sampling_ratio: int = -1,
    aligned: bool = False,
) -> Tensor:
    """Loop reference of :func:`roi_align`: one box, one bin, one sample point at a time."""
    rois, ph_out, pw_out, spatial_scale = _check_inputs(input, rois, output_size, spatial_scale)
    _check_sampling(rois, ph_out, pw_out, spatial_scale, sampling_ratio, aligned)
    out = input.new_zeros(rois.shape[0], input.shape[1], ph_out, pw_out)
    if input.numel() == 0:  # no channel, or an empty map: every sample is outside, 0
        return out
    shift = 0.5 if aligned else 0.0  # from pixel corners to pixel centres
    for k, (b, x1, y1, x2, y2) in enumerate(rois.tolist()):
        x1, y1 = x1 * spatial_scale - shift, y1 * spatial_scale - shift
        x2, y2 = x2 * spatial_scale - shift, y2 * spatial_scale - shift
        roi_w, roi_h = x2 - x1, y2 - y1
        if not aligned:  # the original RoIAlign stretches tiny boxes to one cell
            roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
        bin_h, bin_w = roi_h / ph_out, roi_w / pw_out
        grid_h = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_h / ph_out)
        grid_w = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_w / pw_out)
        count = max(grid_h * grid_w, 1)
        for ph in range(ph_out):
            for pw in range(pw_out):
                acc = input.new_zeros(input.shape[1])
                for iy in range(grid_h):
                    y = y1 + ph * bin_h + (iy + 0.5) * bin_h / grid_h  # regular grid inside the bin
                    for ix in range(grid_w):
                        x = x1 + pw * bin_w + (ix + 0.5) * bin_w / grid_w
                        acc = acc + _bilinear(input[int(b)], y, x)
                out[k, :, ph, pw] = acc / count
    return out


def _align_weights(start: Tensor, bin_size: Tensor, grid: Tensor, num_bins: int, size: int) -> Tensor:
    """Summed bilinear weights of the samples of each bin along one axis.

    Args:
        start, bin_size: Tensor[K], the box's first coordinate and bin size on this axis.
        grid: Tensor[K] int64, samples per bin on this axis (may differ per box).
        num_bins: bins on this axis; size: cells of the map on this axis.

    Returns:
        Tensor[K, num_bins, size]: entry [k, p, c] is the sum over the samples of
        bin p of box k of the weight that linear interpolation gives to cell c.
    """
    k = start.shape[0]
    dtype, device = start.dtype, start.device
    g_max = max(int(grid.max()), 1)
    p = torch.arange(num_bins, dtype=dtype, device=device)
    i = torch.arange(g_max, device=device)
    g = grid.clamp(min=1).to(dtype)
    # same operations as torchvision's kernel: start + p * bin + (i + .5) * bin / grid
    pos = (
        start[:, None, None]
        + p[None, :, None] * bin_size[:, None, None]
        + (i.to(dtype)[None, None, :] + 0.5) * bin_size[:, None, None] / g[:, None, None]
    )  # [K, P, G]
    valid = (pos >= -1.0) & (pos <= size) & (i[None, None, :] < grid[:, None, None])  # [K, P, G]
    pos = pos.clamp(min=0)
    low = pos.long()  # pos >= 0, so truncation is floor
    at_edge = low >= size - 1
    low = low.clamp(max=size - 1)
    high = torch.where(at_edge, low, low + 1)
    frac = torch.where(at_edge, torch.zeros_like(pos), pos - low.to(dtype))  # distance to the low cell
    w_high = frac * valid
    w_low = (1 - frac) * valid
    weights = torch.zeros(k, num_bins, size, dtype=dtype, device=device)
    weights.scatter_add_(2, low, w_low)  # [K, P, size]
    weights.scatter_add_(2, high, w_high)
    return weights


def roi_align(
    input: Tensor,
    rois: Tensor | Sequence[Tensor],
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
    sampling_ratio: int = -1,
    aligned: bool = False,
) -> Tensor:
    """RoI align (Mask R-CNN), equal to ``torchvision.ops.roi_align``.

    Args:
        input: Tensor[N, C, H, W] float feature maps.
        rois: Tensor[K, 5] ``(batch_index, x1, y1, x2, y2)`` or a list of N Tensor[L_i, 4],
            xyxy absolute pixels of the image.
        output_size: ``(PH, PW)`` or an int for a square output.
        spatial_scale: factor from image to feature-map coordinates (1 / stride).
        sampling_ratio: sample points per bin and axis; ``<= 0`` for adaptive
            (``ceil(bin size)``, per box).
        aligned: shift boxes by -0.5 cell so that coordinates refer to pixel centres
            (use True for new code; False reproduces the original RoIAlign).

    Returns:
        Tensor[K, C, PH, PW].

    Examples:
        >>> x = torch.arange(16.).reshape(1, 1, 4, 4)
        >>> roi_align(x, torch.tensor([[0., 0., 0., 4., 4.]]), output_size=2, sampling_ratio=2, aligned=True)
        tensor([[[[ 2.5000,  4.5000],
                  [10.5000, 12.5000]]]])
    """
    rois, ph_out, pw_out, scale = _check_inputs(input, rois, output_size, spatial_scale)
    sampling_ratio = _check_sampling(rois, ph_out, pw_out, scale, sampling_ratio, aligned)
    n, channels, height, width = input.shape
    k = rois.shape[0]
    if k == 0 or input.numel() == 0:  # no box; or no channel, or an empty map: every sample is outside, 0
        return input.new_zeros(k, channels, ph_out, pw_out)
    shift = 0.5 if aligned else 0.0
    box = rois[:, 1:] * scale - shift  # [K, 4] on the feature map
    roi_w = box[:, 2] - box[:, 0]  # [K]
    roi_h = box[:, 3] - box[:, 1]
    if not aligned:
        roi_w, roi_h = roi_w.clamp(min=1.0), roi_h.clamp(min=1.0)
    bin_w, bin_h = roi_w / pw_out, roi_h / ph_out
    if sampling_ratio > 0:
        grid_h = torch.full((k,), sampling_ratio, dtype=torch.int64, device=input.device)
        grid_w = grid_h
    else:
        grid_h = torch.ceil(roi_h / ph_out).long()
        grid_w = torch.ceil(roi_w / pw_out).long()
    count = (grid_h * grid_w).clamp(min=1).to(input.dtype)  # samples per bin
    ay = _align_weights(box[:, 1], bin_h, grid_h, ph_out, height) / count[:, None, None]  # [K, PH, H]
    ax = _align_weights(box[:, 0], bin_w, grid_w, pw_out, width)  # [K, PW, W]

    # Rows [r0, r1) of the map that each box reads; boxes sorted by image and top row
    # so that each chunk multiplies only the band of rows its boxes cover.
    used = ay.ne(0).any(dim=1)  # [K, H]
    rng = torch.arange(height, device=input.device)
    r0 = torch.where(used, rng, height).amin(dim=1)  # [K]
    r1 = torch.where(used, rng + 1, 0).amax(dim=1)  # [K]
    bidx = rois[:, 0].long()
    order = torch.argsort(bidx * (height + 1) + r0)
    rows_hcw = input.permute(0, 2, 1, 3).contiguous()  # [N, H, C, W]: a band of rows is then one matrix
    per_chunk = max(1, _CHUNK_ELEMENTS // (ph_out * channels * width))
    o_b, o_r0, o_r1 = bidx[order].tolist(), r0[order].tolist(), r1[order].tolist()
    parts, part_idx = [], []
    s = 0
    while s < k:
        e = s + 1
        while e < k and e - s < per_chunk and o_b[e] == o_b[s]:
            e += 1
        idx = order[s:e]
        lo, hi = min(o_r0[s:e]), max(o_r1[s:e])
        if hi > lo:  # else every sample of these boxes is outside the map: output 0
            band = rows_hcw[o_b[s], lo:hi].reshape(hi - lo, channels * width)  # [h, C * W]
            t = ay[idx, :, lo:hi].reshape(-1, hi - lo) @ band  # [k * PH, h] @ [h, C * W]
            t = t.reshape(e - s, ph_out * channels, width)  # [k, PH * C, W]
            o = torch.bmm(t, ax[idx].transpose(1, 2))  # [k, PH * C, W] @ [k, W, PW] -> [k, PH * C, PW]
            parts.append(o.reshape(e - s, ph_out, channels, pw_out).permute(0, 2, 1, 3))  # [k, C, PH, PW]
            part_idx.append(idx)
        s = e
    out = input.new_zeros(k, channels, ph_out, pw_out)
    if parts:
        out = out.index_copy(0, torch.cat(part_idx), torch.cat(parts))
    return out
