"""Synthetic 3D skeletons for lifting (course_utils.data.skeletons3d)."""
from __future__ import annotations

import math

import pytest
import torch

from course_utils.data.figures import KEYPOINT_NAMES
from course_utils.data.skeletons3d import SyntheticSkeletons, bone_lengths, camera_rotations, mpjpe, sample_poses3d

K = {name: i for i, name in enumerate(KEYPOINT_NAMES)}


def test_poses_are_deterministic_and_rooted():
    a, b = sample_poses3d(50, seed=3), sample_poses3d(50, seed=3)
    assert torch.equal(a, b) and not torch.equal(a, sample_poses3d(50, seed=4))
    assert a.shape == (50, 15, 3) and (a[:, K["pelvis"]] == 0).all()


def test_bones_have_the_figures_proportions_and_left_right_symmetry():
    bones = bone_lengths(sample_poses3d(500, seed=0))  # [N, 14]
    assert bones.min() > 0.15 and bones.max() < 1.2
    # left and right limbs share their lengths in every pose
    lengths = {}
    poses = sample_poses3d(20, seed=1)
    for side in ("left", "right"):
        lengths[side] = (poses[:, K[f"{side}_wrist"]] - poses[:, K[f"{side}_elbow"]]).norm(dim=-1)
    torch.testing.assert_close(lengths["left"], lengths["right"])


def test_joint_limits_elbow_and_knee_bend_one_way():
    poses = sample_poses3d(2000, seed=2)
    for side in ("left", "right"):
        thigh = poses[:, K[f"{side}_knee"]] - poses[:, K[f"{side}_hip"]]
        shin = poses[:, K[f"{side}_ankle"]] - poses[:, K[f"{side}_knee"]]
        t = thigh / thigh.norm(dim=-1, keepdim=True)
        bend = shin - (shin * t).sum(-1, keepdim=True) * t  # the part of the shin across the thigh
        assert (bend[:, 2] <= 1e-9).all()  # the knee bends backwards only (body z is forward)


def test_camera_rotations_are_rotations():
    r = camera_rotations(100, seed=0)
    eye = torch.eye(3, dtype=r.dtype).expand(100, 3, 3)
    torch.testing.assert_close(r @ r.transpose(1, 2), eye)
    torch.testing.assert_close(torch.linalg.det(r), torch.ones(100, dtype=r.dtype))


def test_front_view_left_is_on_the_image_right():
    ds = SyntheticSkeletons(200, seed=0, max_yaw=0.0, max_pitch=0.0)
    pose2d, pose3d = ds.tensors()
    assert (pose2d[:, K["left_shoulder"], 0] > pose2d[:, K["right_shoulder"], 0]).all()
    assert (pose2d[:, K["neck"], 1] < 0).all()  # up is -y in the image
    torch.testing.assert_close(pose2d, pose3d[..., :2])


def test_projection_keeps_bone_lengths_and_noise():
    clean = SyntheticSkeletons(64, seed=5)
    noisy = SyntheticSkeletons(64, seed=5, noise_2d=0.05)
    torch.testing.assert_close(bone_lengths(clean.pose3d), bone_lengths(sample_poses3d(64, seed=5)).float())
    difference = (noisy.pose2d - clean.pose2d).std().item()
    assert math.isclose(difference, 0.05, rel_tol=0.15)
    assert len(clean) == 64 and clean[3][1].shape == (15, 3)


def test_mpjpe():
    a = torch.zeros(3, 15, 3)
    assert mpjpe(a, a + torch.tensor([3.0, 4.0, 0.0])).item() == pytest.approx(5.0)
    with pytest.raises(ValueError):
        mpjpe(a, torch.zeros(3, 14, 3))
