"""Property-based tests (Hypothesis) of course_utils.metrics: detection and segmentation.

Valid input (random detections, ties, empty images, crowds; random label maps, ignored
pixels): results are finite where the docstring says so, within their documented range,
and the loop twin agrees. Malformed input (each argument in turn): ValueError/TypeError
naming the argument, within bounded time and memory.
"""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from course_utils.metrics import detection as D
from course_utils.metrics import segmentation as S
from tests.properties_support import (
    assert_finite,
    assert_refuses,
    boxes,
    call,
    few,
    int_errors,
    kind_errors,
    refuse_all,
    tensor_errors,
    tensors,
)

# ==================================================================== detection


@st.composite
def ranked_detections(draw):
    d = draw(st.integers(0, 12))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    scores = torch.randint(0, 4, (d,), generator=g).double() / 4  # few values: many ties
    hits = torch.rand(d, generator=g) < draw(st.sampled_from([0.0, 0.3, 1.0]))
    num_gt = int(hits.sum()) + draw(st.integers(0, 3))
    return scores, hits, num_gt


@given(case=ranked_detections(), method=st.sampled_from(D.AP_METHODS))
def test_pr_curve_and_ap_are_in_range(case, method):
    scores, hits, num_gt = case
    precision, recall, thresholds = call(D.precision_recall_curve, scores, hits, num_gt)
    assert precision.shape == recall.shape == thresholds.shape == (len(scores),)
    assert precision.dtype == recall.dtype == torch.float64
    if num_gt == 0:
        assert bool(recall.isnan().all())
        return
    assert_finite((precision, recall), "precision_recall_curve")
    for name, t in (("precision", precision), ("recall", recall)):
        assert bool(((t >= 0) & (t <= 1)).all()), f"{name} outside [0, 1]: {t}"
    assert bool((recall[1:] >= recall[:-1]).all()) and bool((thresholds[1:] <= thresholds[:-1]).all())
    ap = call(D.average_precision, precision, recall, method)
    assert isinstance(ap, float) and 0.0 <= ap <= 1.0, ap
    assert call(D.average_precision, precision.tolist(), recall.tolist(), method) == pytest.approx(ap, abs=1e-12)


@st.composite
def detection_images(draw):
    images = draw(st.integers(0, 3))
    preds, targets = [], []
    for _ in range(images):
        g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
        pb, tb = draw(boxes(max_n=5, integer=True, min_size=1.0)), draw(boxes(max_n=4, integer=True, min_size=1.0))
        preds.append(dict(boxes=pb, scores=torch.rand(len(pb), generator=g),
                          labels=torch.randint(0, 3, (len(pb),), generator=g)))
        target = dict(boxes=tb, labels=torch.randint(0, 3, (len(tb),), generator=g))
        if draw(st.booleans()):
            target["iscrowd"] = torch.rand(len(tb), generator=g) < 0.3
        targets.append(target)
    return preds, targets


@given(case=detection_images(), thresholds=st.sampled_from([None, [0.5], [0.5, 0.75], [0.0, 1.0]]),
       max_det=st.integers(1, 5))
def test_mean_average_precision_is_in_range(case, thresholds, max_det):
    preds, targets = case
    out = call(D.mean_average_precision, preds, targets, thresholds, max_det)
    assert_finite(out, "mean_average_precision")
    assert out["map"] == -1.0 or 0.0 <= out["map"] <= 1.0, out["map"]
    per_class = out["map_per_class"]
    assert bool(((per_class == -1) | ((per_class >= 0) & (per_class <= 1))).all()), per_class
    assert out["precision"].shape[::2] == (len(out["iou_thresholds"]), len(out["classes"]))


TP = torch.tensor([True, False, True])
SC = torch.tensor([0.9, 0.5, 0.1])
PR = torch.tensor([1.0, 0.5, 0.67])
RC = torch.tensor([0.25, 0.25, 0.5])
IMG_P = [dict(boxes=torch.tensor([[0.0, 0.0, 4.0, 4.0]]), scores=torch.tensor([0.9]), labels=torch.tensor([1]))]
IMG_T = [dict(boxes=torch.tensor([[0.0, 0.0, 4.0, 4.0]]), labels=torch.tensor([1]))]
DETECTION_CASES = [
    ((D.precision_recall_curve,), "scores", dict(is_tp=TP, num_gt=3),
     tensor_errors(SC, floating=True, finite=False) + [torch.tensor([0.9, math.nan, 0.1])]),
    ((D.precision_recall_curve,), "is_tp", dict(scores=SC, num_gt=3),
     kind_errors(TP) + [TP.float() * 0.5, TP[:2], TP[None]]),
    ((D.precision_recall_curve,), "num_gt", dict(scores=SC, is_tp=TP), int_errors(0) + [1]),  # 1 < two hits
    ((D.average_precision,), "precision", dict(recall=RC),
     [None, "p", PR[:2], PR[None], PR * 5, PR - 1.66, torch.tensor([1.0, math.nan, 0.5]), [1.0, "x", 0.5]]),
    ((D.average_precision,), "recall", dict(precision=PR),
     [None, RC[:2], RC * 4, -RC, torch.tensor([0.5, 0.25, 0.75]), torch.tensor([0.25, math.inf, 0.5])]),
    ((D.average_precision,), "method", dict(precision=PR, recall=RC), ["voc12", None, 11]),
    ((D.mean_average_precision,), "iou_thresholds", dict(preds=IMG_P, targets=IMG_T),
     [[math.nan], [1.5], [-0.1], "0.5", [0.5, None], [math.inf]]),
    ((D.mean_average_precision,), "max_detections", dict(preds=IMG_P, targets=IMG_T), int_errors(1)),
    ((D.mean_average_precision,), "preds", dict(targets=IMG_T),
     [None, IMG_P[0], [dict(boxes=torch.zeros(1, 4), scores=torch.ones(1))], [dict(IMG_P[0], scores=torch.ones(2))],
      [dict(IMG_P[0], boxes=torch.tensor([[0.0, 0.0, math.nan, 4.0]]))], [dict(IMG_P[0], labels=torch.tensor([1.5]))],
      IMG_P * 2]),  # an inverted box is not refused: COCOeval scores it (and jittered detections may be)
    ((D.mean_average_precision,), "targets", dict(preds=IMG_P),
     [None, [dict(IMG_T[0], iscrowd=torch.tensor([0.5]))], [dict(IMG_T[0], iscrowd=torch.tensor([2]))],
      [dict(IMG_T[0], boxes=torch.tensor([[0.0, 0.0, 4.0, math.inf]]))], [dict(labels=torch.tensor([1]))]]),
]


