"""Semantic segmentation metrics, all derived from one confusion matrix.

Label maps are ``int64`` tensors of class ids in ``[0, num_classes)`` of any (equal)
shape, e.g. ``Tensor[N, H, W]``. The confusion matrix ``cm`` is ``Tensor[C, C]``
int64 with **rows = target (true) class, columns = predicted class**:
``cm[t, p]`` counts the pixels of class ``t`` predicted as ``p``.

For class ``c``: ``TP = cm[c, c]``, ``FN = row sum - TP``, ``FP = column sum - TP``,
``IoU_c = TP / (TP + FP + FN)``.

Conventions for classes that do not occur:

* a class absent from both the target and the prediction has ``TP + FP + FN = 0``:
  its IoU is **NaN** (undefined, not 0 or 1), and :func:`mean_iou` averages over the
  other classes only (a NaN-mean), returning which classes counted if asked;
* a class absent from the target but predicted somewhere has IoU 0 and counts.

Inputs are checked through :mod:`course_utils.checks`: ``num_classes`` is at most
:data:`MAX_NUM_CLASSES` (a ``[C, C]`` matrix must fit in memory), and a confusion matrix
must hold counts (finite, non-negative whole numbers, in any real dtype).

``torchmetrics.classification.MulticlassJaccardIndex`` agrees on the mean
(``average="macro"`` gives absent classes weight 0), but with ``average="none"`` it
reports absent classes as ``zero_division`` (0 by default) instead of NaN. When its
``ignore_index`` is a valid class id, it drops that class from the macro mean too;
:func:`segmentation_metrics` does the same.
"""
from __future__ import annotations

from numbers import Integral

import numpy as np
import torch
from torch import Tensor

from ..checks import check_bool, check_positive_int, check_tensor
from ..references import not_an_answer, reference_of

__all__ = [
    "confusion_matrix",
    "confusion_matrix_loop",
    "pixel_accuracy",
    "per_class_iou",
    "mean_iou",
    "per_class_accuracy",
    "segmentation_metrics",
]

_INT_DTYPES = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)
#: Largest number of classes of a confusion matrix: [4096, 4096] int64 is 128 MiB.
MAX_NUM_CLASSES = 4096


def _valid_pixels(pred: Tensor, target: Tensor, num_classes: int, ignore_index: int | None) -> tuple[Tensor, Tensor]:
    """Check the label maps and return the flat ``(pred, target)`` of the pixels that count."""
    check_tensor(pred, "pred", dtypes=_INT_DTYPES)
    check_tensor(target, "target", dtypes=_INT_DTYPES)
    num_classes = check_positive_int(num_classes, "num_classes", maximum=MAX_NUM_CLASSES)
    if ignore_index is not None and (isinstance(ignore_index, bool) or not isinstance(ignore_index, Integral)):
        raise TypeError(f"ignore_index must be an int or None, got {type(ignore_index).__name__} ({ignore_index!r})")
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {list(pred.shape)} and {list(target.shape)}")
    if pred.device != target.device:
        raise ValueError(f"target must be on the device of pred ({pred.device}), got {target.device}")
    pred, target = pred.reshape(-1).long(), target.reshape(-1).long()  # [P] pixels
    if ignore_index is not None:
        keep = target != ignore_index  # ignored pixels are decided by the target only
        pred, target = pred[keep], target[keep]
    for name, t in (("pred", pred), ("target", target)):
        if t.numel() and (t.min() < 0 or t.max() >= num_classes):
            bad = t[(t < 0) | (t >= num_classes)][0].item()
            raise ValueError(f"{name} values must be in [0, {num_classes - 1}] (or ignore_index), got {bad}")
    return pred, target


def _confusion_matrix_twin(pred, target, num_classes, ignore_index=None):
    """Twin of the confusion-matrix references: ``sklearn.metrics.confusion_matrix``."""
    from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix
    pred, target = _valid_pixels(pred, target, num_classes, ignore_index)
    if target.numel() == 0:
        return torch.zeros(num_classes, num_classes, dtype=torch.int64, device=pred.device)
    cm = sklearn_confusion_matrix(target.cpu().numpy(), pred.cpu().numpy(), labels=np.arange(num_classes))
    return torch.from_numpy(cm.astype(np.int64)).to(pred.device)


@reference_of("04_segmentation/confusion", twin=_confusion_matrix_twin)
def confusion_matrix(pred: Tensor, target: Tensor, num_classes: int, ignore_index: int | None = None) -> Tensor:
    """Confusion matrix of two label maps, vectorized with one ``bincount``.

    Each pixel is given the single index ``target * C + pred``; counting those indices
    and reshaping the ``C * C`` counts to ``[C, C]`` puts pixel ``(t, p)`` in row ``t``,
    column ``p``.

    Args:
        pred: predicted class ids, integer ``Tensor[*]``.
        target: true class ids, integer ``Tensor[*]`` of the same shape.
        num_classes: ``C``.
        ignore_index: pixels whose *target* has this value are left out (e.g. 255 for
            VOC borders); it may be outside ``[0, C)``.

    Returns:
        ``Tensor[C, C]`` int64 on the inputs' device; zeros for empty inputs.

    Examples:
        >>> target = torch.tensor([0, 0, 1, 1, 2])
        >>> pred = torch.tensor([0, 1, 1, 1, 0])
        >>> confusion_matrix(pred, target, num_classes=3)
        tensor([[1, 1, 0],
                [0, 2, 0],
                [1, 0, 0]])
    """
    pred, target = _valid_pixels(pred, target, num_classes, ignore_index)
    index = target * num_classes + pred  # [P] in [0, C*C): row-major position of (t, p)
    counts = torch.bincount(index, minlength=num_classes * num_classes)  # [C*C]
    return counts.reshape(num_classes, num_classes)  # [C, C]


