"""Tests for course_utils.metrics.detection against pycocotools' COCOeval, torchmetrics and hand computations."""
import contextlib
import io
import math

import numpy as np
import pytest
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from course_utils.metrics import detection as M


# ------------------------------------------------------------------ random scenes


def _boxes(xy, wh):
    return torch.cat([xy, xy + wh], dim=1)


def random_scene(seed, num_images=6, num_classes=4, crowd_rate=0.15, integer=False, crowded=False):
    """Random predictions and targets over several images and classes.

    Detections are jittered copies of ground-truth boxes (with some wrong labels,
    including a class absent from the ground truth) plus random boxes; some images
    have no ground truth, some none of either. ``integer`` puts every coordinate and
    score on a coarse grid so that IoU ties and score ties are frequent.
    ``crowded`` packs many overlapping objects in a small region.
    """
    g = torch.Generator().manual_seed(seed)

    def randint(lo, hi, shape=()):
        return torch.randint(lo, hi, shape, generator=g)

    preds, targets = [], []
    for _ in range(num_images):
        num_gt = int(randint(0, 8)) if not crowded else int(randint(10, 30))
        span, size = (80.0, 40.0) if not crowded else (25.0, 30.0)
        if integer:
            gt = _boxes(randint(0, int(span), (num_gt, 2)).float(), randint(2, int(size), (num_gt, 2)).float())
        else:
            gt = _boxes(torch.rand(num_gt, 2, generator=g) * span, torch.rand(num_gt, 2, generator=g) * size + 2)
        gt_labels = randint(1, num_classes + 1, (num_gt,))
        crowd = torch.rand(num_gt, generator=g) < crowd_rate
        num_dt = int(randint(0, 15)) if not crowded else int(randint(20, 60))
        if num_gt > 0:
            src = randint(0, num_gt, (num_dt,))
            noise = randint(-3, 4, (num_dt, 4)).float() if integer else torch.randn(num_dt, 4, generator=g) * 4
            dt = gt[src] + noise
            dt_labels = gt_labels[src]
        else:
            xy = torch.rand(num_dt, 2, generator=g) * span
            dt = _boxes(xy, torch.full((num_dt, 2), 10.0))
            dt_labels = randint(1, num_classes + 1, (num_dt,))
        dt = torch.cat([torch.minimum(dt[:, :2], dt[:, 2:]), torch.maximum(dt[:, :2], dt[:, 2:]) + 0.5], dim=1)
        # some wrong labels, possibly num_classes + 1: a class that never appears in the ground truth
        wrong = torch.rand(num_dt, generator=g) < 0.2
        dt_labels = torch.where(wrong, randint(1, num_classes + 2, (num_dt,)), dt_labels)
        scores = torch.rand(num_dt, generator=g)
        if integer:
            scores = (scores * 4).round() / 4
        preds.append({"boxes": dt, "scores": scores, "labels": dt_labels})
        targets.append({"boxes": gt, "labels": gt_labels, "iscrowd": crowd})
    return preds, targets


