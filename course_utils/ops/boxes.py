"""Bounding-box operations: conversion, area, IoU, NMS, clipping and box encoding.

Box convention (used by every function of this module and of ``anchors``, ``roi``
and ``metrics.detection``): a box is a row ``(x1, y1, x2, y2)`` ("xyxy") in
**absolute pixel coordinates** of a **continuous** image plane: the image of
size ``(H, W)`` covers ``[0, W] x [0, H]``, the pixel ``(row i, column j)`` covers
``[j, j + 1] x [i, i + 1]``, and a box's area is ``(x2 - x1) * (y2 - y1)`` (no
"+1" as in old pixel-inclusive code). A degenerate box, with ``x2 <= x1`` or
``y2 <= y1``, has zero area. The other formats, ``"xywh"`` (corner and size) and
``"cxcywh"`` (centre and size), are reached only through :func:`box_convert`.

Each operation comes twice: ``op_loop`` is a plain Python loop written to be read
(``nms_loop``, ``box_iou_loop``, ``encode_boxes_loop``, and ``roi_align_loop`` in
:mod:`course_utils.ops.roi`: read these to see the algorithm; they are the references of
the tests and of chapter 5's exercises, so the student release withholds them until the
chapter is unlocked), and ``op`` is the vectorized version used everywhere else. The
vectorized versions are written for speed, not for reading: ``nms`` suppresses block by
block with one IoU matrix per block, and ``roi_align`` multiplies band matrices. Both agree with ``torchvision.ops``
on valid boxes (``x1 <= x2`` and ``y1 <= y2``); on inverted boxes torchvision
multiplies two negative sides into a positive area, here they count as empty.

IoU of two empty boxes (zero union) is defined as 0 here (torchvision gives NaN).

Inputs are checked (see :mod:`course_utils.checks`): boxes must be finite real tensors
(a NaN corner has no area and no rank, so it is refused with a ``ValueError``), thresholds
finite numbers in [0, 1]; empty inputs give empty outputs of the right shape and dtype.
"""
from __future__ import annotations

import math
from numbers import Integral
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from course_utils.checks import check_finite, check_in, check_number, check_tensor
from course_utils.references import reference_of

__all__ = [
    "BOX_FORMATS",
    "BBOX_XFORM_CLIP",
    "box_convert",
    "box_convert_loop",
    "box_area",
    "box_area_loop",
    "box_iou",
    "box_iou_loop",
    "generalized_box_iou",
    "generalized_box_iou_loop",
    "nms",
    "nms_loop",
    "batched_nms",
    "batched_nms_loop",
    "clip_boxes",
    "clip_boxes_loop",
    "encode_boxes",
    "encode_boxes_loop",
    "decode_boxes",
    "decode_boxes_loop",
]

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")
# Largest log-scale step decode_boxes accepts: a box may grow at most 1000/16 times
# its anchor in one step (Detectron's and torchvision's value), so exp() never overflows.
BBOX_XFORM_CLIP = math.log(1000.0 / 16)
# nms works on blocks of boxes (rows of the suppression matrix) that grow
# geometrically from _NMS_FIRST_BLOCK to _NMS_MAX_BLOCK: the first, best boxes
# usually remove most others in crowded scenes (so start small), while sparse
# scenes need big blocks to keep the number of Python iterations low.
_NMS_FIRST_BLOCK = 32
_NMS_MAX_BLOCK = 512


# --------------------------------------------------------------------------- checks


def _check_boxes(boxes, name: str = "boxes") -> Tensor:
    check_tensor(boxes, name, shape=(None, 4))
    if boxes.dtype == torch.bool or boxes.is_complex():
        raise TypeError(f"{name} must hold real numbers, got dtype {str(boxes.dtype).replace('torch.', '')}")
    return check_finite(boxes, name)  # a NaN corner has no IoU, no area, no rank


def _check_box_batch(boxes, name: str = "boxes") -> Tensor:
    """Boxes of any batch shape ``[..., 4]`` (box_convert), real and finite."""
    check_tensor(boxes, name)
    if boxes.ndim < 1 or boxes.shape[-1] != 4:
        raise ValueError(f"{name} must have shape [..., 4], got {list(boxes.shape)}")
    return _check_boxes(boxes.reshape(-1, 4), name)


def _check_float_boxes(boxes, name: str = "boxes") -> Tensor:
    _check_boxes(boxes, name)
    check_tensor(boxes, name, floating=True)
    return boxes


def _check_same_device(a: Tensor, b: Tensor, name_a: str, name_b: str) -> None:
    if a.device != b.device:
        raise ValueError(f"{name_b} must be on the device of {name_a} ({a.device}), got {b.device}")


def _check_threshold(value, name: str) -> float:
    return check_number(value, name, low=0.0, high=1.0)


def _check_scores(scores, boxes: Tensor, name: str = "scores") -> Tensor:
    check_tensor(scores, name, shape=(boxes.shape[0],), floating=True)
    _check_same_device(boxes, scores, "boxes", name)
    if bool(scores.isnan().any()):  # +-inf still ranks; NaN has no place in the order
        raise ValueError(f"{name} must not contain NaN, got NaN at index {int(scores.isnan().nonzero()[0])}")
    return scores


def _check_weights(weights) -> tuple[float, float, float, float]:
    if not isinstance(weights, (tuple, list)):
        raise TypeError(f"weights must be a tuple of 4 positive numbers (wx, wy, ww, wh), got {type(weights).__name__}")
    if len(weights) != 4:
        raise ValueError(f"weights must be 4 positive numbers (wx, wy, ww, wh), got {tuple(weights)!r}")
    return tuple(check_number(w, f"weights[{i}]", low=0.0, low_open=True)  # type: ignore[return-value]
                 for i, w in enumerate(weights))


def _upcast(t: Tensor) -> Tensor:
    # Protect the products of areas from overflow, as torchvision's _upcast: half and
    # bfloat16 go to float32, small integers (uint8, int16) to int32.
    if t.is_floating_point():
        return t if t.dtype in (torch.float32, torch.float64) else t.float()
    return t if t.dtype in (torch.int32, torch.int64) else t.int()