@reference_of("04_segmentation/confusion", twin=_confusion_matrix_twin)
def confusion_matrix_loop(pred: Tensor, target: Tensor, num_classes: int, ignore_index: int | None = None) -> Tensor:
    """Reference for :func:`confusion_matrix`: one pixel at a time. Slow; meant to be read.

    Examples:
        >>> confusion_matrix_loop(torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1]), num_classes=2)
        tensor([[1, 1],
                [0, 1]])
    """
    pred, target = _valid_pixels(pred, target, num_classes, ignore_index)
    cm = torch.zeros(num_classes, num_classes, dtype=torch.int64, device=pred.device)
    for t, p in zip(target.tolist(), pred.tolist()):
        cm[t, p] += 1
    return cm


def _check_cm(cm: Tensor) -> Tensor:
    check_tensor(cm, "cm", ndim=2)
    if cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square [C, C] confusion matrix, got {list(cm.shape)}")
    if cm.dtype == torch.bool or cm.is_complex():
        raise TypeError(f"cm must hold counts (an integer or float tensor), got dtype {cm.dtype}")
    counts = cm.double()  # float64: large pixel counts, exact ratios, NaN for 0/0
    bad = ~torch.isfinite(counts) | (counts < 0) | (counts != counts.round())  # [C, C]
    if bool(bad.any()):
        i, j = bad.nonzero()[0].tolist()
        raise ValueError(f"cm must hold pixel counts (non-negative whole numbers), got {counts[i, j].item()} at [{i}, {j}]")
    return counts


