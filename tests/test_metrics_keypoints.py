"""PCK and OKS (course_utils.metrics.keypoints): loops against vectorized versions, OKS against pycocotools."""
from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest
import torch

from course_utils.metrics import keypoints as km


def _instances(n, k, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    target = torch.rand(n, k, 3, generator=g, dtype=dtype) * 60
    target[..., 2] = (torch.rand(n, k, generator=g) < 0.7).to(dtype)
    target[:, 0, 2] = 1  # at least one visible keypoint per instance
    predicted = target[..., :2] + torch.randn(n, k, 2, generator=g, dtype=dtype) * 4
    return predicted, target


# ----------------------------------------------------------------------------- PCK


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.2])
def test_pck_loop_and_vectorized_agree(dtype, alpha):
    predicted, target = _instances(20, 15, seed=1, dtype=dtype)
    assert km.pck(predicted, target, alpha) == pytest.approx(km.pck_loop(predicted, target, alpha), abs=1e-12)
    assert km.pck(predicted, target, alpha) == pytest.approx(km._pck_twin(predicted, target, alpha), abs=1e-12)


def test_pck_rules():
    target = torch.tensor([[[0.0, 0.0, 1.0], [0.0, 32.0, 1.0], [16.0, 16.0, 0.0]]])  # size 32
    exact = torch.tensor([[[0.0, 8.0], [0.0, 32.0], [50.0, 50.0]]])  # distance exactly alpha * size counts
    assert km.pck(exact, target, alpha=0.25) == 1.0
    beyond = torch.tensor([[[0.0, 8.01], [0.0, 32.0], [16.0, 16.0]]])
    assert km.pck(beyond, target, alpha=0.25) == 0.5
    # the invisible keypoint still sets the box: moving it far away enlarges the reference size
    wide = target.clone()
    wide[0, 2, :2] = torch.tensor([100.0, 16.0])
    assert km.reference_size(wide).item() == 100.0
    assert km.pck(beyond, wide, alpha=0.25) == 1.0


def test_pck_pools_all_keypoints_and_per_keypoint():
    predicted, target = _instances(30, 6, seed=3)
    per = km.pck_per_keypoint(predicted, target, 0.1)
    correct, visible = km._counts(predicted, target, 0.1, None)
    assert torch.allclose(per, correct.double() / visible.double())
    assert km.pck(predicted, target, 0.1) == pytest.approx(float(correct.sum() / visible.sum()))
    never = target.clone()
    never[:, 3, 2] = 0
    assert math.isnan(float(km.pck_per_keypoint(predicted, never, 0.1)[3]))


def test_pck_checks_inputs():
    with pytest.raises(ValueError):
        km.pck(torch.zeros(2, 5, 2), torch.zeros(2, 4, 3))
    with pytest.raises(ValueError):
        km.pck(torch.zeros(2, 5, 2), torch.zeros(2, 5, 3), alpha=0)
    with pytest.raises(TypeError):
        km.pck(torch.zeros(2, 5, 2, dtype=torch.long), torch.zeros(2, 5, 3))


# ----------------------------------------------------------------------------- OKS


def test_oks_loop_vectorized_and_twin_agree():
    g = torch.Generator().manual_seed(5)
    for trial in range(10):
        target = torch.rand(17, 3, generator=g) * 100
        target[:, 2] = torch.randint(0, 3, (17,), generator=g).float()
        target[0, 2] = 2
        predicted = target[:, :2] + torch.randn(17, 2, generator=g) * 5
        area = float(torch.rand(1, generator=g) * 3000 + 100)
        expected = km.oks_loop(predicted, target, area, km.COCO_SIGMAS)
        assert km.oks(predicted, target, area, km.COCO_SIGMAS) == pytest.approx(expected, rel=1e-6)
        assert km._oks_twin(predicted, target, area, km.COCO_SIGMAS) == pytest.approx(expected, rel=1e-6)


def test_oks_ignores_unlabelled_and_counts_labelled_occluded():
    target = torch.tensor([[10.0, 10.0, 2.0], [20.0, 10.0, 1.0], [30.0, 30.0, 0.0]])
    predicted = torch.tensor([[10.0, 10.0], [20.0, 14.0], [0.0, 0.0]])
    sigmas = [0.1, 0.1, 0.1]
    expected = (1 + math.exp(-16 / (2 * 100.0 * 0.2**2))) / 2
    assert km.oks(predicted, target, 100.0, sigmas) == pytest.approx(expected)


