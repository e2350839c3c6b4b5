"""Synthetic 3D skeletons and their 2D projections, for 2D -> 3D pose lifting.

Poses use the 15 keypoints of :data:`course_utils.data.figures.KEYPOINT_NAMES` and the
same body proportions as the 2D figures (lengths in *torso units*: pelvis to neck = 1),
built by forward kinematics in 3D with joint angles in plausible ranges (elbows and knees
bend one way only, arms rise up to above the head, the trunk leans forward more than
backward), then seen by an orthographic camera turned by a random yaw around the body's
vertical axis and a small pitch.

Conventions:

* **Camera coordinates** ``(x, y, z)``: ``x`` to the image's right, ``y`` down, ``z``
  away from the camera (depth), in torso units, with the pelvis at the origin.
* The **2D pose** is the orthographic projection ``(x, y)``: exactly the first two camera
  coordinates (plus optional Gaussian noise, a stand-in for a 2D detector's error).
  Lifting means predicting ``z`` (and so the whole 3D pose) from it.
* At yaw 0 the figure faces the camera and its left side is on the image's right, as in
  :class:`~course_utils.data.figures.ArticulatedFigures`.
* **Determinism**: :func:`sample_poses3d` and :class:`SyntheticSkeletons` are pure
  functions of their arguments and ``seed``.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.utils.data import Dataset

from course_utils.checks import check_nonnegative_int
from course_utils.data.figures import KEYPOINT_NAMES, SKELETON

__all__ = ["sample_poses3d", "camera_rotations", "SyntheticSkeletons", "bone_lengths", "mpjpe"]

_K = {name: i for i, name in enumerate(KEYPOINT_NAMES)}
# Proportions of course_utils.data.figures (torso = 1).
_BONES = {"neck": 0.42, "shoulder": 0.30, "hip": 0.18, "upper_arm": 0.50, "forearm": 0.45, "thigh": 0.60, "shin": 0.55}
_DEG = math.pi / 180
# Joint ranges in degrees.
_LEAN_FORWARD, _LEAN_SIDE = (-10.0, 30.0), (-10.0, 10.0)
_HEAD_TILT = (-20.0, 20.0)
_ARM_ABDUCTION, _ARM_FLEXION, _ARM_TWIST, _ELBOW = (-10.0, 160.0), (-45.0, 110.0), (-60.0, 60.0), (0.0, 145.0)
_LEG_ABDUCTION, _LEG_FLEXION, _KNEE = (-10.0, 40.0), (-20.0, 100.0), (0.0, 130.0)
_SALT = 0x3D5C


def _uniform(g: torch.Generator, n: int, low_high: tuple[float, float]) -> Tensor:
    low, high = low_high
    return torch.rand(n, generator=g, dtype=torch.float64) * (high - low) + low


def _normalize(v: Tensor) -> Tensor:
    return v / v.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def _rotate(v: Tensor, axis: Tensor, angle: Tensor) -> Tensor:
    """Rodrigues' rotation of vectors ``v`` [N, 3] about unit ``axis`` [N, 3] by ``angle`` [N] radians."""
    c, s = angle.cos()[:, None], angle.sin()[:, None]
    return v * c + torch.cross(axis, v, dim=-1) * s + axis * (axis * v).sum(-1, keepdim=True) * (1 - c)


def _bend(direction: Tensor, towards: Tensor, twist: Tensor, angle: Tensor) -> Tensor:
    """Turn ``direction`` by ``angle`` towards ``towards`` (made perpendicular, then twisted about ``direction``)."""
    perp = _normalize(towards - (towards * direction).sum(-1, keepdim=True) * direction)
    perp = _rotate(perp, direction, twist)
    return angle.cos()[:, None] * direction + angle.sin()[:, None] * perp


