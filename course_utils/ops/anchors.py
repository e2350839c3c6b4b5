"""Anchors for two-stage and single-shot detectors: generate, match to ground truth, sample.

Boxes are xyxy absolute pixels (see :mod:`course_utils.ops.boxes`).

An *anchor* is a reference box placed at every position of a feature map, in a
few sizes and aspect ratios. The detector never predicts a box from scratch: it
classifies each anchor (object or background) and regresses a small correction
(:func:`course_utils.ops.boxes.encode_boxes`). Training needs to know which anchors
should fire, hence :func:`match_anchors` (IoU-based assignment) and
:func:`sample_anchors` (a balanced mini-batch of positives and negatives).

Conventions are torchvision's (``AnchorGenerator``, ``Matcher``,
``BalancedPositiveNegativeSampler``), so results can be compared one to one:
aspect ratio means height / width, an anchor of size ``s`` and ratio ``r`` has
width ``s / sqrt(r)`` and height ``s * sqrt(r)`` (area ``s**2``), and the anchors of
position ``(i, j)`` of a map of stride ``(sh, sw)`` are centred on
``((j + offset) * sw, (i + offset) * sh)`` with ``offset = 0`` (torchvision) by default.
"""
from __future__ import annotations

from numbers import Integral
from typing import Sequence

import torch
from torch import Tensor

from course_utils.ops.boxes import _check_boxes, _pair_iou, box_iou
from course_utils.checks import (
    check_bool,
    check_device,
    check_generator,
    check_number,
    check_numel,
    check_positive_int,
    check_tensor,
)
from course_utils.references import not_an_answer, reference_of

__all__ = [
    "NEGATIVE",
    "IGNORE",
    "anchors_per_location",
    "num_anchors",
    "cell_anchors",
    "generate_anchors",
    "generate_anchors_loop",
    "match_anchors",
    "match_anchors_loop",
    "sample_anchors",
]

NEGATIVE = -1  # match_anchors label of a background anchor
IGNORE = -2  # match_anchors label of an anchor left out of the loss (IoU between the thresholds)


# ------------------------------------------------------------------------- checks


def _check_numbers(values, name: str) -> list[float]:
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list or tuple of positive numbers, got {type(values).__name__} ({values!r})")
    if len(values) == 0:
        raise ValueError(f"{name} must be a non-empty list or tuple of numbers, got {values!r}")
    return [check_number(v, name, low=0.0, low_open=True) for v in values]  # finite and > 0


def _per_level(values, name: str, num_levels: int) -> list[list[float]]:
    """Accept one list for every level, or one list per level."""
    if isinstance(values, (list, tuple)) and len(values) > 0 and all(isinstance(v, (list, tuple)) for v in values):
        if len(values) != num_levels:
            raise ValueError(f"{name} has {len(values)} per-level lists but there are {num_levels} feature maps")
        return [_check_numbers(v, name) for v in values]
    return [_check_numbers(values, name)] * num_levels


def _check_pair(value, name: str) -> tuple[int, int]:
    if isinstance(value, Integral) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, (list, tuple, torch.Size)):
        raise TypeError(f"{name} must be an int or a pair of ints, got {type(value).__name__} ({value!r})")
    if len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return check_positive_int(value[0], name), check_positive_int(value[1], name)


def _check_dtype_device(dtype, device) -> None:
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype such as torch.float32, got {dtype!r}")
    if device is not None:
        check_device(device, "device")


# ------------------------------------------------------------------------ counting


def _torchvision_anchor_generator(sizes, ratios):
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    return AnchorGenerator(sizes=(tuple(_check_numbers(sizes, "sizes")),),
                           aspect_ratios=(tuple(_check_numbers(ratios, "ratios")),))


def _anchors_per_location_twin(sizes, ratios):
    """Twin of :func:`anchors_per_location`: torchvision's ``AnchorGenerator.num_anchors_per_location``."""
    return _torchvision_anchor_generator(sizes, ratios).num_anchors_per_location()[0]


def _num_anchors_twin(feature_size, sizes, ratios):
    """Twin of :func:`num_anchors`: torchvision's anchors per location times the number of positions."""
    h, w = _check_pair(feature_size, "feature_size")
    return h * w * _torchvision_anchor_generator(sizes, ratios).num_anchors_per_location()[0]


