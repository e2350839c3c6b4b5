"""Detection metrics: precision-recall curve, average precision (VOC and COCO), COCO mAP.

Boxes are xyxy absolute pixels (see :mod:`course_utils.ops.boxes`).

Average precision summarizes the precision-recall curve of one class, obtained
by ranking all its detections (over all images) by score: a detection is a true
positive if it matches a still unmatched ground-truth box with IoU >= threshold.
The three classic ways to integrate the curve, all on the *interpolated* precision
``p_interp(r) = max_{r' >= r} p(r')`` (the upper envelope, which removes the zigzag):

* ``"voc11"``: mean of ``p_interp`` at recall 0, 0.1, ..., 1 (PASCAL VOC 2007);
* ``"voc_all"``: exact area under the envelope, a sum over the points where recall
  changes (PASCAL VOC 2010 onwards);
* ``"coco101"``: mean of ``p_interp`` at recall 0, 0.01, ..., 1 (COCO).

:func:`mean_average_precision` reproduces pycocotools' ``COCOeval`` for boxes (area
"all"): per image and class, detections sorted by score (at most ``max_detections``)
are matched greedily to the best still-free ground truth; crowd boxes
(``iscrowd=1``) absorb matches without counting as true or false positives; AP is
the 101-point AP averaged over IoU thresholds .50:.05:.95 and over the classes that
have ground truth. All bookkeeping runs on the CPU in float64 (numpy), like pycocotools.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch
from torch import Tensor

from course_utils.checks import check_in, check_nonnegative_int, check_positive_int, check_tensor
from course_utils.ops.boxes import _check_boxes
from course_utils.references import not_an_answer, reference_of

__all__ = [
    "AP_METHODS",
    "COCO_IOU_THRESHOLDS",
    "COCO_RECALL_THRESHOLDS",
    "precision_recall_curve",
    "average_precision",
    "mean_average_precision",
]

AP_METHODS = ("voc11", "voc_all", "coco101")
# Built exactly as pycocotools builds them, so that thresholds compare equal bit for bit.
COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1)
COCO_RECALL_THRESHOLDS = np.linspace(0.0, 1.0, int(np.round((1.0 - 0.0) / 0.01)) + 1)
_VOC11_RECALLS = np.linspace(0.0, 1.0, 11)


# ------------------------------------------------------------------ PR curve and AP


def _precision_recall_curve_twin(scores, is_tp, num_gt):
    """Twin of :func:`precision_recall_curve`: ``sklearn.metrics.precision_recall_curve`` on the ranks."""
    from sklearn.metrics import precision_recall_curve as sklearn_precision_recall_curve
    num_gt = _check_pr_inputs(scores, is_tp, num_gt)
    ranked = torch.sort(scores.detach(), descending=True, stable=True)
    hits = is_tp[ranked.indices].cpu().numpy()
    rank = np.arange(1, len(hits) + 1, dtype=np.float64)
    if hits.any():
        # Minus the rank as the score: distinct, so sklearn keeps one point per detection (it lists them
        # from the last detection to the first and appends the point "no detection").
        precision = sklearn_precision_recall_curve(hits, -rank, drop_intermediate=False)[0][-2::-1].copy()
    else:
        precision = np.zeros(len(hits))  # sklearn would warn that there is no positive
    tp = np.round(precision * rank)  # the true positives among the k best, exactly
    precision = torch.from_numpy(precision).to(scores.device)
    recall = torch.from_numpy(tp / num_gt if num_gt > 0 else np.full(len(hits), np.nan)).to(scores.device)
    return precision, recall, ranked.values.to(torch.float64)


def _check_pr_inputs(scores, is_tp, num_gt) -> int:
    check_tensor(scores, "scores", ndim=1, floating=True)
    if bool(scores.isnan().any()):  # a NaN score has no rank
        raise ValueError(f"scores must not contain NaN, got NaN at index {int(scores.isnan().nonzero()[0])}")
    check_tensor(is_tp, "is_tp", shape=(scores.shape[0],), dtypes=(torch.bool,))
    if is_tp.device != scores.device:
        raise ValueError(f"is_tp must be on the device of scores ({scores.device}), got {is_tp.device}")
    num_gt = check_nonnegative_int(num_gt, "num_gt")
    hits = int(is_tp.sum())
    if hits > num_gt:  # each true positive matches its own ground-truth object
        raise ValueError(f"num_gt must be at least the number of true positives in is_tp ({hits}), got {num_gt}")
    return num_gt


@reference_of("05_detection/average_precision", twin=_precision_recall_curve_twin)
def precision_recall_curve(scores: Tensor, is_tp: Tensor, num_gt: int) -> tuple[Tensor, Tensor, Tensor]:
    """Precision and recall after each detection, detections ranked by decreasing score.

    Args:
        scores: Tensor[D] float, confidence of each detection (of one class).
        is_tp: Tensor[D] bool, whether each detection is a true positive (already matched).
        num_gt: number of ground-truth objects (the denominator of recall), at least the
            number of true positives.

    Returns:
        ``(precision, recall, thresholds)``, three Tensor[D] float64 in rank order
        (ties in score keep the input order): after the k best detections,
        ``precision[k-1] = TP / k`` and ``recall[k-1] = TP / num_gt`` (NaN if ``num_gt == 0``);
        ``thresholds`` are the sorted scores.

    Examples:
        >>> p, r, _ = precision_recall_curve(torch.tensor([0.9, 0.3, 0.8]), torch.tensor([True, True, False]), num_gt=4)
        >>> p
        tensor([1.0000, 0.5000, 0.6667], dtype=torch.float64)
        >>> r
        tensor([0.2500, 0.2500, 0.5000], dtype=torch.float64)
    """
    num_gt = _check_pr_inputs(scores, is_tp, num_gt)
    order = torch.sort(scores.detach(), descending=True, stable=True).indices
    tp = is_tp[order].to(torch.float64).cumsum(0)  # [D] true positives among the k best
    rank = torch.arange(1, scores.shape[0] + 1, dtype=torch.float64, device=scores.device)  # [D]
    precision = tp / rank
    recall = tp / num_gt if num_gt > 0 else torch.full_like(tp, float("nan"))
    return precision, recall, scores.detach()[order].to(torch.float64)


def _as_numpy(x, name: str) -> np.ndarray:
    if isinstance(x, Tensor):
        check_tensor(x, name, ndim=1)
        if x.is_complex():
            raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
        return x.detach().cpu().to(torch.float64).numpy()
    if not isinstance(x, (np.ndarray, list, tuple)):
        raise TypeError(f"{name} must be a 1-D tensor, array or list of numbers, got {type(x).__name__}")
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must hold numbers, got {x!r:.80}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got shape {list(arr.shape)}")
    return arr


def _check_curve(precision, recall, method) -> tuple[np.ndarray, np.ndarray]:
    """The inputs of :func:`average_precision` as float64 arrays: same length, in [0, 1], recall sorted."""
    check_in(method, "method", AP_METHODS)
    p = _as_numpy(precision, "precision")
    r = _as_numpy(recall, "recall")
    if p.shape != r.shape:
        raise ValueError(f"precision and recall must have the same length, got {len(p)} and {len(r)}")
    for name, a in (("recall", r), ("precision", p)):
        if np.isnan(a).any():
            raise ValueError(f"{name} must not contain NaN (a class without ground truth has no AP)")
        if ((a < 0) | (a > 1)).any():
            bad = a[(a < 0) | (a > 1)][0]
            raise ValueError(f"{name} must lie in [0, 1], got {bad}")
    if len(r) > 1 and (np.diff(r) < 0).any():
        raise ValueError("recall must be non-decreasing (detections in rank order)")
    return p, r


def _envelope(precision: np.ndarray) -> np.ndarray:
    """Interpolated precision: the running maximum from the right."""
    return np.maximum.accumulate(precision[::-1])[::-1]


def _ap_coco101(precision: np.ndarray, recall: np.ndarray) -> float:
    """Mean interpolated precision at the 101 COCO recall levels (as pycocotools' accumulate)."""
    q = np.zeros(len(COCO_RECALL_THRESHOLDS))
    if len(precision):
        env = _envelope(precision)
        idx = np.searchsorted(recall, COCO_RECALL_THRESHOLDS, side="left")  # first point reaching each level
        reached = idx < len(precision)
        q[reached] = env[idx[reached]]
    return float(q.mean())


def _average_precision_twin(precision, recall, method="coco101"):
    """Twin of :func:`average_precision`: every rule as the mean (or the recall-weighted sum) of the envelope."""
    p, r = _check_curve(precision, recall, method)
    if len(p) == 0:
        return 0.0
    envelope = _envelope(p)
    if method == "voc_all":
        return float(np.sum(np.diff(r, prepend=0.0) * envelope))
    levels = _VOC11_RECALLS if method == "voc11" else COCO_RECALL_THRESHOLDS
    first = np.searchsorted(r, levels, side="left")  # first point reaching each recall level
    return float(np.mean(np.where(first < len(p), envelope[np.minimum(first, len(p) - 1)], 0.0)))


@reference_of("05_detection/average_precision", twin=_average_precision_twin)
def average_precision(precision, recall, method: str = "coco101") -> float:
    """Area under a precision-recall curve, by one of the VOC or COCO rules.

    Args:
        precision: Tensor[D] (or array, or list), precision after each ranked detection, in [0, 1].
        recall: Tensor[D], recall after each ranked detection (non-decreasing, in [0, 1]), as
            returned by :func:`precision_recall_curve`.
        method: ``"voc11"`` (11-point, VOC2007), ``"voc_all"`` (area under the
            envelope, VOC2010+) or ``"coco101"`` (101-point, COCO).

    Returns:
        The average precision, a float in [0, 1] (0 for an empty curve: no detection of a
        class that has ground truth).

    Raises:
        ValueError: for a class without ground-truth objects. Its recall is 0 / 0, NaN in
            :func:`precision_recall_curve`, and its AP is undefined, not 0 or 1; COCO (and
            :func:`mean_average_precision`) leave such a class out of the mean. Also for
            values outside [0, 1], a decreasing recall, or curves of unequal length.

    Examples:
        >>> p, r = torch.tensor([1.0, 0.5, 2 / 3]), torch.tensor([0.5, 0.5, 1.0])
        >>> [round(average_precision(p, r, m), 4) for m in ("voc11", "voc_all", "coco101")]
        [0.8485, 0.8333, 0.835]
    """
    p, r = _check_curve(precision, recall, method)
    if method == "coco101":
        return _ap_coco101(p, r)
    if method == "voc11":
        # VOC2007 devkit: max precision at recall >= t, for t = 0, 0.1, ..., 1
        return float(np.mean([p[r >= t].max() if (r >= t).any() else 0.0 for t in _VOC11_RECALLS]))
    # VOC2010+ devkit: pad the curve, take the envelope, sum the rectangles where recall changes
    mrec = np.concatenate(([0.0], r, [1.0]))
    mpre = _envelope(np.concatenate(([0.0], p, [0.0])))
    change = np.nonzero(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[change + 1] - mrec[change]) * mpre[change + 1]))


