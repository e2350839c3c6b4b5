"""Tests for course_utils.models.detection: the grid detector, its targets, loss, decoding and NMS."""
import math

import pytest
import torch

from course_utils.ops.boxes import box_iou, decode_boxes
from course_utils.data import ShapesScenes, detection_collate
from course_utils.metrics.detection import mean_average_precision
from course_utils.models.detection import (
    DetectionLoss,
    DetectorConfig,
    GridDetector,
    decode,
    encode_targets,
    flip_batch,
    grid_anchors,
    postprocess,
)

CFG = DetectorConfig()  # stride 8, anchor 16


def _target(boxes, labels):
    return {"boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            "labels": torch.tensor(labels, dtype=torch.int64)}


def _perfect_outputs(enc, num_classes, confidence=30.0):
    """Outputs a perfect detector would give: the encoded targets, as logits."""
    pos = enc["positive"]  # [B, S, S]
    obj = torch.where(pos, confidence, -confidence)[:, None].float()  # [B, 1, S, S]
    cls = torch.zeros(pos.shape[0], num_classes, *pos.shape[1:])
    idx = (enc["labels"] - 1).clamp(min=0)  # [B, S, S]
    cls.scatter_(1, idx[:, None], confidence)
    return {"objectness": obj, "class_logits": cls, "box_deltas": enc["box_deltas"].clone()}


# ------------------------------------------------------------------- the shared model test


@pytest.mark.parametrize("kwargs, size", [({}, 64), ({"num_classes": 3, "widths": (8, 16)}, 32),
                                          ({"widths": (8, 8, 16, 16), "head_channels": 8}, 48)])
def test_shapes_finite_and_every_parameter_gets_a_gradient(kwargs, size):
    torch.manual_seed(0)
    model = GridDetector(**kwargs)
    cfg = model.config
    s = size // cfg.stride
    out = model(torch.rand(2, 3, size, size))
    assert out["objectness"].shape == (2, 1, s, s)
    assert out["class_logits"].shape == (2, cfg.num_classes, s, s)
    assert out["box_deltas"].shape == (2, 4, s, s)
    assert all(torch.isfinite(v).all() for v in out.values())
    box = [[1.0, 2.0, size / 2, size / 2 + 3]]
    targets = [_target(box, [1]), _target([], [])]
    loss = DetectionLoss(cfg)(out, targets)
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing, f"parameters without a finite gradient: {missing}"


def test_config_and_input_checks():
    assert GridDetector(widths=(8, 8)).stride == 4
    assert GridDetector(config=DetectorConfig(num_classes=2)).config.num_classes == 2
    with pytest.raises(ValueError, match="either a config"):
        GridDetector(config=DetectorConfig(), widths=(8,))
    with pytest.raises(ValueError, match="divisible"):
        GridDetector()(torch.zeros(1, 3, 60, 64))
    with pytest.raises(ValueError, match="channels"):
        GridDetector()(torch.zeros(1, 1, 64, 64))
    with pytest.raises(ValueError, match=r"widths must be a non-empty tuple of ints, got \(\)"):
        DetectorConfig(widths=())
    with pytest.raises(TypeError, match=r"num_classes must be an int, got float \(2.0\)"):
        DetectorConfig(num_classes=2.0)


# ----------------------------------------------------------------------- anchors and targets


def test_grid_anchors_are_centred_on_the_cells():
    anchors = grid_anchors((2, 3), CFG)
    centres = (anchors[:, :2] + anchors[:, 2:]) / 2
    expected = torch.tensor([[(j + 0.5) * 8, (i + 0.5) * 8] for i in range(2) for j in range(3)])
    torch.testing.assert_close(centres, expected)
    torch.testing.assert_close(anchors[:, 2:] - anchors[:, :2], torch.full((6, 2), 16.0))


def test_assignment_hand_made_cases():
    boxes = [
        [0.0, 0.0, 10.0, 10.0],  # centre (5, 5): cell (0, 0)
        [30.0, 10.0, 50.0, 20.0],  # centre (40, 15): cell (1, 5)
        [56.0, 56.0, 64.0, 64.0],  # centre (60, 60): the last cell (7, 7)
        [8.0, 0.0, 16.0, 8.0],  # centre (12, 4) is exactly ... cell (0, 1)
        [16.0, 16.0, 32.0, 32.0],  # centre (24, 24) on a cell corner: floor -> cell (3, 3)
    ]
    enc = encode_targets([_target(boxes, [1, 2, 3, 4, 5])], (8, 8), CFG)
    cells = {tuple(rc) for rc in enc["positive"][0].nonzero().tolist()}
    assert cells == {(0, 0), (1, 5), (7, 7), (0, 1), (3, 3)}
    assert enc["labels"][0, 1, 5] == 2 and enc["labels"][0, 3, 3] == 5
    assert enc["matched"][0, 7, 7] == 2
    assert (enc["labels"][0][~enc["positive"][0]] == 0).all()
    assert (enc["matched"][0][~enc["positive"][0]] == -1).all()
    assert (enc["box_deltas"][0].permute(1, 2, 0)[~enc["positive"][0]] == 0).all()
    # the deltas are encode_boxes relative to the cell's anchor: decoding gives the box back
    anchor = grid_anchors((8, 8), CFG)[1 * 8 + 5]
    back = decode_boxes(enc["box_deltas"][0, :, 1, 5][None], anchor[None])
    torch.testing.assert_close(back, torch.tensor([boxes[1]]))


def test_assignment_collision_smallest_box_wins():
    # two centres in cell (2, 2); the smaller box wins whatever the order
    big, small = [10.0, 10.0, 30.0, 30.0], [18.0, 18.0, 22.0, 22.0]
    for boxes, labels, winner in (([big, small], [1, 2], 1), ([small, big], [2, 1], 0)):
        enc = encode_targets([_target(boxes, labels)], (8, 8), CFG)
        assert int(enc["positive"].sum()) == 1
        assert enc["labels"][0, 2, 2] == 2 and enc["matched"][0, 2, 2] == winner
    # equal areas: the lower index wins
    enc = encode_targets([_target([[17.0, 17.0, 23.0, 23.0], [18.0, 18.0, 24.0, 24.0]], [3, 4])], (8, 8), CFG)
    assert enc["labels"][0, 2, 2] == 3


def test_assignment_batch_and_empty_images():
    enc = encode_targets([_target([], []), _target([[0.0, 0.0, 8.0, 8.0]], [4]), _target([], [])], (8, 8), CFG)
    assert enc["positive"].shape == (3, 8, 8) and enc["box_deltas"].shape == (3, 4, 8, 8)
    assert enc["positive"].sum(dim=(1, 2)).tolist() == [0, 1, 0]
    empty = encode_targets([], (8, 8), CFG)
    assert empty["positive"].shape == (0, 8, 8) and empty["box_deltas"].shape == (0, 4, 8, 8)


def test_encode_targets_checks_labels():
    with pytest.raises(ValueError, match="1..5"):
        encode_targets([_target([[0.0, 0.0, 8.0, 8.0]], [0])], (8, 8), CFG)
    with pytest.raises(TypeError, match=r"targets\[0\]\['labels'\] must be an integer tensor, got torch.float32"):
        encode_targets([{"boxes": torch.zeros(1, 4), "labels": torch.ones(1)}], (8, 8), CFG)
    with pytest.raises(ValueError, match="shape"):
        encode_targets([{"boxes": torch.zeros(1, 3), "labels": torch.ones(1, dtype=torch.int64)}], (8, 8), CFG)


# --------------------------------------------------------------------------------- decoding


def test_decode_of_encoded_targets_round_trips():
    ds = ShapesScenes(12, seed=3)
    _, targets = detection_collate([ds[i] for i in range(len(ds))])
    enc = encode_targets(targets, (8, 8), CFG)
    dets = decode(_perfect_outputs(enc, CFG.num_classes), CFG, score_threshold=0.5)
    checked = 0
    for det, target, pos, matched in zip(dets, targets, enc["positive"], enc["matched"]):
        kept = matched[pos].sort().values  # boxes that own a cell (a collision loses its box)
        assert len(det["boxes"]) == len(kept)
        if len(kept) == 0:
            continue
        expected = target["boxes"][kept]
        which = box_iou(det["boxes"], expected).argmax(dim=1)  # the expected box each detection is
        assert sorted(which.tolist()) == list(range(len(kept)))
        torch.testing.assert_close(det["boxes"][torch.argsort(which)], expected, atol=1e-4, rtol=0)
        assert det["labels"][torch.argsort(which)].tolist() == target["labels"][kept].tolist()
        assert (det["scores"] > 0.99).all()
        checked += len(kept)
    assert checked > 10


def test_decode_thresholds_sorts_and_empty_outputs():
    torch.manual_seed(0)
    out = GridDetector().eval()(torch.rand(2, 3, 64, 64))
    dets = decode(out, CFG, score_threshold=0.0)
    assert len(dets) == 2
    for det in dets:
        assert det["boxes"].shape == (64 * 5, 4)  # every cell and class
        assert (det["scores"][:-1] >= det["scores"][1:]).all()
        assert det["labels"].dtype == torch.int64 and det["labels"].min() >= 1 and det["labels"].max() <= 5
        assert (det["boxes"] >= 0).all() and (det["boxes"] <= 64).all()  # clipped
    none = decode(out, CFG, score_threshold=1.0)
    assert all(d["boxes"].shape == (0, 4) and d["scores"].shape == (0,) for d in none)
    with pytest.raises(ValueError, match=r"score_threshold must be in \[0, 1\], got 1.5"):
        decode(out, CFG, score_threshold=1.5)
    with pytest.raises(ValueError, match="keys"):
        decode({"objectness": out["objectness"]}, CFG)


def test_postprocess_removes_duplicates_per_class_only():
    cfg = DetectorConfig(num_classes=2)
    out = {"objectness": torch.full((1, 1, 8, 8), -30.0), "class_logits": torch.zeros(1, 2, 8, 8),
           "box_deltas": torch.zeros(1, 4, 8, 8)}
    # cells (2, 2) and (2, 3): anchors overlap with IoU 1/3; grow both boxes so they overlap more
    for col, logit in ((2, 5.0), (3, 4.0)):
        out["objectness"][0, 0, 2, col] = logit
        out["class_logits"][0, 0, 2, col] = 30.0
        out["box_deltas"][0, 2:, 2, col] = math.log(3.0)
    raw = decode(out, cfg, score_threshold=0.5)[0]
    assert len(raw["boxes"]) == 2
    assert box_iou(raw["boxes"][:1], raw["boxes"][1:]).item() > 0.5
    kept = postprocess(out, cfg, score_threshold=0.5, iou_threshold=0.5)[0]
    assert len(kept["boxes"]) == 1 and kept["scores"][0] == raw["scores"][0]
    out["class_logits"][0, :, 2, 3] = torch.tensor([0.0, 30.0])  # other class: both survive
    assert len(postprocess(out, cfg, score_threshold=0.5, iou_threshold=0.5)[0]["boxes"]) == 2
    assert len(postprocess(out, cfg, score_threshold=0.0, max_detections=3)[0]["boxes"]) == 3


# ------------------------------------------------------------------------------ loss, training


def test_loss_with_empty_targets_only_trains_objectness():
    torch.manual_seed(0)
    model = GridDetector(widths=(8, 8, 8), head_channels=8)
    loss_fn = DetectionLoss(model.config)
    loss = loss_fn(model(torch.rand(2, 3, 64, 64)), [_target([], []), _target([], [])])
    assert torch.isfinite(loss) and loss > 0
    assert loss_fn.last["class"] == 0.0 and loss_fn.last["box"] == 0.0
    loss.backward()
    assert model.objectness.weight.grad.abs().sum() > 0
    assert model.classifier.weight.grad.abs().sum() == 0


def test_loss_is_small_for_a_perfect_prediction():
    targets = [_target([[4.0, 4.0, 20.0, 28.0], [40.0, 8.0, 60.0, 20.0]], [1, 3])]
    enc = encode_targets(targets, (8, 8), CFG)
    loss_fn = DetectionLoss(CFG)
    perfect = loss_fn(_perfect_outputs(enc, 5), targets)
    assert perfect < 1e-6
    wrong = _perfect_outputs(enc, 5)
    wrong["box_deltas"] += 0.5
    assert loss_fn(wrong, targets) > perfect + 0.5
    with pytest.raises(ValueError, match="one dict per image"):
        loss_fn(wrong, targets * 2)


def test_flip_batch_flips_boxes_with_the_image():
    ds = ShapesScenes(4, seed=1, max_objects=3, min_objects=1)
    images, targets = detection_collate([ds[i] for i in range(4)])
    flipped, ftargets = flip_batch(images, targets, torch.Generator().manual_seed(0))
    for img, t, fimg, ft in zip(images, targets, flipped, ftargets):
        # the box still frames the same pixels: compare the image crop under each box
        for box, fbox in zip(t["boxes"].long().tolist(), ftargets and ft["boxes"].long().tolist()):
            crop = img[:, box[1]:box[3], box[0]:box[2]]
            fcrop = fimg[:, fbox[1]:fbox[3], fbox[0]:fbox[2]]
            assert crop.shape == fcrop.shape
            assert any(torch.equal(fcrop, c) for c in (crop, crop.flip(-1), crop.flip(-2), crop.flip(-1).flip(-2)))
    assert torch.equal(images, detection_collate([ds[i] for i in range(4)])[0])  # inputs untouched


def test_overfits_a_few_scenes():
    """80 steps on 6 scenes: a small detector finds their objects again."""
    torch.manual_seed(0)
    ds = ShapesScenes(6, seed=5, min_objects=1, max_objects=3)
    images, targets = detection_collate([ds[i] for i in range(len(ds))])
    model = GridDetector(widths=(8, 16, 32), head_channels=32)
    loss_fn = DetectionLoss(model.config)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(80):
        loss = loss_fn(model(images), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    preds = model.predict(images)
    result = mean_average_precision(preds, targets, iou_thresholds=[0.5])
    assert result["map_50"] > 0.9, f"mAP@0.5 after overfitting 6 scenes is only {result['map_50']:.3f}"
    assert model.training  # predict restores the mode