@reference_of("05_detection/count_anchors", twin=_anchors_per_location_twin)
def anchors_per_location(sizes: Sequence[float], ratios: Sequence[float]) -> int:
    """Number of anchors at each feature-map position: ``len(sizes) * len(ratios)``.

    Examples:
        >>> anchors_per_location(sizes=(32, 64, 128), ratios=(0.5, 1.0, 2.0))
        9
    """
    return len(_check_numbers(sizes, "sizes")) * len(_check_numbers(ratios, "ratios"))


@reference_of("05_detection/count_anchors", twin=_num_anchors_twin)
def num_anchors(feature_size: tuple[int, int], sizes: Sequence[float], ratios: Sequence[float]) -> int:
    """Number of anchors of one feature map of size ``(h, w)``: ``h * w * len(sizes) * len(ratios)``.

    Examples:
        >>> num_anchors((4, 5), sizes=(32, 64), ratios=(0.5, 1.0, 2.0))
        120
    """
    h, w = _check_pair(feature_size, "feature_size")
    return h * w * anchors_per_location(sizes, ratios)


# ---------------------------------------------------------------------- generation


@not_an_answer("05_detection/count_anchors", why="builds the anchors; only their number would answer the exercise")
def cell_anchors(
    sizes: Sequence[float],
    ratios: Sequence[float],
    *,
    round_to_int: bool = True,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """The anchors of one position, centred on (0, 0).

    Args:
        sizes: anchor sizes ``s`` (square root of the area), in pixels.
        ratios: aspect ratios ``r = height / width``.
        round_to_int: round the corners to integers, as torchvision does.
        dtype, device: of the result.

    Returns:
        Tensor[len(ratios) * len(sizes), 4], xyxy, ratios in the outer loop and
        sizes in the inner loop (torchvision's order).

    Examples:
        >>> cell_anchors(sizes=(16,), ratios=(0.25, 1.0))
        tensor([[-16.,  -4.,  16.,   4.],
                [ -8.,  -8.,   8.,   8.]])
    """
    check_bool(round_to_int, "round_to_int")
    _check_dtype_device(dtype, device)
    sizes_t = torch.tensor(_check_numbers(sizes, "sizes"), dtype=dtype, device=device)
    ratios_t = torch.tensor(_check_numbers(ratios, "ratios"), dtype=dtype, device=device)
    h_ratios = torch.sqrt(ratios_t)
    w_ratios = 1 / h_ratios  # w * h = s**2 and h / w = r
    ws = (w_ratios[:, None] * sizes_t[None, :]).reshape(-1)  # [R, 1] * [1, S] -> [R * S]
    hs = (h_ratios[:, None] * sizes_t[None, :]).reshape(-1)  # [R * S]
    base = torch.stack((-ws, -hs, ws, hs), dim=1) / 2  # [R * S, 4]
    return base.round() if round_to_int else base


def _check_levels(feature_sizes, strides, offset=0.0, round_to_int=True, dtype=torch.float32, device=None,
                  ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The arguments of :func:`generate_anchors` (and of its loop) but sizes and ratios."""
    if not isinstance(feature_sizes, (list, tuple)):
        raise TypeError(f"feature_sizes must be a list of (height, width), got {type(feature_sizes).__name__}")
    if len(feature_sizes) == 0:
        raise ValueError(f"feature_sizes must be a non-empty list of (height, width), got {feature_sizes!r}")
    if not isinstance(strides, (list, tuple)):
        raise TypeError(f"strides must be a list with one stride per feature map, got {type(strides).__name__}")
    if len(strides) != len(feature_sizes):
        raise ValueError(
            f"strides must be a list with one stride per feature map ({len(feature_sizes)}), got {strides!r}"
        )
    fs = [_check_pair(f, "feature_sizes") for f in feature_sizes]
    st = [_check_pair(s, "strides") for s in strides]
    check_number(offset, "offset")
    check_bool(round_to_int, "round_to_int")
    _check_dtype_device(dtype, device)
    return fs, st


def _check_total(fs, level_sizes, level_ratios) -> None:
    total = sum(h * w * len(s) * len(r) for (h, w), s, r in zip(fs, level_sizes, level_ratios))
    check_numel(4 * total, "feature_sizes", (total, 4))


@not_an_answer("05_detection/count_anchors", why="builds the anchors; only their number would answer the exercise")
def generate_anchors(
    feature_sizes: Sequence[tuple[int, int]],
    strides: Sequence[int | tuple[int, int]],
    sizes: Sequence[float] | Sequence[Sequence[float]] = (32, 64, 128),
    ratios: Sequence[float] | Sequence[Sequence[float]] = (0.5, 1.0, 2.0),
    *,
    offset: float = 0.0,
    round_to_int: bool = True,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """All anchors of a set of feature maps (one per pyramid level), as one tensor.

    Ordering: level by level (in the order given); inside a level, positions in
    row-major order (``i`` over rows, then ``j`` over columns); at each position the
    ``len(ratios) * len(sizes)`` shapes of :func:`cell_anchors` (ratio outer, size inner).
    So anchor ``a`` of a single level is at position ``a // A`` with shape ``a % A``,
    where ``A = anchors_per_location(sizes, ratios)``: the order of a head's output
    ``[A, H, W] -> permute(1, 2, 0) -> [H * W * A]``. This is torchvision's order.

    Args:
        feature_sizes: ``(h, w)`` of each feature map.
        strides: pixels between neighbouring positions of each map, an int or
            ``(stride_h, stride_w)`` (torchvision: ``image_size // feature_size``).
        sizes: anchor sizes (sqrt of the area, pixels), shared by all levels, or
            one list per level (FPN: ``((32,), (64,), (128,), ...)``).
        ratios: aspect ratios height / width, shared or one list per level.
        offset: position ``(i, j)`` is centred on ``((j + offset) * sw, (i + offset) * sh)``;
            0 is torchvision's choice (the corner of the cell), 0.5 the centre of the cell.
        round_to_int: round the cell anchors to integer corners (torchvision does).
        dtype, device: of the result.

    Returns:
        Tensor[A_total, 4], xyxy absolute pixels, ``A_total = sum(num_anchors(f, ...))``.

    Examples:
        >>> generate_anchors([(1, 2)], strides=[16], sizes=(16,), ratios=(1.0,), offset=0.5)
        tensor([[ 0.,  0., 16., 16.],
                [16.,  0., 32., 16.]])
    """
    fs, st = _check_levels(feature_sizes, strides, offset, round_to_int, dtype, device)
    level_sizes = _per_level(sizes, "sizes", len(fs))
    level_ratios = _per_level(ratios, "ratios", len(fs))
    _check_total(fs, level_sizes, level_ratios)
    out = []
    for (h, w), (sh, sw), s, r in zip(fs, st, level_sizes, level_ratios):
        base = cell_anchors(s, r, round_to_int=round_to_int, dtype=dtype, device=device)  # [A, 4]
        cx = (torch.arange(w, dtype=dtype, device=device) + offset) * sw  # [w]
        cy = (torch.arange(h, dtype=dtype, device=device) + offset) * sh  # [h]
        cy, cx = torch.meshgrid(cy, cx, indexing="ij")  # [h, w] each, row-major
        shifts = torch.stack((cx, cy, cx, cy), dim=-1).reshape(-1, 1, 4)  # [h * w, 1, 4]
        out.append((shifts + base[None]).reshape(-1, 4))  # [h * w, A, 4] -> [h * w * A, 4]
    return torch.cat(out)


@not_an_answer("05_detection/count_anchors", why="builds the anchors; only their number would answer the exercise")
def generate_anchors_loop(
    feature_sizes: Sequence[tuple[int, int]],
    strides: Sequence[int | tuple[int, int]],
    sizes: Sequence[float] | Sequence[Sequence[float]] = (32, 64, 128),
    ratios: Sequence[float] | Sequence[Sequence[float]] = (0.5, 1.0, 2.0),
    *,
    offset: float = 0.0,
    round_to_int: bool = True,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """Loop reference of :func:`generate_anchors`: the nesting of the loops is the ordering."""
    fs, st = _check_levels(feature_sizes, strides, offset, round_to_int, dtype, device)
    level_sizes = _per_level(sizes, "sizes", len(fs))
    level_ratios = _per_level(ratios, "ratios", len(fs))
    _check_total(fs, level_sizes, level_ratios)
    rows = []
    for (h, w), (sh, sw), level_s, level_r in zip(fs, st, level_sizes, level_ratios):
        base = cell_anchors(level_s, level_r, round_to_int=round_to_int, dtype=torch.float64).tolist()
        for i in range(h):
            for j in range(w):
                cx, cy = (j + offset) * sw, (i + offset) * sh
                for x1, y1, x2, y2 in base:  # ratio outer, size inner
                    rows.append([cx + x1, cy + y1, cx + x2, cy + y2])
    return torch.tensor(rows, dtype=dtype, device=device).reshape(-1, 4)


# ------------------------------------------------------------------------ matching


def _check_match_args(anchors, gt_boxes, pos_iou, neg_iou, allow_low_quality=True) -> None:
    _check_boxes(anchors, "anchors")  # finite: a NaN box would match everything, or nothing
    _check_boxes(gt_boxes, "gt_boxes")
    if anchors.device != gt_boxes.device:
        raise ValueError(f"gt_boxes must be on the device of anchors ({anchors.device}), got {gt_boxes.device}")
    pos_iou = check_number(pos_iou, "pos_iou", low=0.0, high=1.0)
    neg_iou = check_number(neg_iou, "neg_iou", low=0.0, high=1.0)
    check_bool(allow_low_quality, "allow_low_quality")
    if neg_iou > pos_iou:
        raise ValueError(f"neg_iou must be <= pos_iou, got neg_iou={neg_iou} and pos_iou={pos_iou}")


def match_anchors_loop(
    anchors: Tensor,
    gt_boxes: Tensor,
    pos_iou: float = 0.7,
    neg_iou: float = 0.3,
    allow_low_quality: bool = True,
) -> Tensor:
    """Loop reference of :func:`match_anchors`."""
    _check_match_args(anchors, gt_boxes, pos_iou, neg_iou, allow_low_quality)
    a, g = anchors.tolist(), gt_boxes.tolist()
    iou = [[_pair_iou(gt, anc) for anc in a] for gt in g]  # [G][A]
    matches = []
    best_gt = []
    for k in range(len(a)):
        best, arg = -1.0, NEGATIVE
        for m in range(len(g)):  # first gt wins ties, like torch.max
            if iou[m][k] > best:
                best, arg = iou[m][k], m
        best_gt.append(arg)
        if best >= pos_iou:
            matches.append(arg)
        elif best >= neg_iou:
            matches.append(IGNORE)
        else:
            matches.append(NEGATIVE)
    if allow_low_quality:
        for m in range(len(g)):
            top = max(iou[m], default=0.0)
            for k in range(len(a)):
                if top > 0 and iou[m][k] == top:
                    matches[k] = best_gt[k]
    return torch.tensor(matches, dtype=torch.int64, device=anchors.device)


def match_anchors(
    anchors: Tensor,
    gt_boxes: Tensor,
    pos_iou: float = 0.7,
    neg_iou: float = 0.3,
    allow_low_quality: bool = True,
) -> Tensor:
    """Assign each anchor a ground-truth box, background, or "ignore" (Faster R-CNN's RPN rule).

    With ``iou`` the best IoU of an anchor with any ground-truth box:
    ``iou >= pos_iou`` -> index of that box; ``iou < neg_iou`` -> ``-1`` (negative);
    in between -> ``-2`` (ignored by the loss). With ``allow_low_quality``, every
    anchor that has the highest IoU with some ground-truth box (ties included) is
    made positive even below ``pos_iou``, so that small or oddly shaped objects are
    learnt too; it is matched to the box it overlaps most.

    This is torchvision's ``Matcher(pos_iou, neg_iou, allow_low_quality_matches)``
    with one deliberate difference: a ground-truth box that overlaps no anchor
    at all (best IoU 0) adds no match (torchvision would then turn every anchor
    with IoU 0 into a positive of box 0). As in torchvision, a box whose best anchor
    overlaps another box more loses that anchor to it, so in rare crowded cases a
    box ends up with no anchor.

    Args:
        anchors: Tensor[A, 4], xyxy absolute pixels.
        gt_boxes: Tensor[G, 4], xyxy absolute pixels.
        pos_iou: IoU from which an anchor is positive (inclusive).
        neg_iou: IoU below which an anchor is negative (exclusive); ``neg_iou <= pos_iou``.
        allow_low_quality: also match each box's best anchors (see above).

    Returns:
        Tensor[A] int64: matched index in ``[0, G)``, ``-1`` negative or ``-2`` ignored.
        With no ground-truth box every anchor is negative.

    Examples:
        >>> anchors = torch.tensor([[0., 0., 10., 10.], [0., 0., 10., 8.], [5., 0., 15., 10.], [30., 30., 40., 40.]])
        >>> match_anchors(anchors, torch.tensor([[0., 0., 10., 10.]]), pos_iou=0.7, neg_iou=0.3)
        tensor([ 0,  0, -2, -1])
    """
    _check_match_args(anchors, gt_boxes, pos_iou, neg_iou, allow_low_quality)
    if gt_boxes.shape[0] == 0:
        return torch.full((anchors.shape[0],), NEGATIVE, dtype=torch.int64, device=anchors.device)
    if anchors.shape[0] == 0:
        return torch.empty(0, dtype=torch.int64, device=anchors.device)
    iou = box_iou(gt_boxes, anchors)  # [G, A]
    best_iou, best_gt = iou.max(dim=0)  # [A] each: best box of every anchor (first one on ties)
    matches = best_gt.clone()
    matches[best_iou < neg_iou] = NEGATIVE
    matches[(best_iou >= neg_iou) & (best_iou < pos_iou)] = IGNORE
    if allow_low_quality:
        top = iou.max(dim=1, keepdim=True).values  # [G, 1] best IoU of every box
        is_top = (iou == top) & (top > 0)  # [G, A], ties included
        anchor_idx = torch.nonzero(is_top.any(dim=0)).squeeze(1)
        matches[anchor_idx] = best_gt[anchor_idx]
    return matches


# ------------------------------------------------------------------------ sampling


def sample_anchors(
    labels: Tensor,
    batch_size_per_image: int = 256,
    positive_fraction: float = 0.5,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Draw a balanced mini-batch of anchors: at most ``positive_fraction`` positives.

    Takes ``min(#pos, batch_size_per_image * positive_fraction)`` positives at random
    and fills the rest of the batch with random negatives (as many as exist).
    Without it, the ~100:1 background-to-object ratio of anchors swamps the loss.
    Same draws as torchvision's ``BalancedPositiveNegativeSampler`` when ``generator``
    is None (both use the global generator, positives first).

    Args:
        labels: Tensor[A] int64 as returned by :func:`match_anchors`: ``>= 0`` positive,
            ``-1`` negative, ``-2`` ignored (never sampled).
        batch_size_per_image: total number of anchors to draw.
        positive_fraction: largest fraction of positives, in [0, 1].
        generator: a ``torch.Generator`` for reproducible draws (default: the global one).

    Returns:
        ``(positive_mask, negative_mask)``, two bool Tensor[A].

    Examples:
        >>> labels = torch.tensor([0, -1, -1, -2, 1, -1])
        >>> pos, neg = sample_anchors(labels, batch_size_per_image=4, generator=torch.Generator().manual_seed(0))
        >>> int(pos.sum()), int(neg.sum()), bool((pos & neg).any())
        (2, 2, False)
    """
    check_tensor(labels, "labels", ndim=1)
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise TypeError(f"labels must be an integer tensor, got {str(labels.dtype).replace('torch.', '')}")
    if labels.numel() and int(labels.min()) < IGNORE:
        raise ValueError(f"labels must be >= 0 (positive), -1 (negative) or -2 (ignored), got {int(labels.min())}")
    check_positive_int(batch_size_per_image, "batch_size_per_image")
    positive_fraction = check_number(positive_fraction, "positive_fraction", low=0.0, high=1.0)
    check_generator(generator, "generator")
    positive = torch.nonzero(labels >= 0).squeeze(1)
    negative = torch.nonzero(labels == NEGATIVE).squeeze(1)
    num_pos = min(positive.numel(), int(batch_size_per_image * positive_fraction))
    num_neg = min(negative.numel(), batch_size_per_image - num_pos)

    def randperm(n: int) -> Tensor:
        if generator is None:
            return torch.randperm(n, device=labels.device)
        return torch.randperm(n, generator=generator, device=generator.device).to(labels.device)

    pos_mask = torch.zeros_like(labels, dtype=torch.bool)
    neg_mask = torch.zeros_like(labels, dtype=torch.bool)
    pos_mask[positive[randperm(positive.numel())[:num_pos]]] = True
    neg_mask[negative[randperm(negative.numel())[:num_neg]]] = True
    return pos_mask, neg_mask