def _float_dtype(t: Tensor) -> torch.dtype:
    """dtype of an IoU computed from boxes ``t`` (float64 stays, the rest is float32)."""
    return torch.float64 if t.dtype == torch.float64 else torch.float32


# ------------------------------------------------------------------------ convert


def box_convert_loop(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Loop reference of :func:`box_convert` (one box at a time, through xyxy)."""
    _check_boxes(boxes)
    check_in(in_fmt, "in_fmt", BOX_FORMATS)
    check_in(out_fmt, "out_fmt", BOX_FORMATS)
    rows = []
    for a, b, c, d in boxes.tolist():
        if in_fmt == "xywh":
            a, b, c, d = a, b, a + c, b + d
        elif in_fmt == "cxcywh":
            a, b, c, d = a - c / 2, b - d / 2, a + c / 2, b + d / 2
        if out_fmt == "xywh":
            a, b, c, d = a, b, c - a, d - b
        elif out_fmt == "cxcywh":
            a, b, c, d = (a + c) / 2, (b + d) / 2, c - a, d - b
        rows.append([a, b, c, d])
    halves = "cxcywh" in (in_fmt, out_fmt)  # a centre divides by 2: integers become floats
    dtype = boxes.dtype if boxes.is_floating_point() or not halves else torch.get_default_dtype()
    return torch.tensor(rows, dtype=dtype, device=boxes.device).reshape(-1, 4)


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Convert boxes between the formats ``"xyxy"``, ``"xywh"`` and ``"cxcywh"``.

    Args:
        boxes: Tensor[..., 4] of boxes in ``in_fmt``.
        in_fmt: format of ``boxes``: ``"xyxy"`` (corners), ``"xywh"`` (top-left corner,
            width, height) or ``"cxcywh"`` (centre, width, height).
        out_fmt: format of the result, one of the same three.

    Returns:
        Tensor[..., 4] in ``out_fmt``. Integer boxes stay integer unless a centre
        (a division by 2) is involved, as in torchvision.

    Examples:
        >>> box_convert(torch.tensor([[10., 20., 30., 60.]]), "xyxy", "cxcywh")
        tensor([[20., 40., 20., 40.]])
        >>> box_convert(torch.tensor([[10., 20., 20., 40.]]), "xywh", "xyxy")
        tensor([[10., 20., 30., 60.]])
    """
    _check_box_batch(boxes)
    check_in(in_fmt, "in_fmt", BOX_FORMATS)
    check_in(out_fmt, "out_fmt", BOX_FORMATS)
    if in_fmt == out_fmt:
        return boxes.clone()
    a, b, c, d = boxes.unbind(-1)
    if in_fmt == "xywh":
        a, b, c, d = a, b, a + c, b + d
    elif in_fmt == "cxcywh":
        a, b, c, d = a - c / 2, b - d / 2, a + c / 2, b + d / 2
    # (a, b, c, d) is now xyxy
    if out_fmt == "xywh":
        a, b, c, d = a, b, c - a, d - b
    elif out_fmt == "cxcywh":
        a, b, c, d = (a + c) / 2, (b + d) / 2, c - a, d - b
    return torch.stack((a, b, c, d), dim=-1)  # [..., 4]


# --------------------------------------------------------------------------- area


def box_area_loop(boxes: Tensor) -> Tensor:
    """Loop reference of :func:`box_area`."""
    _check_boxes(boxes)
    boxes = _upcast(boxes)
    areas = [max(x2 - x1, 0) * max(y2 - y1, 0) for x1, y1, x2, y2 in boxes.tolist()]
    return torch.tensor(areas, dtype=boxes.dtype, device=boxes.device)


def box_area(boxes: Tensor) -> Tensor:
    """Area ``(x2 - x1) * (y2 - y1)`` of each box; degenerate boxes have area 0.

    Args:
        boxes: Tensor[N, 4], xyxy absolute pixels (float or integer).

    Returns:
        Tensor[N]. Half/bfloat16 boxes give float32 areas and small integer types
        give int32 (upcast before multiplying, so areas cannot overflow).

    Examples:
        >>> box_area(torch.tensor([[0., 0., 4., 3.], [5., 5., 2., 9.]]))
        tensor([12.,  0.])
    """
    _check_boxes(boxes)
    boxes = _upcast(boxes)
    return (boxes[:, 2] - boxes[:, 0]).clamp(min=0) * (boxes[:, 3] - boxes[:, 1]).clamp(min=0)


# ---------------------------------------------------------------------------- IoU


def _empty_if_inverted(boxes: Tensor) -> Tensor:
    """Boxes with ``x2 < x1`` or ``y2 < y1`` moved onto their corner ``(x1, y1, x1, y1)``.

    Here such boxes are empty; torchvision would multiply two negative sides into a positive
    area. A box of zero size at its corner overlaps nothing, as an inverted box does.
    """
    x1, y1, x2, y2 = boxes.unbind(1)
    inverted = (x2 < x1) | (y2 < y1)  # [N]
    if not bool(inverted.any()):
        return boxes
    return torch.where(inverted[:, None], torch.stack((x1, y1, x1, y1), dim=1), boxes)


def _same_dtype(boxes1: Tensor, boxes2: Tensor) -> tuple[Tensor, Tensor]:
    boxes1, boxes2 = _upcast(boxes1), _upcast(boxes2)
    if boxes1.dtype != boxes2.dtype:
        dtype = torch.promote_types(boxes1.dtype, boxes2.dtype)
        boxes1, boxes2 = boxes1.to(dtype), boxes2.to(dtype)
    return boxes1, boxes2


def _box_iou_twin(boxes1, boxes2):
    """Twin of :func:`box_iou`: ``torchvision.ops.box_iou`` (inverted boxes empty, 0 / 0 = 0)."""
    from torchvision.ops import box_iou as torchvision_box_iou
    _check_boxes(boxes1, "boxes1")
    _check_boxes(boxes2, "boxes2")
    _check_same_device(boxes1, boxes2, "boxes1", "boxes2")
    boxes1, boxes2 = _same_dtype(boxes1, boxes2)
    iou = torchvision_box_iou(_empty_if_inverted(boxes1), _empty_if_inverted(boxes2))
    return iou.nan_to_num_(nan=0.0)  # NaN only where the union is 0


def _box_iou_loop_twin(boxes1, boxes2):
    """Twin of :func:`box_iou_loop`: :func:`_box_iou_twin` in float64 (the loop computes in Python floats)."""
    _check_boxes(boxes1, "boxes1")
    _check_boxes(boxes2, "boxes2")
    _check_same_device(boxes1, boxes2, "boxes1", "boxes2")
    dtype = torch.promote_types(_float_dtype(boxes1), _float_dtype(boxes2))
    return _box_iou_twin(boxes1.double(), boxes2.double().to(boxes1.device)).to(dtype)


def _pair_iou_twin(a, b):
    """Twin of :func:`_pair_iou`: :func:`_box_iou_twin` of two one-box tensors, in float64."""
    return float(_box_iou_twin(torch.tensor([a], dtype=torch.float64), torch.tensor([b], dtype=torch.float64)))


@reference_of("05_detection/box_iou", twin=_pair_iou_twin)
def _pair_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two xyxy boxes given as Python sequences (the formula, spelled out)."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))  # width of the intersection
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))  # height of the intersection
    inter = w * h
    area_a = max(a[2] - a[0], 0) * max(a[3] - a[1], 0)
    area_b = max(b[2] - b[0], 0) * max(b[3] - b[1], 0)
    union = area_a + area_b - inter
    return inter / union if union > 0 else 0.0