def test_figure_sigmas_cover_the_figures():
    from course_utils.data.figures import KEYPOINT_NAMES
    assert len(km.FIGURE_SIGMAS) == len(KEYPOINT_NAMES)
    for name, sigma in zip(KEYPOINT_NAMES, km.FIGURE_SIGMAS):
        if name in km.COCO_KEYPOINT_NAMES:
            assert sigma == km.COCO_SIGMAS[km.COCO_KEYPOINT_NAMES.index(name)]


def _coco_eval(gts, dts, sigmas):
    """pycocotools' COCOeval on in-memory annotations; returns the evaluator after evaluate()."""
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    k = len(sigmas)
    images = sorted({g["image_id"] for g in gts} | {d["image_id"] for d in dts})
    dataset = {
        "images": [{"id": i, "width": 200, "height": 200} for i in images],
        "annotations": [dict(g, id=n + 1, category_id=1, iscrowd=0, num_keypoints=int(sum(v > 0 for v in g["keypoints"][2::3])))
                        for n, g in enumerate(gts)],
        "categories": [{"id": 1, "name": "figure", "keypoints": [f"k{i}" for i in range(k)], "skeleton": []}],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = dataset
        coco.createIndex()
        results = coco.loadRes([dict(d, category_id=1) for d in dts])
        evaluator = COCOeval(coco, results, "keypoints")
        evaluator.params.kpt_oks_sigmas = np.asarray(sigmas, dtype=np.float64)
        evaluator.evaluate()
    return evaluator


def _flat(points):
    return [float(v) for row in points.tolist() for v in row]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_oks_matrix_matches_pycocotools(seed):
    g = torch.Generator().manual_seed(seed)
    sigmas = km.FIGURE_SIGMAS
    k = len(sigmas)
    gts, dts, per_image = [], [], {}
    for image_id in (1, 2):
        num_gt, num_dt = 3, 4
        targets = torch.rand(num_gt, k, 3, generator=g, dtype=torch.float64) * 150
        targets[..., 2] = torch.randint(0, 3, (num_gt, k), generator=g).double()
        targets[0, :, 2] = 0  # one target without any labelled keypoint: pycocotools' box rule
        xy = targets[..., :2]
        boxes = torch.cat([xy.amin(dim=1) - 5, xy.amax(dim=1) - xy.amin(dim=1) + 10], dim=1)  # [G, 4] xywh
        areas = boxes[:, 2] * boxes[:, 3] * 0.4
        scores = torch.rand(num_dt, generator=g, dtype=torch.float64)
        source = torch.randint(0, num_gt, (num_dt,), generator=g)
        predicted = targets[source, :, :2] + torch.randn(num_dt, k, 2, generator=g, dtype=torch.float64) * 6
        for t, b, a in zip(targets, boxes, areas):
            gts.append({"image_id": image_id, "keypoints": _flat(t), "bbox": b.tolist(), "area": float(a)})
        for p, s in zip(predicted, scores):
            dts.append({"image_id": image_id, "keypoints": _flat(torch.cat([p, torch.ones(k, 1, dtype=p.dtype)], 1)),
                        "score": float(s)})
        per_image[image_id] = (targets, boxes, areas, predicted[torch.argsort(-scores, stable=True)])
    evaluator = _coco_eval(gts, dts, sigmas)
    for image_id, (targets, boxes, areas, predicted) in per_image.items():
        expected = np.asarray(evaluator.computeOks(image_id, 1))
        got = km.oks_matrix(predicted, targets, areas, sigmas, boxes=boxes)
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)
        for j in range(1, len(targets)):  # targets with labelled keypoints: the single-instance oks agrees
            for i in range(len(predicted)):
                assert km.oks(predicted[i], targets[j], float(areas[j]), sigmas) == pytest.approx(expected[i, j], rel=1e-9)


