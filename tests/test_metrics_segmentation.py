"""Tests for course_utils.metrics.segmentation against a loop, numpy masks and torchmetrics."""
import math

import numpy as np
import pytest
import torch
from torchmetrics.classification import MulticlassConfusionMatrix, MulticlassJaccardIndex

from course_utils.metrics import segmentation as seg
from course_utils.metrics.segmentation import (
    confusion_matrix,
    confusion_matrix_loop,
    mean_iou,
    per_class_accuracy,
    per_class_iou,
    pixel_accuracy,
    segmentation_metrics,
)


def random_maps(shape, num_classes, seed, absent=(), ignore_index=None, ignore_fraction=0.0):
    """Random (pred, target) label maps, with some classes absent from both and some ignored pixels."""
    g = torch.Generator().manual_seed(seed)
    present = torch.tensor([c for c in range(num_classes) if c not in absent])
    target = present[torch.randint(len(present), shape, generator=g)]
    # Predictions right 60% of the time, so the IoUs are neither 0 nor 1.
    noise = present[torch.randint(len(present), shape, generator=g)]
    pred = torch.where(torch.rand(shape, generator=g) < 0.6, target, noise)
    if ignore_index is not None:
        target = torch.where(torch.rand(shape, generator=g) < ignore_fraction, torch.tensor(ignore_index), target)
    return pred, target


def numpy_iou(pred: np.ndarray, target: np.ndarray, num_classes: int, ignore_index=None) -> np.ndarray:
    """Independent reference: IoU from boolean masks, |P & T| / |P | T|."""
    keep = np.ones(target.shape, bool) if ignore_index is None else target != ignore_index
    out = np.full(num_classes, np.nan)
    for c in range(num_classes):
        p, t = (pred == c) & keep, (target == c) & keep
        union = np.logical_or(p, t).sum()
        if union:
            out[c] = np.logical_and(p, t).sum() / union
    return out


def test_hand_example():
    target = torch.tensor([[0, 0, 1], [1, 2, 2]])
    pred = torch.tensor([[0, 1, 1], [1, 2, 0]])
    cm = confusion_matrix(pred, target, 3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]  # rows = target, columns = prediction
    assert cm.dtype == torch.int64
    assert pixel_accuracy(cm).item() == pytest.approx(4 / 6)
    # class 0: TP 1, FP 1, FN 1; class 1: TP 2, FP 1, FN 0; class 2: TP 1, FP 0, FN 1
    torch.testing.assert_close(per_class_iou(cm), torch.tensor([1 / 3, 2 / 3, 1 / 2], dtype=torch.float64))
    assert mean_iou(cm).item() == pytest.approx((1 / 3 + 2 / 3 + 1 / 2) / 3)
    torch.testing.assert_close(per_class_accuracy(cm), torch.tensor([0.5, 1.0, 0.5], dtype=torch.float64))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("ignore_index", [None, 255, 2])
def test_vectorized_matches_loop_and_numpy(seed, ignore_index):
    C = 6
    pred, target = random_maps((3, 9, 11), C, seed, absent=(4,), ignore_index=ignore_index, ignore_fraction=0.2)
    cm = confusion_matrix(pred, target, C, ignore_index=ignore_index)
    assert torch.equal(cm, confusion_matrix_loop(pred, target, C, ignore_index=ignore_index))
    keep = target != ignore_index if ignore_index is not None else torch.ones_like(target, dtype=torch.bool)
    assert cm.sum() == keep.sum()
    iou = per_class_iou(cm).numpy()
    np.testing.assert_allclose(iou, numpy_iou(pred.numpy(), target.numpy(), C, ignore_index), rtol=1e-12)
    assert math.isnan(iou[4])  # absent from both prediction and target


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("ignore_index", [None, 255])
def test_matches_torchmetrics(seed, ignore_index):
    C = 7
    pred, target = random_maps((4, 16, 16), C, seed, absent=(1, 5), ignore_index=ignore_index, ignore_fraction=0.1)
    cm = confusion_matrix(pred, target, C, ignore_index=ignore_index)
    tm_cm = MulticlassConfusionMatrix(num_classes=C, ignore_index=ignore_index)(pred, target)
    assert torch.equal(cm, tm_cm)
    # Mean: torchmetrics' macro average also leaves out classes absent from both.
    tm_mean = MulticlassJaccardIndex(num_classes=C, average="macro", ignore_index=ignore_index)(pred, target)
    value, counted = mean_iou(cm, return_counted=True)
    assert value.item() == pytest.approx(tm_mean.item(), abs=1e-6)
    assert counted.tolist() == [c not in (1, 5) for c in range(C)]
    # Per class: torchmetrics reports absent classes as 0 (zero_division), we report NaN.
    tm_per_class = MulticlassJaccardIndex(num_classes=C, average="none", ignore_index=ignore_index)(pred, target)
    iou = per_class_iou(cm)
    torch.testing.assert_close(iou[counted].float(), tm_per_class[counted], atol=1e-6, rtol=1e-6)
    assert (tm_per_class[~counted] == 0).all() and torch.isnan(iou[~counted]).all()


def test_in_range_ignore_index_matches_torchmetrics():
    # Ignoring a real class (here background 0): its pixels and its score both leave the mean.
    C = 4
    pred, target = random_maps((2, 12, 12), C, seed=7)
    m = segmentation_metrics(pred, target, C, ignore_index=0)
    tm = MulticlassJaccardIndex(num_classes=C, average="macro", ignore_index=0)(pred, target)
    assert m["mean_iou"].item() == pytest.approx(tm.item(), abs=1e-6)
    assert m["counted_classes"].tolist() == [False, True, True, True]
    assert m["confusion_matrix"][0].sum() == 0