def _as_weighted_pixels(cm: Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``cm`` as scikit-learn inputs: one (target, prediction) pair per cell, weighted by its count."""
    labels = np.arange(cm.shape[0])
    return np.repeat(labels, len(labels)), np.tile(labels, len(labels)), cm.cpu().numpy().reshape(-1), labels


def _pixel_accuracy_twin(cm):
    """Twin of :func:`pixel_accuracy`: ``sklearn.metrics.accuracy_score`` weighted by the counts of ``cm``."""
    from sklearn.metrics import accuracy_score
    cm = _check_cm(cm)
    if float(cm.sum()) == 0:
        return torch.tensor(float("nan"), dtype=torch.float64, device=cm.device)
    target, pred, weight, _ = _as_weighted_pixels(cm)
    return torch.tensor(accuracy_score(target, pred, sample_weight=weight), dtype=torch.float64, device=cm.device)


@reference_of("04_segmentation/miou", twin=_pixel_accuracy_twin)
def pixel_accuracy(cm: Tensor) -> Tensor:
    """Fraction of pixels whose class is right: ``trace(cm) / sum(cm)``.

    Returns:
        0-dim float64 tensor; NaN if ``cm`` counts no pixel.

    Examples:
        >>> pixel_accuracy(torch.tensor([[1, 1, 0], [0, 2, 0], [1, 0, 0]]))
        tensor(0.6000, dtype=torch.float64)
    """
    cm = _check_cm(cm)
    return cm.diagonal().sum() / cm.sum()  # 0 / 0 = NaN for an empty matrix


def _per_class_iou_twin(cm):
    """Twin of :func:`per_class_iou`: ``sklearn.metrics.jaccard_score`` weighted by the counts of ``cm``."""
    from sklearn.metrics import jaccard_score
    cm = _check_cm(cm)
    if float(cm.sum()) == 0:  # no pixel at all: every class is undefined
        return torch.full((cm.shape[0],), float("nan"), dtype=torch.float64, device=cm.device)
    target, pred, weight, labels = _as_weighted_pixels(cm)
    iou = jaccard_score(target, pred, labels=labels, average=None, sample_weight=weight, zero_division=0)
    iou = torch.as_tensor(iou, dtype=torch.float64, device=cm.device).reshape(len(labels))
    absent = (cm.sum(dim=0) == 0) & (cm.sum(dim=1) == 0)  # neither predicted nor present: undefined, not 0
    return iou.masked_fill(absent, float("nan"))


@reference_of("04_segmentation/miou", twin=_per_class_iou_twin)
def per_class_iou(cm: Tensor) -> Tensor:
    """Intersection over union of every class: ``TP / (TP + FP + FN)``.

    Returns:
        ``Tensor[C]`` float64; NaN for a class absent from both target and prediction.

    Examples:
        >>> per_class_iou(torch.tensor([[1, 1, 0], [0, 2, 0], [1, 0, 0]]))
        tensor([0.3333, 0.6667, 0.0000], dtype=torch.float64)
        >>> per_class_iou(torch.tensor([[3, 0], [0, 0]]))  # class 1 never occurs
        tensor([1., nan], dtype=torch.float64)
    """
    cm = _check_cm(cm)
    tp = cm.diagonal()  # [C]
    union = cm.sum(dim=0) + cm.sum(dim=1) - tp  # [C]: TP + FP + FN (column + row, TP counted once)
    return tp / union  # 0 / 0 = NaN exactly where the class is absent from both


def _mean_iou_twin(cm, return_counted=False):
    """Twin of :func:`mean_iou`: the NaN-mean of :func:`_per_class_iou_twin`."""
    _check_cm(cm)
    check_bool(return_counted, "return_counted")
    iou = _per_class_iou_twin(cm)
    return (iou.nanmean(), ~iou.isnan()) if return_counted else iou.nanmean()


@reference_of("04_segmentation/miou", twin=_mean_iou_twin)
def mean_iou(cm: Tensor, return_counted: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Mean of :func:`per_class_iou` over the classes present in target or prediction.

    Classes with NaN IoU (absent from both) are left out of the mean (NaN-mean); a
    class that is predicted but absent from the target counts with IoU 0.

    Args:
        cm: ``Tensor[C, C]`` confusion matrix.
        return_counted: also return ``Tensor[C]`` bool, True for the classes averaged.

    Returns:
        0-dim float64 tensor (NaN if no class is present), and the mask if asked.

    Examples:
        >>> cm = torch.tensor([[3, 1, 0], [0, 2, 0], [0, 0, 0]])  # class 2 absent
        >>> mean_iou(cm, return_counted=True)
        (tensor(0.7083, dtype=torch.float64), tensor([ True,  True, False]))
    """
    _check_cm(cm)
    check_bool(return_counted, "return_counted")
    iou = per_class_iou(cm)
    counted = ~torch.isnan(iou)
    value = iou.nanmean()
    return (value, counted) if return_counted else value


def per_class_accuracy(cm: Tensor) -> Tensor:
    """Recall of every class: ``TP / (TP + FN)``; NaN for classes absent from the target.

    Examples:
        >>> per_class_accuracy(torch.tensor([[1, 1, 0], [0, 2, 0], [0, 0, 0]]))
        tensor([0.5000, 1.0000,    nan], dtype=torch.float64)
    """
    cm = _check_cm(cm)
    return cm.diagonal() / cm.sum(dim=1)


@not_an_answer("04_segmentation/confusion", "04_segmentation/miou",
               why="puts together confusion_matrix, per_class_iou and the other metrics, which are withheld")
def segmentation_metrics(pred: Tensor, target: Tensor, num_classes: int,
                         ignore_index: int | None = None) -> dict[str, Tensor]:
    """Every metric of this module from one pair of label maps.

    Pixels whose target is ``ignore_index`` are left out; if ``ignore_index`` is a class
    id in ``[0, C)`` (e.g. 0 to score foreground classes only), that class is also left
    out of ``mean_iou`` and ``mean_accuracy``, as in torchmetrics.

    Args:
        pred: predicted class ids, integer ``Tensor[*]`` (e.g. ``logits.argmax(1)``, ``[N, H, W]``).
        target: true class ids, integer ``Tensor[*]`` of the same shape.
        num_classes: ``C``.
        ignore_index: target value to ignore.

    Returns:
        dict with ``confusion_matrix`` (``Tensor[C, C]`` int64), ``pixel_accuracy``,
        ``mean_iou``, ``mean_accuracy`` (0-dim float64), ``per_class_iou``,
        ``per_class_accuracy`` (``Tensor[C]`` float64, NaN = undefined) and
        ``counted_classes`` (``Tensor[C]`` bool, the classes in ``mean_iou``).

    Examples:
        >>> m = segmentation_metrics(torch.tensor([[0, 1], [1, 1]]), torch.tensor([[0, 1], [0, 1]]), 3)
        >>> round(m["pixel_accuracy"].item(), 3), round(m["mean_iou"].item(), 3), m["counted_classes"].tolist()
        (0.75, 0.583, [True, True, False])
    """
    cm = confusion_matrix(pred, target, num_classes, ignore_index)
    iou = per_class_iou(cm)
    acc = per_class_accuracy(cm)
    if ignore_index is not None and 0 <= ignore_index < num_classes:
        # The class's pixels were removed from the target, so its score means nothing.
        iou[ignore_index] = float("nan")
        acc[ignore_index] = float("nan")
    counted = ~torch.isnan(iou)
    return {
        "confusion_matrix": cm,
        "pixel_accuracy": pixel_accuracy(cm),
        "mean_iou": iou.nanmean(),
        "mean_accuracy": acc.nanmean(),
        "per_class_iou": iou,
        "per_class_accuracy": acc,
        "counted_classes": counted,
    }