def test_oks_based_ap_is_one_for_perfect_predictions():
    g = torch.Generator().manual_seed(9)
    sigmas = km.COCO_SIGMAS
    gts, dts = [], []
    for image_id in range(1, 4):
        for _ in range(2):
            t = torch.rand(17, 3, generator=g, dtype=torch.float64) * 150
            t[:, 2] = 2
            xy = t[:, :2]
            box = torch.cat([xy.amin(0), xy.amax(0) - xy.amin(0)]).tolist()
            gts.append({"image_id": image_id, "keypoints": _flat(t), "bbox": box, "area": box[2] * box[3] * 0.5})
            dts.append({"image_id": image_id, "keypoints": _flat(t), "score": 0.9})
    evaluator = _coco_eval(gts, dts, sigmas)
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator.accumulate()
        evaluator.summarize()
    assert evaluator.stats[0] == pytest.approx(1.0)


def test_oks_matrix_needs_boxes_for_unlabelled_targets():
    targets = torch.zeros(1, 3, 3)
    with pytest.raises(ValueError, match="boxes"):
        km.oks_matrix(torch.zeros(2, 3, 2), targets, torch.tensor([10.0]), [0.1] * 3)


def test_oks_checks_inputs():
    with pytest.raises(ValueError):
        km.oks(torch.zeros(3, 2), torch.zeros(3, 3), 10.0, [0.1, 0.1])
    with pytest.raises(ValueError):
        km.oks(torch.zeros(3, 2), torch.zeros(3, 3), 0.0, [0.1] * 3)


def test_cases_found_by_the_property_tests():
    target = torch.tensor([[0.0, 0.0, 1.0], [0.0, 20.0, 0.0]])
    # one instance [K, 3]: one rate per keypoint (sum over dim=() used to sum everything into a scalar)
    per = km.pck_per_keypoint(target[:, :2] + 3.0, target, alpha=0.5)
    assert per.shape == (2,) and per[0] == 1.0 and math.isnan(per[1])
    # no visible keypoint: documented as required, used to be a ZeroDivisionError
    for fn in (km.pck, km.pck_loop):
        with pytest.raises(ValueError, match="at least one visible"):
            fn(target[None, :, :2], target[None] * torch.tensor([1.0, 1.0, 0.0]))
        with pytest.raises(ValueError, match="at least one visible"):
            fn(torch.zeros(1, 0, 2), torch.zeros(1, 0, 3))
    with pytest.raises(ValueError, match="K >= 1"):
        km.reference_size(torch.zeros(1, 0, 3))
    # oks: unlabelled target (NaN or ZeroDivisionError), bad sigmas and areas (NaN, 0, crashes)
    args = dict(predicted=target[:, :2], target=target, area=100.0, sigmas=[0.1, 0.1])
    for fn in (km.oks, km.oks_loop):
        with pytest.raises(ValueError, match="at least one labelled"):
            fn(**dict(args, target=target * torch.tensor([1.0, 1.0, 0.0])))
        for bad in ([0.0, 0.1], [math.nan, 0.1]):
            with pytest.raises(ValueError, match="sigmas"):
                fn(**dict(args, sigmas=bad))
        with pytest.raises(TypeError, match="sigmas"):
            fn(**dict(args, sigmas="ab"))
        for bad, error in ((None, TypeError), ("100", TypeError), (math.inf, ValueError)):
            with pytest.raises(error, match="area"):
                fn(**dict(args, area=bad))
        with pytest.raises(ValueError, match="predicted"):
            fn(**dict(args, predicted=target[:, :1]))
        with pytest.raises(ValueError, match="target must be finite"):
            fn(**dict(args, target=torch.full((2, 3), math.nan)))


def test_oks_matrix_checks_its_arguments():
    """Found by the property tests: mismatched sigmas crashed in a broadcast, extra areas broadcast silently."""
    target = torch.tensor([[[10.0, 10.0, 2.0], [20.0, 10.0, 2.0]]])
    args = dict(predicted=target[..., :2], targets=target, areas=torch.tensor([100.0]), sigmas=[0.1, 0.1])
    assert km.oks_matrix(**args).item() == 1.0
    with pytest.raises(ValueError, match="sigmas"):
        km.oks_matrix(**dict(args, sigmas=[0.1] * 3))
    with pytest.raises(TypeError, match="sigmas"):
        km.oks_matrix(**dict(args, sigmas="ab"))
    with pytest.raises(ValueError, match="areas"):
        km.oks_matrix(**dict(args, areas=torch.tensor([100.0, 2.0])))
    with pytest.raises(ValueError, match="boxes"):
        km.oks_matrix(**dict(args, targets=target * torch.tensor([1.0, 1.0, 0.0]), boxes=torch.zeros(1, 3)))