def cocoeval(preds, targets, max_dets=(1, 10, 100), iou_thresholds=None):
    """pycocotools' COCOeval built from in-memory dicts (boxes converted to xywh)."""
    images, annotations, results, categories = [], [], [], set()
    for i, (p, t) in enumerate(zip(preds, targets)):
        images.append({"id": i + 1, "width": 200, "height": 200})
        crowd = t.get("iscrowd", torch.zeros(len(t["labels"]), dtype=torch.bool))
        for (x1, y1, x2, y2), label, c in zip(t["boxes"].tolist(), t["labels"].tolist(), crowd.tolist()):
            w, h = x2 - x1, y2 - y1
            annotations.append(
                {"id": len(annotations) + 1, "image_id": i + 1, "category_id": label,
                 "bbox": [x1, y1, w, h], "area": w * h, "iscrowd": int(c)}
            )
            categories.add(label)
        for (x1, y1, x2, y2), score, label in zip(p["boxes"].tolist(), p["scores"].tolist(), p["labels"].tolist()):
            results.append({"image_id": i + 1, "category_id": label, "bbox": [x1, y1, x2 - x1, y2 - y1], "score": score})
            categories.add(label)
    gt = COCO()
    gt.dataset = {"images": images, "annotations": annotations, "categories": [{"id": c} for c in sorted(categories)]}
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        dt = gt.loadRes(results)
        ev = COCOeval(gt, dt, "bbox")
        ev.params.maxDets = list(max_dets)
        if iou_thresholds is not None:
            ev.params.iouThrs = np.asarray(iou_thresholds, dtype=np.float64)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def assert_matches_cocoeval(preds, targets, max_dets=(1, 10, 100), tol=1e-4):
    ev = cocoeval(preds, targets, max_dets)
    ours = M.mean_average_precision(preds, targets, max_detections=max_dets[-1])
    precision = ev.eval["precision"][:, :, :, 0, -1]  # [T, R, K] area "all", largest maxDets
    recall = ev.eval["recall"][:, :, 0, -1]  # [T, K]

    def mean_valid(x):
        return x[x > -1].mean() if (x > -1).any() else -1.0

    if max_dets[-1] == 100:  # COCOeval's summary lines are for maxDets=100
        assert ours["map"] == pytest.approx(ev.stats[0], abs=tol)
        assert ours["map_50"] == pytest.approx(ev.stats[1], abs=tol)
        assert ours["map_75"] == pytest.approx(ev.stats[2], abs=tol)
        assert ours["mar_100"] == pytest.approx(ev.stats[8], abs=tol)
    assert ours["map"] == pytest.approx(mean_valid(precision), abs=tol)
    assert ours["map_50"] == pytest.approx(mean_valid(precision[0]), abs=tol)
    assert ours[f"mar_{max_dets[-1]}"] == pytest.approx(mean_valid(recall), abs=tol)
    # per class, and the whole precision table
    for k, c in enumerate(ours["classes"].tolist()):
        col = precision[:, :, ev.params.catIds.index(c)]
        expected = col.mean() if (col > -1).all() else -1.0
        assert ours["map_per_class"][k].item() == pytest.approx(expected, abs=tol)
        np.testing.assert_allclose(ours["precision"][:, :, k].numpy(), col, atol=tol)
    return ours


def has_detections(preds):
    return sum(len(p["scores"]) for p in preds) > 0  # pycocotools' loadRes needs at least one


# --------------------------------------------------------------- against COCOeval


@pytest.mark.parametrize("seed", range(30))
def test_map_matches_cocoeval_random_scenes(seed):
    preds, targets = random_scene(seed)
    if has_detections(preds):
        assert_matches_cocoeval(preds, targets)


@pytest.mark.parametrize("seed", range(15))
def test_map_matches_cocoeval_with_ties(seed):
    # integer boxes and quantized scores: equal IoUs and equal scores everywhere
    preds, targets = random_scene(100 + seed, integer=True)
    if has_detections(preds):
        assert_matches_cocoeval(preds, targets)


@pytest.mark.parametrize("seed", range(8))
def test_map_matches_cocoeval_crowded_scenes(seed):
    preds, targets = random_scene(200 + seed, num_images=3, crowded=True, integer=seed % 2 == 1)
    assert_matches_cocoeval(preds, targets)


@pytest.mark.parametrize("seed", range(4))
def test_map_matches_cocoeval_with_few_max_detections(seed):
    preds, targets = random_scene(300 + seed, num_images=3, crowded=True)
    ours = assert_matches_cocoeval(preds, targets, max_dets=(1, 3, 5))
    assert "mar_5" in ours


def test_custom_iou_thresholds_match_cocoeval():
    preds, targets = random_scene(7)
    thresholds = [0.3, 0.5, 0.6]
    ev = cocoeval(preds, targets, iou_thresholds=thresholds)
    ours = M.mean_average_precision(preds, targets, iou_thresholds=thresholds)
    p = ev.eval["precision"][:, :, :, 0, -1]
    assert ours["map"] == pytest.approx(p[p > -1].mean(), abs=1e-6)
    assert ours["map_50"] == pytest.approx(ev.stats[1], abs=1e-6)
    assert "map_75" not in ours


def test_map_matches_torchmetrics():
    from torchmetrics.detection import MeanAveragePrecision

    preds, targets = random_scene(11, crowd_rate=0.0)
    metric = MeanAveragePrecision(iou_type="bbox", class_metrics=True)
    metric.update(preds, [{"boxes": t["boxes"], "labels": t["labels"]} for t in targets])
    expected = metric.compute()
    ours = M.mean_average_precision(preds, targets)
    for key in ("map", "map_50", "map_75", "mar_100"):
        assert ours[key] == pytest.approx(expected[key].item(), abs=1e-4), key
    assert ours["classes"].tolist() == expected["classes"].tolist()
    torch.testing.assert_close(ours["map_per_class"].float(), expected["map_per_class"], atol=1e-4, rtol=0)