def test_predicted_but_absent_class_counts_as_zero():
    target = torch.tensor([0, 0, 0, 0])
    pred = torch.tensor([0, 0, 1, 1])  # class 1 predicted, never true; class 2 nowhere
    iou, counted = mean_iou(confusion_matrix(pred, target, 3), return_counted=True)
    assert counted.tolist() == [True, True, False]
    assert iou.item() == pytest.approx((0.5 + 0.0) / 2)
    tm = MulticlassJaccardIndex(num_classes=3, average="macro")(pred, target)
    assert iou.item() == pytest.approx(tm.item())


def test_segmentation_metrics_dict():
    C = 5
    pred, target = random_maps((2, 8, 8), C, seed=3, absent=(3,))
    m = segmentation_metrics(pred, target, C)
    cm = confusion_matrix(pred, target, C)
    assert torch.equal(m["confusion_matrix"], cm)
    assert m["pixel_accuracy"].item() == pytest.approx((pred == target).double().mean().item())
    torch.testing.assert_close(m["per_class_iou"], per_class_iou(cm), equal_nan=True)
    assert m["mean_iou"].item() == pytest.approx(mean_iou(cm).item())
    assert m["mean_accuracy"].item() == pytest.approx(per_class_accuracy(cm).nanmean().item())
    assert m["counted_classes"].tolist() == [True, True, True, False, True]
    for key in ("pixel_accuracy", "mean_iou", "mean_accuracy", "per_class_iou", "per_class_accuracy"):
        assert m[key].dtype == torch.float64


def test_empty_input():
    for empty in (torch.zeros(0, dtype=torch.long), torch.zeros(2, 0, 5, dtype=torch.long)):
        cm = confusion_matrix(empty, empty, 3)
        assert cm.shape == (3, 3) and cm.dtype == torch.int64 and cm.sum() == 0
        assert torch.equal(cm, confusion_matrix_loop(empty, empty, 3))
        assert torch.isnan(pixel_accuracy(cm))
        assert torch.isnan(per_class_iou(cm)).all()
        value, counted = mean_iou(cm, return_counted=True)
        assert torch.isnan(value) and not counted.any()
    # Every pixel ignored is empty too.
    t = torch.full((4,), 255)
    assert confusion_matrix(torch.zeros(4, dtype=torch.long), t, 2, ignore_index=255).sum() == 0


def test_small_integer_dtypes_accepted():
    pred = torch.tensor([0, 1, 1], dtype=torch.uint8)
    target = torch.tensor([0, 1, 0], dtype=torch.int32)
    assert confusion_matrix(pred, target, 2).tolist() == [[1, 1], [0, 1]]


def test_errors():
    with pytest.raises(ValueError, match=r"same shape, got \[3\] and \[4\]"):
        confusion_matrix(torch.zeros(3, dtype=torch.long), torch.zeros(4, dtype=torch.long), 2)
    with pytest.raises(TypeError, match="pred must have dtype"):
        confusion_matrix(torch.zeros(3), torch.zeros(3, dtype=torch.long), 2)
    with pytest.raises(ValueError, match=r"target values must be in \[0, 1\].*got 5"):
        confusion_matrix(torch.zeros(3, dtype=torch.long), torch.tensor([0, 5, 1]), 2)
    with pytest.raises(ValueError, match="pred values"):
        confusion_matrix(torch.tensor([-1, 0, 0]), torch.zeros(3, dtype=torch.long), 2)
    with pytest.raises(ValueError, match="num_classes"):
        confusion_matrix(torch.zeros(3, dtype=torch.long), torch.zeros(3, dtype=torch.long), 0)
    with pytest.raises(ValueError, match="square"):
        per_class_iou(torch.zeros(2, 3, dtype=torch.long))


@pytest.mark.parametrize("fn", [seg.per_class_iou, seg.mean_iou, seg.pixel_accuracy, seg.per_class_accuracy,
                                seg._per_class_iou_twin, seg._mean_iou_twin, seg._pixel_accuracy_twin])
def test_metrics_refuse_matrices_that_are_not_counts(fn):
    # negative or fractional counts used to give IoUs of -3
    for bad, shown in ((-3, "-3.0"), (0.5, "0.5"), (math.nan, "nan"), (math.inf, "inf")):
        cm = torch.tensor([[4.0, 1.0], [0.0, 2.0]])
        cm[1, 0] = bad
        with pytest.raises(ValueError, match=rf"cm must hold pixel counts \(non-negative whole numbers\), got {shown} at \[1, 0\]"):
            fn(cm)
    with pytest.raises(TypeError, match="cm must hold counts"):
        fn(torch.ones(2, 2, dtype=torch.bool))
    # counts held in a float tensor are counts too
    torch.testing.assert_close(fn(torch.tensor([[4.0, 1.0], [0.0, 2.0]])), fn(torch.tensor([[4, 1], [0, 2]])))


@pytest.mark.parametrize("fn", [seg.confusion_matrix, seg.confusion_matrix_loop, seg._confusion_matrix_twin])
def test_confusion_matrix_bounds_the_number_of_classes(fn):
    # num_classes=10**6 used to ask bincount for a table of 10**12 counts
    labels = torch.tensor([0, 1, 1])
    with pytest.raises(ValueError, match=f"num_classes must be at most {seg.MAX_NUM_CLASSES}, got 1000000"):
        fn(labels, labels, 10**6)
    with pytest.raises(TypeError, match="ignore_index must be an int or None, got float"):
        fn(labels, labels, 3, ignore_index=255.0)
    assert fn(labels, labels, seg.MAX_NUM_CLASSES).shape == (seg.MAX_NUM_CLASSES, seg.MAX_NUM_CLASSES)