@few
@pytest.mark.parametrize("fns, name, arguments, bad_values", DETECTION_CASES,
                         ids=[f"{c[0][0].__name__}-{c[1]}" for c in DETECTION_CASES])
@given(seed=st.integers(0, 3))
def test_detection_metrics_refuse_malformed_input(fns, name, arguments, bad_values, seed):
    torch.manual_seed(seed)
    refuse_all(fns, arguments, name, bad_values)


# ==================================================================== segmentation


@st.composite
def label_maps(draw):
    shape = draw(st.sampled_from([(0,), (5,), (2, 3, 4), (1, 0, 3)]))
    k = draw(st.integers(1, 5))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    dtype = draw(st.sampled_from([torch.int64, torch.int32, torch.uint8]))
    pred = torch.randint(0, k, shape, generator=g).to(dtype)
    target = torch.randint(0, k, shape, generator=g)
    ignore = draw(st.sampled_from([None, 255, -1]))
    if ignore is not None and target.numel():
        target.view(-1)[0] = ignore
    return pred, target, k, ignore


@given(case=label_maps())
def test_confusion_matrix_and_scores(case):
    pred, target, k, ignore = case
    cm = call(S.confusion_matrix, pred, target, k, ignore)
    assert cm.shape == (k, k) and not cm.is_floating_point()
    assert torch.equal(call(S.confusion_matrix_loop, pred, target, k, ignore), cm)
    counted = target.numel() - (int((target == ignore).sum()) if ignore is not None else 0)
    assert int(cm.sum()) == counted
    for fn in (S.per_class_iou, S.per_class_accuracy):
        out = call(fn, cm)
        assert out.shape == (k,) and bool(((out >= 0) & (out <= 1) | out.isnan()).all()), (fn.__name__, out)
    acc = call(S.pixel_accuracy, cm)
    assert acc.isnan() if counted == 0 else 0 <= float(acc) <= 1
    metrics = call(S.segmentation_metrics, pred, target, k, ignore)
    assert isinstance(metrics, dict)


@given(cm=st.integers(1, 4).flatmap(lambda k: tensors((k, k), 0, 20, integer=True)))
def test_mean_iou_of_counts(cm):
    miou, counted = call(S.mean_iou, cm, True)
    ious = S.per_class_iou(cm)
    assert bool(counted.eq(~ious.isnan()).all())
    if bool(counted.any()):
        assert float(miou) == pytest.approx(float(ious[counted].mean()))
        assert 0.0 <= float(miou) <= 1.0


PRED = torch.tensor([[0, 1], [2, 1]])
CM = torch.tensor([[3, 1], [0, 2]])
SEGMENTATION_CASES = [
    ((S.confusion_matrix, S.confusion_matrix_loop, S.segmentation_metrics), "pred", dict(target=PRED, num_classes=3),
     kind_errors(PRED) + [PRED.float(), PRED[0], PRED + 5, PRED - 3]),
    ((S.confusion_matrix, S.confusion_matrix_loop, S.segmentation_metrics), "target", dict(pred=PRED, num_classes=3),
     kind_errors(PRED) + [PRED.float(), PRED + 7]),
    ((S.confusion_matrix, S.confusion_matrix_loop, S.segmentation_metrics), "num_classes", dict(pred=PRED, target=PRED),
     int_errors(1) + [10**6, 10**12]),
    ((S.confusion_matrix, S.confusion_matrix_loop), "ignore_index", dict(pred=PRED, target=PRED, num_classes=3),
     [1.5, "255", True]),
    ((S.pixel_accuracy, S.per_class_iou, S.mean_iou, S.per_class_accuracy), "cm", {},
     kind_errors(CM) + [CM[0], CM[:, :1], CM.bool(), CM - 4, CM.double() / 3, CM.double().fill_(math.nan),
                        CM.double().fill_(math.inf)]),
    ((S.mean_iou,), "return_counted", dict(cm=CM), [1, "yes", None]),
]


@few
@pytest.mark.parametrize("fns, name, arguments, bad_values", SEGMENTATION_CASES,
                         ids=[f"{c[0][0].__name__}-{c[1]}" for c in SEGMENTATION_CASES])
@given(seed=st.integers(0, 3))
def test_segmentation_metrics_refuse_malformed_input(fns, name, arguments, bad_values, seed):
    torch.manual_seed(seed)
    refuse_all(fns, arguments, name, bad_values)


def test_precision_recall_curve_names_num_gt_smaller_than_the_hits():
    exc = assert_refuses(D.precision_recall_curve, SC, TP, 1, name="num_gt")
    assert "2" in str(exc) and "1" in str(exc)