# ------------------------------------------------------------------- hand cases


def test_map_hand_case_two_images():
    # image 0: one cat found (TP), one false alarm ranked first; image 1: a cat missed.
    preds = [
        {"boxes": torch.tensor([[50.0, 50.0, 60.0, 60.0], [0.0, 0.0, 10.0, 10.0]]),
         "scores": torch.tensor([0.9, 0.8]), "labels": torch.tensor([1, 1])},
        {"boxes": torch.zeros(0, 4), "scores": torch.zeros(0), "labels": torch.zeros(0, dtype=torch.int64)},
    ]
    targets = [
        {"boxes": torch.tensor([[0.0, 0.0, 10.0, 10.0]]), "labels": torch.tensor([1])},
        {"boxes": torch.tensor([[0.0, 0.0, 10.0, 10.0]]), "labels": torch.tensor([1])},
    ]
    out = M.mean_average_precision(preds, targets)
    # ranking FP, TP: precision 0, 1/2 at recall 0, 1/2 -> interpolated 1/2 up to recall 0.5
    assert out["map"] == pytest.approx(0.5 * 51 / 101)
    assert out["mar_100"] == pytest.approx(0.5)
    assert_matches_cocoeval(preds, targets)


def test_class_without_detections_counts_zero_and_class_without_gt_is_excluded():
    box = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    preds = [{"boxes": torch.cat([box, box + 20]), "scores": torch.tensor([0.9, 0.5]), "labels": torch.tensor([1, 3])}]
    targets = [{"boxes": torch.cat([box, box + 40]), "labels": torch.tensor([1, 2])}]
    out = M.mean_average_precision(preds, targets)
    assert out["classes"].tolist() == [1, 2, 3]
    assert out["map_per_class"].tolist() == pytest.approx([1.0, 0.0, -1.0])
    assert out["map"] == pytest.approx(0.5)
    assert_matches_cocoeval(preds, targets)


def test_crowd_box_absorbs_detections():
    crowd = torch.tensor([[0.0, 0.0, 100.0, 100.0]])
    person = torch.tensor([[200.0, 200.0, 220.0, 240.0]])
    dets = torch.cat([person, crowd[:, [0, 1]].repeat(1, 2) + torch.tensor([[5.0, 5.0, 60.0, 60.0]])])
    preds = [{"boxes": dets, "scores": torch.tensor([0.5, 0.9]), "labels": torch.tensor([1, 1])}]
    targets = [{"boxes": torch.cat([person, crowd]), "labels": torch.tensor([1, 1]), "iscrowd": torch.tensor([0, 1])}]
    # the detection inside the crowd region is neither TP nor FP: AP is perfect
    assert M.mean_average_precision(preds, targets)["map"] == pytest.approx(1.0)
    assert_matches_cocoeval(preds, targets)


def test_no_ground_truth_at_all_gives_minus_one():
    preds = [{"boxes": torch.tensor([[0.0, 0.0, 5.0, 5.0]]), "scores": torch.tensor([0.3]), "labels": torch.tensor([2])}]
    targets = [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)}]
    out = M.mean_average_precision(preds, targets)
    assert out["map"] == -1.0 and out["map_per_class"].tolist() == [-1.0]


def test_empty_everything():
    out = M.mean_average_precision([], [])
    assert out["map"] == -1.0 and out["classes"].shape == (0,) and out["map_per_class"].shape == (0,)


def test_mean_average_precision_errors():
    good = {"boxes": torch.zeros(1, 4), "scores": torch.zeros(1), "labels": torch.zeros(1, dtype=torch.int64)}
    target = {"boxes": torch.zeros(1, 4), "labels": torch.zeros(1, dtype=torch.int64)}
    with pytest.raises(ValueError, match="one entry per image"):
        M.mean_average_precision([good, good], [target])
    with pytest.raises(ValueError, match="missing 'scores'"):
        M.mean_average_precision([target], [target])
    with pytest.raises(ValueError, match=r"preds\[0\]\['scores'\] must have shape"):
        M.mean_average_precision([dict(good, scores=torch.zeros(2))], [target])
    with pytest.raises(TypeError, match="must be a list of dicts"):
        M.mean_average_precision(good, target)
    with pytest.raises(ValueError, match="iou_thresholds must be"):
        M.mean_average_precision([good], [target], iou_thresholds=[1.5])


# --------------------------------------------------------- PR curve and AP rules


