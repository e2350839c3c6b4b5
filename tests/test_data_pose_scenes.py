"""Multi-person scenes, crops and part affinity fields (course_utils.data.pose_scenes), and the figures' masks."""
from __future__ import annotations

import pytest
import torch

from course_utils.data.figures import SKELETON, ArticulatedFigures
from course_utils.data.pose_scenes import PoseScenes, crop_to_scene, limb_score, part_affinity_fields, person_crops


def test_figure_masks_are_optional_and_change_nothing_else():
    plain, masked = ArticulatedFigures(12, seed=3), ArticulatedFigures(12, seed=3, with_mask=True)
    for i in range(12):
        (a, ta), (b, tb) = plain[i], masked[i]
        assert torch.equal(a, b) and torch.equal(ta["keypoints"], tb["keypoints"]) and "mask" not in ta
        mask = tb["mask"]
        assert mask.dtype == torch.bool and mask.shape == (64, 64) and mask.sum() > 50
        visible = tb["keypoints"][tb["keypoints"][:, 2] > 0, :2]
        rows, cols = visible[:, 1].round().long(), visible[:, 0].round().long()
        assert mask[rows, cols].float().mean() > 0.8  # visible keypoints lie on the figure
    with pytest.raises(TypeError):
        ArticulatedFigures(2, with_mask=1)


def test_occluder_removes_mask_pixels():
    full = ArticulatedFigures(30, seed=4, occlusion_prob=0.0, with_mask=True)
    covered = ArticulatedFigures(30, seed=4, occlusion_prob=1.0, with_mask=True)
    smaller = [covered[i][1]["mask"].sum() < full[i][1]["mask"].sum() for i in range(30)]
    assert sum(smaller) >= 20
    for i in range(30):
        assert not (covered[i][1]["mask"] & ~full[i][1]["mask"]).any()


def test_scenes_are_deterministic_and_consistent():
    scenes = PoseScenes(8, seed=1)
    again = PoseScenes(8, seed=1)
    for i in range(8):
        image, target = scenes[i]
        image2, target2 = again[i]
        assert torch.equal(image, image2) and torch.equal(target["keypoints"], target2["keypoints"])
        people = len(target["boxes"])
        assert 2 <= people <= 3 and target["keypoints"].shape == (people, 15, 3)
        assert target["masks"].shape == (people, 128, 128)
        assert torch.equal(target["areas"], target["masks"].sum(dim=(1, 2)).float())
        assert not (target["masks"].sum(dim=0) > 1).any()  # visible masks do not overlap
        kp = target["keypoints"]
        inside = (kp[..., 0] >= target["boxes"][:, None, 0] - 1) & (kp[..., 0] <= target["boxes"][:, None, 2])
        assert inside.all()
        assert (image >= 0).all() and (image <= 1).all()


def test_later_people_hide_earlier_keypoints():
    scenes = PoseScenes(40, seed=2)
    hidden = 0
    for i in range(40):
        _, target = scenes[i]
        kp = target["keypoints"]
        assert (kp[-1, :, 2] == 1).all()  # the last person drawn is never hidden
        hidden += int((kp[..., 2] == 0).sum())
    assert hidden > 0


def test_crops_round_trip():
    scenes = PoseScenes(3, seed=0)
    image, target = scenes[0]
    crops, squares = person_crops(image, target["boxes"], out_size=64)
    assert crops.shape == (len(target["boxes"]), 3, 64, 64)
    side = squares[:, 2] - squares[:, 0]
    u = (target["keypoints"][..., :2] - squares[:, None, :2] + 0.5) * 64 / side[:, None, None] - 0.5
    back = crop_to_scene(torch.cat([u, target["keypoints"][..., 2:]], dim=-1), squares, 64)
    torch.testing.assert_close(back, target["keypoints"])


def test_part_affinity_fields_and_limb_scores():
    scenes = PoseScenes(4, seed=3)
    _, target = scenes[0]
    kp = target["keypoints"]
    paf = part_affinity_fields(kp, (128, 128))
    assert paf.shape == (len(SKELETON), 2, 128, 128)
    norms = paf.norm(dim=1)
    assert norms.max() <= 1 + 1e-5
    limb = SKELETON.index((0, 1))  # head -> neck
    right = [limb_score(paf[limb], p[0, :2], p[1, :2]) for p in kp]
    wrong = limb_score(paf[limb], kp[0, 0, :2], kp[1, 1, :2])
    assert min(right) > 0.7 and wrong < min(right)