def sample_poses3d(n: int, seed: int = 0) -> Tensor:
    """``n`` random 3D poses in the *body* frame: ``Tensor[n, 15, 3]`` float64, pelvis at 0.

    Body frame: ``X`` the figure's left, ``Y`` up, ``Z`` forward (where the figure faces).

    Examples:
        >>> poses = sample_poses3d(4, seed=0)
        >>> poses.shape, bool((poses[:, 14] == 0).all())
        (torch.Size([4, 15, 3]), True)
    """
    check_nonnegative_int(n, "n")
    check_nonnegative_int(seed, "seed")
    g = torch.Generator().manual_seed(seed * 1_000_003 + _SALT)
    one = torch.ones(n, dtype=torch.float64)
    left = torch.stack([one, 0 * one, 0 * one], -1)  # [n, 3]
    up = torch.stack([0 * one, one, 0 * one], -1)
    forward = torch.stack([0 * one, 0 * one, one], -1)
    length = {k: v * _uniform(g, n, (0.9, 1.1)) for k, v in _BONES.items()}  # left and right share lengths
    # The trunk leans, and the whole upper body (neck, shoulders, head) leans with it.
    trunk = _rotate(_rotate(up, left, -_uniform(g, n, _LEAN_FORWARD) * _DEG), forward, _uniform(g, n, _LEAN_SIDE) * _DEG)
    side_axis = _normalize(torch.cross(trunk, forward, dim=-1))  # the figure's left, perpendicular to the trunk
    pts = torch.zeros(n, len(KEYPOINT_NAMES), 3, dtype=torch.float64)
    pts[:, _K["neck"]] = trunk * _uniform(g, n, (0.95, 1.05))[:, None]
    head_dir = _rotate(_rotate(trunk, left, _uniform(g, n, _HEAD_TILT) * _DEG), forward, _uniform(g, n, _HEAD_TILT) * _DEG)
    pts[:, _K["head"]] = pts[:, _K["neck"]] + length["neck"][:, None] * head_dir
    for side, name in ((1.0, "left"), (-1.0, "right")):
        shoulder = pts[:, _K["neck"]] + side * length["shoulder"][:, None] * side_axis
        hip = side * length["hip"][:, None] * left
        # Arm: abduct sideways in the frontal plane, then swing forward (flexion); the elbow bends
        # the forearm towards the front (a biceps curl), twisted a little about the upper arm.
        a = _uniform(g, n, _ARM_ABDUCTION) * _DEG
        upper = a.cos()[:, None] * -trunk + a.sin()[:, None] * side * side_axis
        upper = _rotate(upper, side_axis, -_uniform(g, n, _ARM_FLEXION) * _DEG)
        fore = _bend(upper, forward + 1e-3 * trunk, _uniform(g, n, _ARM_TWIST) * _DEG, _uniform(g, n, _ELBOW) * _DEG)
        elbow = shoulder + length["upper_arm"][:, None] * upper
        # Leg: abduct sideways, flex forward at the hip; the knee bends the shin backwards.
        b = _uniform(g, n, _LEG_ABDUCTION) * _DEG
        thigh = b.cos()[:, None] * -up + b.sin()[:, None] * side * left
        thigh = _rotate(thigh, left, -_uniform(g, n, _LEG_FLEXION) * _DEG)
        shin = _bend(thigh, -forward + 1e-3 * up, torch.zeros(n, dtype=torch.float64), _uniform(g, n, _KNEE) * _DEG)
        knee = hip + length["thigh"][:, None] * thigh
        pts[:, _K[f"{name}_shoulder"]], pts[:, _K[f"{name}_hip"]] = shoulder, hip
        pts[:, _K[f"{name}_elbow"]] = elbow
        pts[:, _K[f"{name}_wrist"]] = elbow + length["forearm"][:, None] * fore
        pts[:, _K[f"{name}_knee"]] = knee
        pts[:, _K[f"{name}_ankle"]] = knee + length["shin"][:, None] * shin
    return pts


def camera_rotations(n: int, seed: int = 0, max_yaw: float = 180.0, max_pitch: float = 15.0) -> Tensor:
    """Rotations from the body frame to camera coordinates: ``Tensor[n, 3, 3]`` float64.

    A yaw uniform in ``[-max_yaw, max_yaw]`` degrees about the body's vertical axis, then a
    pitch uniform in ``[-max_pitch, max_pitch]`` about the camera's x axis. At yaw = pitch
    = 0 the figure faces the camera: body left -> image right (+x), up -> -y, forward -> -z.

    Examples:
        >>> camera_rotations(1, max_yaw=0.0, max_pitch=0.0)[0]
        tensor([[ 1.,  0.,  0.],
                [ 0., -1.,  0.],
                [ 0.,  0., -1.]], dtype=torch.float64)
    """
    check_nonnegative_int(n, "n")
    check_nonnegative_int(seed, "seed")
    g = torch.Generator().manual_seed(seed * 1_000_003 + _SALT + 1)
    yaw = _uniform(g, n, (-max_yaw, max_yaw)) * _DEG
    pitch = _uniform(g, n, (-max_pitch, max_pitch)) * _DEG
    zero, one = torch.zeros(n, dtype=torch.float64), torch.ones(n, dtype=torch.float64)
    r_yaw = torch.stack([torch.stack([yaw.cos(), zero, yaw.sin()], -1), torch.stack([zero, one, zero], -1),
                         torch.stack([-yaw.sin(), zero, yaw.cos()], -1)], dim=1)  # about body Y
    base = torch.tensor([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]], dtype=torch.float64)
    r_pitch = torch.stack([torch.stack([one, zero, zero], -1), torch.stack([zero, pitch.cos(), -pitch.sin()], -1),
                           torch.stack([zero, pitch.sin(), pitch.cos()], -1)], dim=1)  # about camera x
    return r_pitch @ base @ r_yaw  # [n, 3, 3]