def test_precision_recall_curve_hand_values():
    scores = torch.tensor([0.1, 0.9, 0.8, 0.7, 0.6])
    is_tp = torch.tensor([True, True, False, True, False])
    precision, recall, thresholds = M.precision_recall_curve(scores, is_tp, num_gt=4)
    # ranked: TP FP TP FP TP
    torch.testing.assert_close(precision, torch.tensor([1.0, 1 / 2, 2 / 3, 2 / 4, 3 / 5], dtype=torch.float64))
    torch.testing.assert_close(recall, torch.tensor([0.25, 0.25, 0.5, 0.5, 0.75], dtype=torch.float64))
    assert thresholds.tolist() == pytest.approx([0.9, 0.8, 0.7, 0.6, 0.1])
    empty = M.precision_recall_curve(torch.zeros(0), torch.zeros(0, dtype=torch.bool), 3)
    assert all(t.shape == (0,) for t in empty)
    assert M.precision_recall_curve(torch.ones(2), torch.zeros(2, dtype=torch.bool), 0)[1].isnan().all()


@pytest.mark.parametrize("fn", [M.precision_recall_curve, M._precision_recall_curve_twin])
def test_precision_recall_curve_refuses_impossible_counts(fn):
    # num_gt smaller than the true positives used to give a recall of 2
    scores, is_tp = torch.tensor([0.9, 0.8]), torch.tensor([True, True])
    with pytest.raises(ValueError, match=r"num_gt must be at least the number of true positives in is_tp \(2\), got 1"):
        fn(scores, is_tp, 1)
    with pytest.raises(ValueError, match="scores must not contain NaN, got NaN at index 1"):
        fn(torch.tensor([0.9, math.nan]), is_tp, 2)
    with pytest.raises(TypeError, match="num_gt must be an int"):
        fn(scores, is_tp, 2.0)


@pytest.mark.parametrize("fn", [M.average_precision, M._average_precision_twin])
def test_average_precision_refuses_values_outside_0_1(fn):
    # used to return 5.0 or -0.66, although the result is documented to lie in [0, 1]
    with pytest.raises(ValueError, match="precision must lie in \\[0, 1\\], got 5.0"):
        fn(torch.tensor([5.0, 5.0]), torch.tensor([0.5, 1.0]))
    with pytest.raises(ValueError, match="recall must lie in \\[0, 1\\], got -2.0"):
        fn(torch.tensor([1.0, 0.5]), torch.tensor([-2.0, 0.5]))
    with pytest.raises(ValueError, match="recall must lie in"):
        fn([1.0], [math.inf])
    with pytest.raises(TypeError, match="precision must hold numbers"):
        fn(["high"], [0.5])
    with pytest.raises(TypeError, match="recall must be a 1-D tensor, array or list"):
        fn([1.0], 0.5)
    assert fn([1.0, 0.5], [0.5, 0.5], "voc_all") == pytest.approx(0.5)  # lists work like tensors


def test_eleven_vs_all_vs_101_point_ap():
    # ranked list TP FP TP FP TP with 4 objects: recall 1/4, 1/4, 1/2, 1/2, 3/4
    precision = torch.tensor([1.0, 1 / 2, 2 / 3, 2 / 4, 3 / 5])
    recall = torch.tensor([0.25, 0.25, 0.5, 0.5, 0.75])
    # envelope: 1 up to recall 1/4, 2/3 up to 1/2, 3/5 up to 3/4, then 0
    voc_all = 0.25 * 1 + 0.25 * 2 / 3 + 0.25 * 3 / 5
    # 11 points: t = 0, .1, .2 -> 1 ; .3, .4, .5 -> 2/3 ; .6, .7 -> 3/5 ; .8, .9, 1 -> 0
    voc11 = (3 * 1 + 3 * 2 / 3 + 2 * 3 / 5) / 11
    # 101 points: 0..0.25 (26 levels) -> 1 ; 0.26..0.5 (25) -> 2/3 ; 0.51..0.75 (25) -> 3/5 ; rest 0
    coco101 = (26 * 1 + 25 * 2 / 3 + 25 * 3 / 5) / 101
    assert M.average_precision(precision, recall, "voc_all") == pytest.approx(voc_all)
    assert M.average_precision(precision, recall, "voc11") == pytest.approx(voc11)
    assert M.average_precision(precision, recall, "coco101") == pytest.approx(coco101)
    assert len({round(voc_all, 6), round(voc11, 6), round(coco101, 6)}) == 3  # three different numbers