@reference_of("05_detection/box_iou", twin=_box_iou_loop_twin)
def box_iou_loop(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Loop reference of :func:`box_iou`: one pair of boxes at a time."""
    _check_boxes(boxes1, "boxes1")
    _check_boxes(boxes2, "boxes2")
    _check_same_device(boxes1, boxes2, "boxes1", "boxes2")
    a, b = boxes1.tolist(), boxes2.tolist()
    out = [[_pair_iou(bi, bj) for bj in b] for bi in a]
    dtype = torch.promote_types(_float_dtype(boxes1), _float_dtype(boxes2))
    return torch.tensor(out, dtype=dtype, device=boxes1.device).reshape(len(a), len(b))


@reference_of("05_detection/box_iou")  # withheld: the vectorized IoU itself; only box_iou and GIoU use it
def _inter_union(boxes1: Tensor, boxes2: Tensor, area1: Tensor, area2: Tensor) -> tuple[Tensor, Tensor]:
    """Pairwise intersection and union areas, Tensor[N, M] each.

    The x and y sides are computed as separate [N, M] tensors, updated in place:
    that touches memory a few times less than torchvision's [N, M, 2] version.
    The arithmetic (and so every rounding) is the same as torchvision's.
    """
    x1a, y1a, x2a, y2a = boxes1[:, :, None].unbind(1)  # 4 x [N, 1]
    x1b, y1b, x2b, y2b = boxes2.unbind(1)  # 4 x [M], broadcast against [N, 1]
    w = torch.minimum(x2a, x2b)  # [N, M] right edge of the overlap
    w.sub_(torch.maximum(x1a, x1b)).clamp_(min=0)  # [N, M] overlap width
    h = torch.minimum(y2a, y2b)  # [N, M]
    h.sub_(torch.maximum(y1a, y1b)).clamp_(min=0)  # [N, M] overlap height
    inter = w.mul_(h)  # [N, M]
    union = area1[:, None] + area2  # [N, 1] + [M] -> [N, M]
    union.sub_(inter)
    return inter, union


def _safe_divide_(num: Tensor, den: Tensor) -> Tensor:
    """``num / den`` with 0 where ``den == 0`` (den >= 0 holds areas, so num == 0 there too).

    Clamping the denominator to the smallest positive normal number changes nothing
    where it is positive (areas are never that small) and turns 0 / 0 into 0 / tiny = 0,
    one pass over memory instead of a torch.where.
    """
    if den.is_floating_point():
        den = den.clamp_(min=torch.finfo(den.dtype).tiny)
        return num.div_(den) if num.is_floating_point() else num / den
    return num / den.clamp_(min=1)


@reference_of("05_detection/box_iou", twin=_box_iou_twin)
def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise intersection over union of two sets of boxes.

    Args:
        boxes1: Tensor[N, 4], xyxy absolute pixels.
        boxes2: Tensor[M, 4], xyxy absolute pixels.

    Returns:
        Tensor[N, M] with ``IoU(boxes1[i], boxes2[j])`` in [0, 1]: float64 if any
        input is float64, otherwise float32 (also for integer and half boxes, like
        torchvision). Pairs of empty boxes (zero union) give 0.

    Examples:
        >>> a = torch.tensor([[0., 0., 2., 2.]])
        >>> b = torch.tensor([[1., 1., 3., 3.], [0., 0., 2., 2.], [5., 5., 6., 6.]])
        >>> box_iou(a, b)
        tensor([[0.1429, 1.0000, 0.0000]])
    """
    _check_boxes(boxes1, "boxes1")
    _check_boxes(boxes2, "boxes2")
    _check_same_device(boxes1, boxes2, "boxes1", "boxes2")
    boxes1, boxes2 = _upcast(boxes1), _upcast(boxes2)
    if boxes1.dtype != boxes2.dtype:
        dtype = torch.promote_types(boxes1.dtype, boxes2.dtype)
        boxes1, boxes2 = boxes1.to(dtype), boxes2.to(dtype)
    inter, union = _inter_union(boxes1, boxes2, box_area(boxes1), box_area(boxes2))
    return _safe_divide_(inter, union)


def _generalized_box_iou_twin(boxes1, boxes2):
    """Twin of :func:`generalized_box_iou`: torchvision's IoU and union, then ``IoU - (C - U) / C``."""
    from torchvision.ops.boxes import _box_inter_union
    _check_boxes(boxes1, "boxes1")
    _check_boxes(boxes2, "boxes2")
    _check_same_device(boxes1, boxes2, "boxes1", "boxes2")
    boxes1, boxes2 = _same_dtype(boxes1, boxes2)
    iou = _box_iou_twin(boxes1, boxes2)  # [N, M]
    union = _box_inter_union(_empty_if_inverted(boxes1), _empty_if_inverted(boxes2))[1]  # [N, M]
    corners = torch.cat((torch.minimum(boxes1[:, None, :2], boxes2[None, :, :2]),
                         torch.maximum(boxes1[:, None, 2:], boxes2[None, :, 2:])), dim=2)  # [N, M, 4] the hull
    hull = box_area(corners.reshape(-1, 4)).reshape(iou.shape)  # [N, M]
    return iou - _safe_divide_(hull - union, hull).to(iou.dtype)


def _generalized_box_iou_loop_twin(boxes1, boxes2):
    """Twin of :func:`generalized_box_iou_loop`: :func:`_generalized_box_iou_twin` in float64."""
    _check_boxes(boxes1, "boxes1")
    _check_boxes(boxes2, "boxes2")
    _check_same_device(boxes1, boxes2, "boxes1", "boxes2")
    dtype = torch.promote_types(_float_dtype(boxes1), _float_dtype(boxes2))
    return _generalized_box_iou_twin(boxes1.double(), boxes2.double().to(boxes1.device)).to(dtype)


@reference_of("05_detection/box_iou", twin=_generalized_box_iou_loop_twin)
def generalized_box_iou_loop(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Loop reference of :func:`generalized_box_iou`."""
    _check_boxes(boxes1, "boxes1")
    _check_boxes(boxes2, "boxes2")
    _check_same_device(boxes1, boxes2, "boxes1", "boxes2")
    out = []
    for a in boxes1.tolist():
        row = []
        for b in boxes2.tolist():
            w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
            h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
            inter = w * h
            union = max(a[2] - a[0], 0) * max(a[3] - a[1], 0) + max(b[2] - b[0], 0) * max(b[3] - b[1], 0) - inter
            # smallest box enclosing both
            hull = (max(a[2], b[2]) - min(a[0], b[0])) * (max(a[3], b[3]) - min(a[1], b[1]))
            iou = inter / union if union > 0 else 0.0
            row.append(iou - (hull - union) / hull if hull > 0 else iou)
        out.append(row)
    dtype = torch.promote_types(_float_dtype(boxes1), _float_dtype(boxes2))
    return torch.tensor(out, dtype=dtype, device=boxes1.device).reshape(boxes1.shape[0], boxes2.shape[0])


@reference_of("05_detection/box_iou", twin=_generalized_box_iou_twin)
def generalized_box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise generalized IoU (Rezatofighi et al., 2019): ``IoU - (C - U) / C``.

    ``C`` is the area of the smallest box enclosing both boxes and ``U`` their union,
    so GIoU is in [-1, 1] and still informative (negative) for disjoint boxes, which
    is why it serves as a regression loss (``1 - GIoU``).

    Args:
        boxes1: Tensor[N, 4], xyxy absolute pixels.
        boxes2: Tensor[M, 4], xyxy absolute pixels.

    Returns:
        Tensor[N, M], same dtype rule as :func:`box_iou`.

    Examples:
        >>> generalized_box_iou(torch.tensor([[0., 0., 1., 1.]]), torch.tensor([[2., 0., 3., 1.]]))
        tensor([[-0.3333]])
    """
    _check_boxes(boxes1, "boxes1")
    _check_boxes(boxes2, "boxes2")
    _check_same_device(boxes1, boxes2, "boxes1", "boxes2")
    boxes1, boxes2 = _upcast(boxes1), _upcast(boxes2)
    if boxes1.dtype != boxes2.dtype:
        dtype = torch.promote_types(boxes1.dtype, boxes2.dtype)
        boxes1, boxes2 = boxes1.to(dtype), boxes2.to(dtype)
    inter, union = _inter_union(boxes1, boxes2, box_area(boxes1), box_area(boxes2))
    iou = _safe_divide_(inter, union.clone())  # union is needed again below
    lt = torch.minimum(boxes1[:, None, :2], boxes2[None, :, :2])  # [N, M, 2] top-left of the hull
    rb = torch.maximum(boxes1[:, None, 2:], boxes2[None, :, 2:])  # [N, M, 2] bottom-right of the hull
    wh = (rb - lt).clamp(min=0)  # [N, M, 2]
    hull = wh[..., 0] * wh[..., 1]  # [N, M]
    return iou - _safe_divide_(hull - union, hull).to(iou.dtype)


# ---------------------------------------------------------------------------- NMS


def _rank_scores(scores: Tensor, dtype: torch.dtype) -> Tensor:
    """Distinct stand-in scores in ``dtype``: N for the best box down to 1, equal scores by increasing index.

    torchvision then visits the boxes in the order of a stable sort of ``scores``, whatever
    the dtypes and however it breaks ties itself.
    """
    order = torch.sort(scores.detach(), descending=True, stable=True).indices  # [N]
    ranks = torch.empty(scores.shape[0], dtype=dtype, device=scores.device)
    ranks[order] = torch.arange(scores.shape[0], 0, -1, dtype=dtype, device=scores.device)
    return ranks


def _nms_twin(boxes, scores, iou_threshold):
    """Twin of :func:`nms`: ``torchvision.ops.nms`` (the same IoU arithmetic and decisions)."""
    from torchvision.ops import nms as torchvision_nms
    _check_float_boxes(boxes)
    _check_scores(scores, boxes)
    iou_threshold = _check_threshold(iou_threshold, "iou_threshold")
    boxes = _empty_if_inverted(_upcast(boxes.detach()))
    return torchvision_nms(boxes, _rank_scores(scores, boxes.dtype), iou_threshold)


def _nms_loop_twin(boxes, scores, iou_threshold):
    """Twin of :func:`nms_loop`: :func:`_nms_twin` in float64 (the loop computes in Python floats)."""
    _check_float_boxes(boxes)
    _check_scores(scores, boxes)
    iou_threshold = _check_threshold(iou_threshold, "iou_threshold")
    return _nms_twin(boxes.double(), scores, iou_threshold)


def _batched_nms_twin(boxes, scores, idxs, iou_threshold):
    """Twin of :func:`batched_nms`: ``torchvision.ops.nms`` once per id, then the kept boxes by score."""
    _check_float_boxes(boxes)
    _check_scores(scores, boxes)
    _check_idxs(idxs, boxes)
    iou_threshold = _check_threshold(iou_threshold, "iou_threshold")
    kept = [members[_nms_twin(boxes[members], scores[members], iou_threshold)]
            for members in (torch.nonzero(idxs == c).squeeze(1) for c in torch.unique(idxs))]
    keep = torch.cat(kept).sort().values if kept else torch.empty(0, dtype=torch.int64, device=boxes.device)
    return keep[torch.sort(scores[keep], descending=True, stable=True).indices]


def _batched_nms_loop_twin(boxes, scores, idxs, iou_threshold):
    """Twin of :func:`batched_nms_loop`: :func:`_batched_nms_twin` in float64."""
    _check_float_boxes(boxes)
    _check_scores(scores, boxes)
    _check_idxs(idxs, boxes)
    iou_threshold = _check_threshold(iou_threshold, "iou_threshold")
    return _batched_nms_twin(boxes.double(), scores, idxs, iou_threshold)


@reference_of("05_detection/nms", twin=_nms_loop_twin)
def nms_loop(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Loop reference of :func:`nms`: greedy non-maximum suppression, spelled out.

    It computes in Python floats (float64): for float32 boxes whose IoU is within
    float32 rounding of the threshold it may decide differently from :func:`nms` and
    torchvision, which compute the IoU in float32.
    """
    _check_float_boxes(boxes)
    _check_scores(scores, boxes)
    iou_threshold = _check_threshold(iou_threshold, "iou_threshold")
    b, s = boxes.tolist(), scores.tolist()
    # Python's sort is stable: equal scores keep their index order, as torchvision on the CPU.
    order = sorted(range(len(b)), key=lambda i: -s[i])
    suppressed = [False] * len(b)
    keep = []
    for rank, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(i)  # the best box still standing survives ...
        for j in order[rank + 1:]:  # ... and removes every lower-scored box overlapping it too much
            if not suppressed[j] and _pair_iou(b[i], b[j]) > iou_threshold:
                suppressed[j] = True
    return torch.tensor(keep, dtype=torch.int64, device=boxes.device)


@reference_of("05_detection/nms")  # withheld with the block NMS below (only nms and batched_nms use them)
def _threshold_for(dtype: torch.dtype, threshold: float) -> float:
    """A threshold ``t`` in ``dtype`` with ``iou > t`` exactly when ``float64(iou) > threshold``.

    torchvision compares the float32 IoU with the threshold in double precision,
    while ``tensor > 0.3`` would round 0.3 to float32 (0.30000001) first and keep a
    box whose IoU is exactly float32(0.3). Rounding the threshold *down* to the
    nearest float32 gives the same decisions as the double comparison.
    """
    if dtype == torch.float64:
        return threshold
    t = np.float32(threshold)  # boxes reach here as float32 or float64 (half is upcast)
    if float(t) > threshold:
        t = np.nextafter(t, np.float32(-np.inf))
    return float(t)


@reference_of("05_detection/nms")
def _greedy_block(over: np.ndarray) -> np.ndarray:
    """Greedy NMS inside one block: ``over[i, j]`` says box i would suppress box j (only j > i is read).

    Each row is packed into a Python int (bit j set when box j is suppressed), so
    testing a box and removing a kept box's victims are single integer operations.
    """
    rows = np.packbits(over, axis=1, bitorder="little")  # [R, ceil(R / 8)] uint8
    removed = 0
    keep = []
    for i in range(over.shape[0]):
        if not (removed >> i) & 1:
            keep.append(i)
            removed |= int.from_bytes(rows[i].tobytes(), "little")
    return np.array(keep, dtype=np.int64)


@reference_of("05_detection/nms")
def _nms_blocks(boxes: Tensor, scores: Tensor, idxs: Tensor | None, iou_threshold: float) -> list[Tensor]:
    """The work of :func:`_nms`, on N > 0 boxes: the kept indices, one Tensor[K_b] per block."""
    boxes = _upcast(boxes)
    # Stable sort: among equal scores the lower index comes first, which is what
    # torchvision's CPU kernel does, so tied scores give the same indices.
    order = torch.sort(scores, descending=True, stable=True).indices  # [N]
    thr = _threshold_for(boxes.dtype, iou_threshold)
    # One row per coordinate (contiguous, so the [R, C] operations below vectorize),
    # area as in box_area, columns sorted by decreasing score; split once, here.
    corners = boxes.T.contiguous()  # [4, N]
    x1, y1, x2, y2 = corners.unbind(0)  # [N] each
    area = (x2 - x1).clamp_(min=0).mul_((y2 - y1).clamp_(min=0))  # [N]
    cols = torch.cat([corners, area[None]]).index_select(1, order)  # [5, N]: x1, y1, x2, y2, area
    ids = idxs.index_select(0, order) if idxs is not None else None  # [N]
    todo = order  # [C] input indices of the live boxes, by decreasing score; cols (and ids) follow it
    kept = []
    block = _NMS_FIRST_BLOCK
    while True:
        # The block: the next R live boxes by score. Every live box (block included)
        # is a column, so one [R, C] IoU computation serves the block's own greedy
        # pass and the removal of all later boxes the block's survivors overlap.
        num_live = todo.shape[0]
        num_rows = min(block, num_live)
        block = min(2 * block, _NMS_MAX_BLOCK)
        x1, y1, x2, y2, area = cols.unbind(0)  # [C] each
        bx1, by1, bx2, by2, barea = cols[:, :num_rows, None].unbind(0)  # [R, 1] each, the block
        # The IoU, operation by operation as in torchvision's kernel (the same roundings,
        # so boxes exactly at the threshold are decided alike), in place where possible.
        w = torch.minimum(bx2, x2)  # [R, 1] with [C] -> [R, C]
        t = torch.maximum(bx1, x1)  # [R, C]
        w.sub_(t).clamp_(min=0)  # overlap width
        h = torch.minimum(by2, y2)
        h.sub_(torch.maximum(by1, y1, out=t)).clamp_(min=0)  # overlap height
        inter = w.mul_(h)
        union = torch.add(barea, area, out=t).sub_(inter)
        # 1.0 where the IoU is strictly above the threshold, as torchvision; two empty
        # boxes give 0 / 0 = NaN, which is not above it: they never suppress each other.
        over = inter.div_(union).gt_(thr)  # [R, C] float 0/1 (a float result is faster than bool)
        if ids is not None:
            over.mul_(ids[:num_rows, None] == ids)  # [R, 1] == [C] -> [R, C]
        # The only sequential part, on the CPU: which boxes of the block survive each other.
        keep_local = torch.from_numpy(_greedy_block(over[:, :num_rows].cpu().numpy() != 0)).to(todo.device)
        kept.append(todo[:num_rows].index_select(0, keep_local))
        if num_rows == num_live:
            return kept
        hit = over[:, num_rows:].index_select(0, keep_local).amax(0)  # [C - R] 1.0: a survivor overlaps it
        live = hit.logical_not_().nonzero().squeeze(1)  # [C'] positions of the boxes left
        if live.shape[0] == 0:
            return kept
        todo = todo[num_rows:].index_select(0, live)
        cols = cols[:, num_rows:].index_select(1, live)
        if ids is not None:
            ids = ids[num_rows:].index_select(0, live)


@reference_of("05_detection/nms")
def _nms(boxes: Tensor, scores: Tensor, idxs: Tensor | None, iou_threshold: float) -> Tensor:
    """Exact greedy NMS, block by block (see :func:`nms`); ``idxs`` restricts suppression to equal ids."""
    if boxes.shape[0] == 0:
        return torch.empty(0, dtype=torch.int64, device=boxes.device)
    # Crowded scenes cost a few blocks of ~20 small operations each, so the fixed cost of
    # a torch call dominates; inference mode skips autograd's share of it (about a sixth).
    with torch.inference_mode():
        kept = _nms_blocks(boxes, scores, idxs, iou_threshold)
    # Concatenated outside inference mode: an ordinary tensor, which may index boxes that require grad.
    return torch.cat(kept)


@reference_of("05_detection/nms", twin=_nms_twin)
def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Greedy non-maximum suppression, exact and equal to ``torchvision.ops.nms``.

    Repeatedly keep the highest-scoring box left and remove every remaining box
    whose IoU with it is strictly greater than ``iou_threshold``.

    The boxes are sorted by score once, then handled in blocks of the next live
    boxes (32, 64, ... up to 512): the IoU of the block with every live box is one
    vectorized [R, C] computation; a short loop over the block decides which of its
    boxes survive each other, and one ``any`` removes every later box they overlap.
    The arithmetic of each IoU and of the comparison is the same as torchvision's
    kernel, so even boxes sitting exactly at the threshold are decided the same way.

    Args:
        boxes: Tensor[N, 4] float, xyxy absolute pixels (half is computed in float32).
        scores: Tensor[N] float, one score per box.
        iou_threshold: in [0, 1]; boxes with IoU > iou_threshold are discarded.

    Returns:
        Tensor[K] int64: indices of the kept boxes, by decreasing score; equal
        scores are ordered by increasing index (torchvision's CPU order).

    Examples:
        >>> boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.], [20., 20., 30., 30.]])
        >>> nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)
        tensor([0, 2])
    """
    _check_float_boxes(boxes)
    _check_scores(scores, boxes)
    iou_threshold = _check_threshold(iou_threshold, "iou_threshold")
    return _nms(boxes, scores, None, iou_threshold)


def _check_idxs(idxs, boxes: Tensor) -> Tensor:
    check_tensor(idxs, "idxs", shape=(boxes.shape[0],))
    if idxs.is_floating_point() or idxs.dtype == torch.bool or idxs.is_complex():
        raise TypeError(f"idxs must be an integer tensor (class ids), got {str(idxs.dtype).replace('torch.', '')}")
    if idxs.device != boxes.device:
        raise ValueError(f"idxs must be on the device of boxes ({boxes.device}), got {idxs.device}")
    return idxs


@reference_of("05_detection/nms", twin=_batched_nms_loop_twin)
def batched_nms_loop(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """Loop reference of :func:`batched_nms`: one :func:`nms_loop` per class."""
    _check_float_boxes(boxes)
    _check_scores(scores, boxes)
    _check_idxs(idxs, boxes)
    iou_threshold = _check_threshold(iou_threshold, "iou_threshold")
    keep = []
    for c in torch.unique(idxs).tolist():
        members = torch.nonzero(idxs == c).squeeze(1)
        keep.append(members[nms_loop(boxes[members], scores[members], iou_threshold)])
    keep = torch.cat(keep) if keep else torch.empty(0, dtype=torch.int64, device=boxes.device)
    # merge the classes by decreasing score, ties by index
    keep = keep.sort().values
    return keep[torch.sort(scores[keep], descending=True, stable=True).indices]


@reference_of("05_detection/nms", twin=_batched_nms_twin)
def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """Non-maximum suppression done independently per class (``idxs``), in one call.

    torchvision's trick for this is to shift every box by ``idxs * (max_coordinate + 1)``
    so that boxes of different classes land in disjoint regions of the plane, never
    overlap, and one ordinary NMS serves all classes. The shift costs float
    precision (a class id of 80 moves float32 coordinates where their spacing is
    about 0.01 px) and fails for negative coordinates. Here the same effect comes
    exactly from masking the suppression matrix with ``idxs[i] == idxs[j]``, one
    extra comparison per pair.

    Args:
        boxes: Tensor[N, 4] float, xyxy absolute pixels.
        scores: Tensor[N] float.
        idxs: Tensor[N] integer class (or image) ids; boxes of different ids never suppress each other.
        iou_threshold: in [0, 1]; discard boxes with IoU > iou_threshold with a
            higher-scored box of the same id.

    Returns:
        Tensor[K] int64 indices of the kept boxes, by decreasing score (ties by index).

    Examples:
        >>> boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.], [1., 1., 11., 11.]])
        >>> batched_nms(boxes, torch.tensor([0.9, 0.8, 0.7]), torch.tensor([0, 0, 1]), 0.5)
        tensor([0, 2])
    """
    _check_float_boxes(boxes)
    _check_scores(scores, boxes)
    _check_idxs(idxs, boxes)
    iou_threshold = _check_threshold(iou_threshold, "iou_threshold")
    return _nms(boxes, scores, idxs, iou_threshold)


# --------------------------------------------------------------------------- clip


def _check_size(size) -> tuple[float, float]:
    if not isinstance(size, (tuple, list, torch.Size)):
        raise TypeError(f"size must be a pair (height, width), got {type(size).__name__} ({size!r})")
    if len(size) != 2:
        raise ValueError(f"size must be (height, width), got {size!r}")
    for s in size:
        check_number(s, "size", low=0.0, low_open=True)
    # integers stay integers, so that integer boxes stay integer
    return tuple(int(s) if isinstance(s, Integral) else float(s) for s in size)  # type: ignore[return-value]


def clip_boxes_loop(boxes: Tensor, size: tuple[int, int]) -> Tensor:
    """Loop reference of :func:`clip_boxes`."""
    _check_boxes(boxes)
    height, width = _check_size(size)
    rows = [
        [min(max(x1, 0), width), min(max(y1, 0), height), min(max(x2, 0), width), min(max(y2, 0), height)]
        for x1, y1, x2, y2 in boxes.tolist()
    ]
    return torch.tensor(rows, dtype=boxes.dtype, device=boxes.device).reshape(-1, 4)


def clip_boxes(boxes: Tensor, size: tuple[int, int]) -> Tensor:
    """Clip boxes to the image ``[0, W] x [0, H]`` (continuous coordinates).

    Args:
        boxes: Tensor[N, 4], xyxy absolute pixels.
        size: ``(height, width)`` of the image.

    Returns:
        Tensor[N, 4], same dtype. A box entirely outside becomes degenerate (zero area).

    Examples:
        >>> clip_boxes(torch.tensor([[-5., 2., 30., 8.]]), size=(10, 20))
        tensor([[ 0.,  2., 20.,  8.]])
    """
    _check_boxes(boxes)
    height, width = _check_size(size)
    x = boxes[:, 0::2].clamp(min=0, max=width)  # [N, 2] x1, x2
    y = boxes[:, 1::2].clamp(min=0, max=height)  # [N, 2] y1, y2
    return torch.stack((x[:, 0], y[:, 0], x[:, 1], y[:, 1]), dim=1)  # [N, 4]


# ------------------------------------------------------------------ encode/decode


def _check_coding(a, b, name_a: str, name_b: str, sized: tuple[str, ...]) -> None:
    """The two [N, 4] float inputs of the box coder: same shape and device; the boxes named in
    ``sized`` need a positive width and height (a size is divided by, or its log taken)."""
    _check_float_boxes(a, name_a)
    _check_float_boxes(b, name_b)
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape (one row each), "
                         f"got {list(a.shape)} and {list(b.shape)}")
    _check_same_device(a, b, name_a, name_b)
    for name, t in ((name_a, a), (name_b, b)):
        if name in sized:
            small = (t[:, 2] <= t[:, 0]) | (t[:, 3] <= t[:, 1])  # [N]
            if bool(small.any()):
                i = int(small.nonzero()[0])
                raise ValueError(f"{name} must have a positive width and height, got row {i} = {t[i].tolist()}")


def _box_coder(weights, clip: float = BBOX_XFORM_CLIP):
    from torchvision.models.detection._utils import BoxCoder
    return BoxCoder(weights=tuple(weights), bbox_xform_clip=clip)


def _encode_boxes_twin(anchors, gt_boxes, weights=(1.0, 1.0, 1.0, 1.0)):
    """Twin of :func:`encode_boxes`: torchvision's ``BoxCoder.encode_single(gt_boxes, anchors)``."""
    _check_coding(anchors, gt_boxes, "anchors", "gt_boxes", sized=("anchors", "gt_boxes"))
    weights = _check_weights(weights)
    return _box_coder(weights).encode_single(gt_boxes.to(anchors.dtype), anchors)


def _encode_boxes_loop_twin(anchors, gt_boxes, weights=(1.0, 1.0, 1.0, 1.0)):
    """Twin of :func:`encode_boxes_loop`: :func:`_encode_boxes_twin` in float64."""
    _check_coding(anchors, gt_boxes, "anchors", "gt_boxes", sized=("anchors", "gt_boxes"))
    _check_weights(weights)
    return _encode_boxes_twin(anchors.double(), gt_boxes.double(), weights).to(anchors.dtype)


@reference_of("05_detection/box_coding", twin=_encode_boxes_loop_twin)
def encode_boxes_loop(anchors: Tensor, gt_boxes: Tensor, weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0)) -> Tensor:
    """Loop reference of :func:`encode_boxes`."""
    _check_coding(anchors, gt_boxes, "anchors", "gt_boxes", sized=("anchors", "gt_boxes"))
    wx, wy, ww, wh = _check_weights(weights)
    rows = []
    for (ax1, ay1, ax2, ay2), (gx1, gy1, gx2, gy2) in zip(anchors.tolist(), gt_boxes.tolist()):
        wa, ha = ax2 - ax1, ay2 - ay1
        xa, ya = ax1 + 0.5 * wa, ay1 + 0.5 * ha
        w, h = gx2 - gx1, gy2 - gy1
        x, y = gx1 + 0.5 * w, gy1 + 0.5 * h
        rows.append([wx * (x - xa) / wa, wy * (y - ya) / ha, ww * math.log(w / wa), wh * math.log(h / ha)])
    return torch.tensor(rows, dtype=anchors.dtype, device=anchors.device).reshape(-1, 4)


@reference_of("05_detection/box_coding", twin=_encode_boxes_twin)
def encode_boxes(anchors: Tensor, gt_boxes: Tensor, weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0)) -> Tensor:
    """Regression targets of Faster R-CNN: ``gt_boxes`` relative to ``anchors``.

    With anchor centre/size ``(xa, ya, wa, ha)`` and box ``(x, y, w, h)``:
    ``tx = wx (x - xa) / wa``, ``ty = wy (y - ya) / ha``, ``tw = ww log(w / wa)``,
    ``th = wh log(h / ha)`` (Girshick et al., 2014; Ren et al., 2015). Offsets are in
    units of the anchor size and sizes in log scale, so the targets of small and
    large objects are comparable. Same as torchvision's ``BoxCoder.encode_single(gt_boxes, anchors)``.

    Args:
        anchors: Tensor[N, 4] float, xyxy absolute pixels, with positive width and height.
        gt_boxes: Tensor[N, 4] float, xyxy absolute pixels, the box matched to each anchor,
            with positive width and height (their log is taken).
        weights: ``(wx, wy, ww, wh)`` scaling the four targets (torchvision's Faster R-CNN
            head uses (10, 10, 5, 5), the RPN (1, 1, 1, 1)).

    Returns:
        Tensor[N, 4] of deltas ``(tx, ty, tw, th)``.

    Raises:
        ValueError: naming the row, if an anchor or a box is degenerate (width or height
            ``<= 0``): ``log(0 / wa)`` would be ``-inf`` and a zero anchor size a division by
            zero, and either would poison a loss silently. Drop such boxes before matching.

    Examples:
        >>> encode_boxes(torch.tensor([[0., 0., 10., 10.]]), torch.tensor([[5., 0., 15., 20.]]))
        tensor([[0.5000, 0.5000, 0.0000, 0.6931]])
    """
    _check_coding(anchors, gt_boxes, "anchors", "gt_boxes", sized=("anchors", "gt_boxes"))
    wx, wy, ww, wh = _check_weights(weights)
    gt_boxes = gt_boxes.to(anchors.dtype)
    wa = anchors[:, 2] - anchors[:, 0]  # [N]
    ha = anchors[:, 3] - anchors[:, 1]
    xa = anchors[:, 0] + 0.5 * wa
    ya = anchors[:, 1] + 0.5 * ha
    w = gt_boxes[:, 2] - gt_boxes[:, 0]
    h = gt_boxes[:, 3] - gt_boxes[:, 1]
    x = gt_boxes[:, 0] + 0.5 * w
    y = gt_boxes[:, 1] + 0.5 * h
    return torch.stack(
        (wx * (x - xa) / wa, wy * (y - ya) / ha, ww * torch.log(w / wa), wh * torch.log(h / ha)), dim=1
    )  # [N, 4]


def _decode_boxes_twin(deltas, anchors, weights=(1.0, 1.0, 1.0, 1.0), clip=BBOX_XFORM_CLIP):
    """Twin of :func:`decode_boxes`: torchvision's ``BoxCoder.decode_single(deltas, anchors)``."""
    _check_coding(deltas, anchors, "deltas", "anchors", sized=("anchors",))
    weights = _check_weights(weights)
    clip = check_number(clip, "clip")
    return _box_coder(weights, clip).decode_single(deltas, anchors)


def _decode_boxes_loop_twin(deltas, anchors, weights=(1.0, 1.0, 1.0, 1.0), clip=BBOX_XFORM_CLIP):
    """Twin of :func:`decode_boxes_loop`: :func:`_decode_boxes_twin` in float64."""
    _check_coding(deltas, anchors, "deltas", "anchors", sized=("anchors",))
    _check_weights(weights)
    clip = check_number(clip, "clip")
    return _decode_boxes_twin(deltas.double(), anchors.double(), weights, clip).to(deltas.dtype)


@reference_of("05_detection/box_coding", twin=_decode_boxes_loop_twin)
def decode_boxes_loop(
    deltas: Tensor,
    anchors: Tensor,
    weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
    clip: float = BBOX_XFORM_CLIP,
) -> Tensor:
    """Loop reference of :func:`decode_boxes`."""
    _check_coding(deltas, anchors, "deltas", "anchors", sized=("anchors",))
    wx, wy, ww, wh = _check_weights(weights)
    clip = check_number(clip, "clip")
    rows = []
    for (tx, ty, tw, th), (ax1, ay1, ax2, ay2) in zip(deltas.tolist(), anchors.tolist()):
        wa, ha = ax2 - ax1, ay2 - ay1
        xa, ya = ax1 + 0.5 * wa, ay1 + 0.5 * ha
        x, y = tx / wx * wa + xa, ty / wy * ha + ya
        w, h = math.exp(min(tw / ww, clip)) * wa, math.exp(min(th / wh, clip)) * ha
        rows.append([x - 0.5 * w, y - 0.5 * h, x + 0.5 * w, y + 0.5 * h])
    return torch.tensor(rows, dtype=deltas.dtype, device=deltas.device).reshape(-1, 4)


@reference_of("05_detection/box_coding", twin=_decode_boxes_twin)
def decode_boxes(
    deltas: Tensor,
    anchors: Tensor,
    weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
    clip: float = BBOX_XFORM_CLIP,
) -> Tensor:
    """Apply regression deltas to anchors: the inverse of :func:`encode_boxes`.

    ``x = tx / wx * wa + xa``, ``w = exp(min(tw / ww, clip)) * wa`` (same for y, h).
    The clamp keeps an untrained head from producing infinite boxes. Same as
    torchvision's ``BoxCoder.decode_single(deltas, anchors)``.

    Args:
        deltas: Tensor[N, 4] float ``(tx, ty, tw, th)``.
        anchors: Tensor[N, 4] float, xyxy absolute pixels, with positive width and height.
        weights: ``(wx, wy, ww, wh)``, as given to :func:`encode_boxes`.
        clip: upper bound of the log-scale steps ``tw / ww`` and ``th / wh`` (a finite number).

    Returns:
        Tensor[N, 4] decoded boxes, xyxy absolute pixels, dtype of ``deltas``.

    Examples:
        >>> deltas = torch.tensor([[0.5, 0.5, 0.0, math.log(2.0)]])
        >>> decode_boxes(deltas, torch.tensor([[0., 0., 10., 10.]]))
        tensor([[ 5.,  0., 15., 20.]])
    """
    _check_coding(deltas, anchors, "deltas", "anchors", sized=("anchors",))
    wx, wy, ww, wh = _check_weights(weights)
    clip = check_number(clip, "clip")
    anchors = anchors.to(deltas.dtype)
    wa = anchors[:, 2] - anchors[:, 0]  # [N]
    ha = anchors[:, 3] - anchors[:, 1]
    xa = anchors[:, 0] + 0.5 * wa
    ya = anchors[:, 1] + 0.5 * ha
    x = deltas[:, 0] / wx * wa + xa
    y = deltas[:, 1] / wy * ha + ya
    w = torch.exp((deltas[:, 2] / ww).clamp(max=clip)) * wa
    h = torch.exp((deltas[:, 3] / wh).clamp(max=clip)) * ha
    return torch.stack((x - 0.5 * w, y - 0.5 * h, x + 0.5 * w, y + 0.5 * h), dim=1)  # [N, 4]