def bone_lengths(poses: Tensor) -> Tensor:
    """Length of every edge of :data:`SKELETON`: ``Tensor[..., 14]`` from ``Tensor[..., 15, D]``.

    Examples:
        >>> bone_lengths(sample_poses3d(2)).shape
        torch.Size([2, 14])
    """
    starts = poses[..., [a for a, _ in SKELETON], :]
    ends = poses[..., [b for _, b in SKELETON], :]
    return (ends - starts).norm(dim=-1)


def mpjpe(predicted: Tensor, target: Tensor) -> Tensor:
    """Mean per-joint position error: the mean Euclidean distance over joints and poses.

    Examples:
        >>> mpjpe(torch.zeros(2, 15, 3), torch.ones(2, 15, 3) * 2)
        tensor(3.4641)
    """
    if predicted.shape != target.shape:
        raise ValueError(f"predicted and target must have the same shape, got {list(predicted.shape)} "
                         f"and {list(target.shape)}")
    return (predicted - target).norm(dim=-1).mean()


class SyntheticSkeletons(Dataset):
    """3D poses in camera coordinates with their 2D projections, for lifting.

    Args:
        n: number of poses.
        seed: poses, cameras and noise depend only on ``seed`` and the arguments.
        max_yaw, max_pitch: camera ranges in degrees (:func:`camera_rotations`).
        noise_2d: standard deviation of Gaussian noise added to the 2D pose (torso units).

    Items are ``(pose2d, pose3d)``: ``Tensor[15, 2]`` and ``Tensor[15, 3]`` float32, pelvis
    at the origin. :meth:`tensors` returns all of them at once.

    Examples:
        >>> ds = SyntheticSkeletons(8, seed=1)
        >>> pose2d, pose3d = ds[0]
        >>> pose2d.shape, pose3d.shape, bool(torch.allclose(pose2d, pose3d[:, :2]))
        (torch.Size([15, 2]), torch.Size([15, 3]), True)
    """

    def __init__(self, n: int, seed: int = 0, max_yaw: float = 180.0, max_pitch: float = 15.0,
                 noise_2d: float = 0.0) -> None:
        check_nonnegative_int(n, "n")
        check_nonnegative_int(seed, "seed")
        if not 0 <= max_yaw <= 180 or not 0 <= max_pitch <= 90:
            raise ValueError(f"max_yaw must be in [0, 180] and max_pitch in [0, 90], got {max_yaw}, {max_pitch}")
        if noise_2d < 0:
            raise ValueError(f"noise_2d must be >= 0, got {noise_2d}")
        body = sample_poses3d(n, seed)  # [n, 15, 3]
        rotations = camera_rotations(n, seed, max_yaw, max_pitch)  # [n, 3, 3]
        pose3d = torch.einsum("nij,nkj->nki", rotations, body)  # [n, 15, 3] camera coordinates
        g = torch.Generator().manual_seed(seed * 1_000_003 + _SALT + 2)
        pose2d = pose3d[..., :2] + noise_2d * torch.randn(n, len(KEYPOINT_NAMES), 2, generator=g, dtype=torch.float64)
        self.pose3d, self.pose2d = pose3d.float(), pose2d.float()

    def __len__(self) -> int:
        return len(self.pose3d)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.pose2d[index], self.pose3d[index]

    def tensors(self) -> tuple[Tensor, Tensor]:
        """All poses: ``(Tensor[n, 15, 2], Tensor[n, 15, 3])``."""
        return self.pose2d, self.pose3d