def test_voc_all_point_ap_matches_the_devkit_loop():
    # the VOC2010 devkit's VOCap, translated literally
    def vocap(rec, prec):
        mrec, mpre = [0.0] + list(rec) + [1.0], [0.0] + list(prec) + [0.0]
        for i in range(len(mpre) - 2, -1, -1):
            mpre[i] = max(mpre[i], mpre[i + 1])
        return sum((mrec[i] - mrec[i - 1]) * mpre[i] for i in range(1, len(mrec)) if mrec[i] != mrec[i - 1])

    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        n = int(torch.randint(1, 30, (1,), generator=g))
        is_tp = torch.rand(n, generator=g) < 0.5
        precision, recall, _ = M.precision_recall_curve(torch.rand(n, generator=g), is_tp, num_gt=int(is_tp.sum()) + 2)
        assert M.average_precision(precision, recall, "voc_all") == pytest.approx(vocap(recall.tolist(), precision.tolist()))


def test_perfect_and_empty_curves():
    for method in M.AP_METHODS:
        assert M.average_precision(torch.ones(4), torch.tensor([0.25, 0.5, 0.75, 1.0]), method) == pytest.approx(1.0)
        assert M.average_precision(torch.zeros(0), torch.zeros(0), method) == 0.0


def test_average_precision_errors():
    with pytest.raises(ValueError, match="method must be one of"):
        M.average_precision(torch.ones(2), torch.ones(2), "voc12")
    with pytest.raises(ValueError, match="same length"):
        M.average_precision(torch.ones(2), torch.ones(3))
    with pytest.raises(ValueError, match="non-decreasing"):
        M.average_precision(torch.ones(2), torch.tensor([0.5, 0.2]))
    with pytest.raises(ValueError, match="NaN"):
        M.average_precision(torch.ones(2), torch.tensor([math.nan, math.nan]))


def test_mean_average_precision_refuses_nan_thresholds_and_fractional_crowds():
    # iou_thresholds=[nan] used to give 0.0 and iscrowd=0.5 a mAP of -1
    preds = [{"boxes": torch.tensor([[0.0, 0.0, 10.0, 10.0]]), "scores": torch.tensor([0.9]), "labels": torch.tensor([1])}]
    targets = [{"boxes": torch.tensor([[0.0, 0.0, 10.0, 10.0]]), "labels": torch.tensor([1])}]
    assert M.mean_average_precision(preds, targets)["map"] == 1.0
    for bad in ([math.nan], [0.5, math.inf], [], [1.5]):
        with pytest.raises(ValueError, match="iou_thresholds must be a non-empty list of numbers in"):
            M.mean_average_precision(preds, targets, iou_thresholds=bad)
    with pytest.raises(TypeError, match="iou_thresholds must hold numbers"):
        M.mean_average_precision(preds, targets, iou_thresholds=["high"])
    crowd = [{**targets[0], "iscrowd": torch.tensor([0.5])}]
    with pytest.raises(ValueError, match=r"targets\[0\]\['iscrowd'\] must hold 0/1 or True/False, got \[0.5\]"):
        M.mean_average_precision(preds, crowd)
    nan_box = [{**preds[0], "boxes": torch.tensor([[0.0, 0.0, math.nan, 10.0]])}]
    with pytest.raises(ValueError, match=r"preds\[0\]\['boxes'\] must be finite"):
        M.mean_average_precision(nan_box, targets)
    nan_score = [{**preds[0], "scores": torch.tensor([math.nan])}]
    with pytest.raises(ValueError, match=r"preds\[0\]\['scores'\] must not contain NaN"):
        M.mean_average_precision(nan_score, targets)
    with pytest.raises(TypeError, match=r"targets\[0\]\['labels'\] must be an integer tensor"):
        M.mean_average_precision(preds, [{**targets[0], "labels": torch.tensor([True])}])


def test_a_class_without_ground_truth_has_no_ap():
    # recall is 0 / 0: NaN in the curve, and average_precision refuses it with a reason
    p, r, _ = M.precision_recall_curve(torch.tensor([0.9, 0.4]), torch.tensor([False, False]), num_gt=0)
    assert torch.isnan(r).all() and p.tolist() == [0.0, 0.0]
    for method in M.AP_METHODS:
        with pytest.raises(ValueError, match="a class without ground truth has no AP"):
            M.average_precision(p, r, method)
    # no detection and no ground truth: the curve is empty, and so is the question
    p, r, _ = M.precision_recall_curve(torch.zeros(0), torch.zeros(0, dtype=torch.bool), num_gt=0)
    assert p.shape == r.shape == (0,)