# ------------------------------------------------------------------------- COCO mAP


def _iou_coco(dt: np.ndarray, gt: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """IoU [D, G] as pycocotools computes it; for a crowd box the union is the detection's area."""
    w = np.minimum(dt[:, None, 2], gt[None, :, 2]) - np.maximum(dt[:, None, 0], gt[None, :, 0])  # [D, G]
    h = np.minimum(dt[:, None, 3], gt[None, :, 3]) - np.maximum(dt[:, None, 1], gt[None, :, 1])  # [D, G]
    inter = np.where((w > 0) & (h > 0), w * h, 0.0)
    da = (dt[:, 2] - dt[:, 0]) * (dt[:, 3] - dt[:, 1])  # [D]
    ga = (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1])  # [G]
    union = np.where(crowd[None, :], da[:, None], da[:, None] + ga[None, :] - inter)  # [D, G]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(inter > 0, inter / union, 0.0)


def _last_argmax(values: np.ndarray) -> np.ndarray:
    """Index of the last maximum of each row (pycocotools keeps the later box on ties)."""
    return values.shape[1] - 1 - np.argmax(values[:, ::-1], axis=1)


def _match_image_class(ious: np.ndarray, crowd: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Greedy matching of one image and class, at every IoU threshold at once.

    Args:
        ious: [D, G], detections sorted by decreasing score, ground truth with the
            crowd boxes last.
        crowd: [G] bool. thresholds: [T].

    Returns:
        ``(matched, ignored)``, two bool [T, D]: detection d is a true positive at
        threshold t if matched and not ignored; matched to a crowd box it is ignored.
    """
    num_t, (num_d, num_g) = len(thresholds), ious.shape
    num_real = int((~crowd).sum())  # the non-crowd boxes come first
    thr = np.minimum(thresholds, 1 - 1e-10)[:, None]  # [T, 1]
    taken = np.zeros((num_t, num_g), dtype=bool)  # [T, G]
    matched = np.zeros((num_t, num_d), dtype=bool)
    ignored = np.zeros((num_t, num_d), dtype=bool)
    for d in range(num_d):  # best detection first: it picks before the others
        iou = ious[d][None, :]  # [1, G]
        # best still-free real box with IoU >= t ...
        ok = ~taken[:, :num_real] & (iou[:, :num_real] >= thr)  # [T, G_real]
        found = ok.any(axis=1)  # [T]
        best = _last_argmax(np.where(ok, iou[:, :num_real], -1.0)) if num_real else np.zeros(num_t, dtype=np.int64)
        # ... otherwise the best crowd box (crowd boxes can absorb any number of detections)
        on_crowd = np.zeros(num_t, dtype=bool)
        if num_real < num_g:
            ok_crowd = iou[:, num_real:] >= thr  # [T, G_crowd]
            on_crowd = ~found & ok_crowd.any(axis=1)
            best_crowd = num_real + _last_argmax(np.where(ok_crowd, iou[:, num_real:], -1.0))
            best = np.where(found, best, best_crowd)
        hit = np.nonzero(found | on_crowd)[0]
        matched[hit, d] = True
        ignored[hit, d] = on_crowd[hit]
        taken[hit, best[hit]] = True
    return matched, ignored


def _check_dicts(items, name: str, keys: Sequence[str]) -> None:
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"{name} must be a list of dicts (one per image), got {type(items).__name__}")
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise TypeError(f"{name}[{i}] must be a dict, got {type(item).__name__}")
        for key in keys:
            if key not in item:
                raise ValueError(f"{name}[{i}] must have the keys {list(keys)}, missing {key!r}")
        n = _check_boxes(item["boxes"], f"{name}[{i}]['boxes']").shape[0]  # real and finite
        for key in keys[1:]:
            check_tensor(item[key], f"{name}[{i}][{key!r}]", shape=(n,))
        labels = item["labels"]
        if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
            raise TypeError(f"{name}[{i}]['labels'] must be an integer tensor, got {labels.dtype}")
        if "scores" in keys:
            check_tensor(item["scores"], f"{name}[{i}]['scores']", floating=True)
            if bool(item["scores"].isnan().any()):
                raise ValueError(f"{name}[{i}]['scores'] must not contain NaN")
        crowd = item.get("iscrowd")
        if crowd is not None:
            check_tensor(crowd, f"{name}[{i}]['iscrowd']", shape=(n,))
            if crowd.is_complex() or not bool(((crowd == 0) | (crowd == 1)).all()):
                raise ValueError(f"{name}[{i}]['iscrowd'] must hold 0/1 or True/False, got {crowd.tolist()}")


def _numpy(t: Tensor, dtype) -> np.ndarray:
    return t.detach().cpu().numpy().astype(dtype)


@not_an_answer("05_detection/average_precision",
               why="the whole COCO evaluation (matching, crowd boxes, 101-point AP over IoU thresholds)")
def mean_average_precision(
    preds: Sequence[Mapping[str, Tensor]],
    targets: Sequence[Mapping[str, Tensor]],
    iou_thresholds: Sequence[float] | None = None,
    max_detections: int = 100,
) -> dict:
    """COCO-style mean average precision for boxes, equal to pycocotools' ``COCOeval``.

    For each class and IoU threshold: in each image, take the class's detections by
    decreasing score (at most ``max_detections`` per image and class, as COCOeval);
    each one matches the still-unmatched ground-truth box of that class with the
    highest IoU >= threshold, else is a false positive; detections matching a crowd
    box are ignored. Pool all images, rank by score, compute the 101-point AP. The
    mAP averages over thresholds and over the classes that have ground truth; a class
    with ground truth but no detection counts 0; a class only predicted gets -1 and
    is left out (as COCOeval). Area range "all" only.

    Args:
        preds: one dict per image: ``"boxes"`` Tensor[D, 4] (xyxy), ``"scores"`` Tensor[D],
            ``"labels"`` Tensor[D] int64.
        targets: one dict per image (same order): ``"boxes"`` Tensor[G, 4], ``"labels"``
            Tensor[G] int64, optional ``"iscrowd"`` Tensor[G] (bool or 0/1).
        iou_thresholds: IoU thresholds; default COCO's 0.50, 0.55, ..., 0.95.
        max_detections: detections kept per image and class (COCO: 100).

    Returns:
        A dict with

        * ``"map"``: mAP averaged over the IoU thresholds (COCO's AP@[.5:.95]), a float;
        * ``"map_50"``, ``"map_75"``: mAP at IoU 0.5 and 0.75 (when among the thresholds);
        * ``"mar_{max_detections}"`` (e.g. ``"mar_100"``): mean recall at the end of the
          ranking, averaged over thresholds and classes;
        * ``"classes"``: Tensor[K] int64, every label seen in preds or targets, sorted;
        * ``"map_per_class"``, ``"mar_per_class"``: Tensor[K] float64, -1 for a class without ground truth;
        * ``"precision"``: Tensor[T, 101, K], interpolated precision at each COCO recall
          level (-1 for classes without ground truth), to plot PR curves;
        * ``"iou_thresholds"``: Tensor[T].

        Averages over no class at all are -1.

    Examples:
        >>> preds = [{"boxes": torch.tensor([[0., 0., 10., 10.], [20., 20., 30., 30.]]),
        ...           "scores": torch.tensor([0.9, 0.8]), "labels": torch.tensor([1, 1])}]
        >>> targets = [{"boxes": torch.tensor([[0., 0., 10., 10.]]), "labels": torch.tensor([1])}]
        >>> result = mean_average_precision(preds, targets)
        >>> result["map"], result["map_50"]
        (1.0, 1.0)
    """
    _check_dicts(preds, "preds", ("boxes", "scores", "labels"))
    _check_dicts(targets, "targets", ("boxes", "labels"))
    if len(preds) != len(targets):
        raise ValueError(f"preds and targets must have one entry per image, got {len(preds)} and {len(targets)}")
    check_positive_int(max_detections, "max_detections")
    if iou_thresholds is None:
        thresholds = COCO_IOU_THRESHOLDS
    else:
        thresholds = _as_numpy(iou_thresholds, "iou_thresholds")
        if len(thresholds) == 0 or not (np.isfinite(thresholds) & (thresholds >= 0) & (thresholds <= 1)).all():
            raise ValueError(f"iou_thresholds must be a non-empty list of numbers in [0, 1], got {iou_thresholds!r}")

    images = []
    for p, t in zip(preds, targets):
        crowd = t.get("iscrowd")
        crowd = np.zeros(len(t["labels"]), dtype=bool) if crowd is None else _numpy(crowd, bool)
        images.append(
            (
                _numpy(p["boxes"], np.float64), _numpy(p["scores"], np.float64), _numpy(p["labels"], np.int64),
                _numpy(t["boxes"], np.float64), _numpy(t["labels"], np.int64), crowd,
            )
        )
    classes = sorted({int(c) for im in images for c in np.concatenate((im[2], im[4]))})
    num_t, num_r, num_k = len(thresholds), len(COCO_RECALL_THRESHOLDS), len(classes)
    precision = -np.ones((num_t, num_r, num_k))
    recall = -np.ones((num_t, num_k))

    for k, c in enumerate(classes):
        all_scores, all_matched, all_ignored, num_gt = [], [], [], 0
        for dt_boxes, dt_scores, dt_labels, gt_boxes, gt_labels, gt_crowd in images:
            d_sel, g_sel = dt_labels == c, gt_labels == c
            if not d_sel.any() and not g_sel.any():
                continue
            order = np.argsort(-dt_scores[d_sel], kind="mergesort")[:max_detections]  # stable, as COCOeval
            dt, scores = dt_boxes[d_sel][order], dt_scores[d_sel][order]
            crowd = gt_crowd[g_sel]
            g_order = np.argsort(crowd, kind="mergesort")  # crowd boxes last
            gt, crowd = gt_boxes[g_sel][g_order], crowd[g_order]
            matched, ignored = _match_image_class(_iou_coco(dt, gt, crowd), crowd, thresholds)
            all_scores.append(scores)
            all_matched.append(matched)
            all_ignored.append(ignored)
            num_gt += int((~crowd).sum())
        if num_gt == 0:
            continue  # no ground truth: AP undefined (-1), left out of the mean
        scores = np.concatenate(all_scores) if all_scores else np.zeros(0)
        rank = np.argsort(-scores, kind="mergesort")  # ties: image order, then rank in the image
        matched = np.concatenate(all_matched, axis=1)[:, rank] if all_scores else np.zeros((num_t, 0), bool)
        ignored = np.concatenate(all_ignored, axis=1)[:, rank] if all_scores else np.zeros((num_t, 0), bool)
        tp = np.cumsum(matched & ~ignored, axis=1, dtype=np.float64)  # [T, D]
        fp = np.cumsum(~matched & ~ignored, axis=1, dtype=np.float64)
        for t in range(num_t):
            rc = tp[t] / num_gt
            pr = tp[t] / np.maximum(tp[t] + fp[t], 1)  # 0 before the first counted detection
            recall[t, k] = rc[-1] if len(rc) else 0.0
            q = np.zeros(num_r)
            if len(pr):
                env = _envelope(pr)
                idx = np.searchsorted(rc, COCO_RECALL_THRESHOLDS, side="left")
                reached = idx < len(pr)
                q[reached] = env[idx[reached]]
            precision[t, :, k] = q

    valid = recall[0] > -1 if num_k else np.zeros(0, dtype=bool)  # classes with ground truth

    def mean_or_minus_one(x: np.ndarray) -> float:
        return float(x.mean()) if x.size else -1.0

    result = {
        "map": mean_or_minus_one(precision[:, :, valid]),
        f"mar_{max_detections}": mean_or_minus_one(recall[:, valid]),
    }
    for name, value in (("map_50", 0.5), ("map_75", 0.75)):
        hit = np.nonzero(np.isclose(thresholds, value))[0]
        if len(hit):
            result[name] = mean_or_minus_one(precision[hit[0], :, valid])
    per_class_ap = np.where(valid, precision.mean(axis=(0, 1)), -1.0) if num_k else np.zeros(0)
    per_class_ar = np.where(valid, recall.mean(axis=0), -1.0) if num_k else np.zeros(0)
    result["classes"] = torch.tensor(classes, dtype=torch.int64)
    result["map_per_class"] = torch.from_numpy(per_class_ap)
    result["mar_per_class"] = torch.from_numpy(per_class_ar)
    result["precision"] = torch.from_numpy(precision)
    result["iou_thresholds"] = torch.from_numpy(np.array(thresholds, dtype=np.float64))
    return result
