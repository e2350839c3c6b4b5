"""Articulated figures: a synthetic, offline dataset for 2D pose estimation.

Each image shows one stick figure with a random pose (forward kinematics from the
pelvis with joint angles in plausible ranges), random size, position, rotation,
limb thickness and colours, over a cluttered background (blobs and lines), and
sometimes a rectangular occluder patch that hides a few keypoints. The targets are
the 15 keypoints of :data:`KEYPOINT_NAMES`; :func:`render_heatmaps` and
:func:`heatmaps_to_keypoints` turn them into Gaussian heatmaps and back.

Conventions (read once, used everywhere in this module):

* **Images** are ``Tensor[3, H, W]`` float32 in [0, 1], with ``H = W = image_size``.
* **Pixel-index coordinates.** A keypoint ``(x, y)`` is in pixels with the *centre*
  of pixel (row ``r``, column ``c``) at ``(x, y) = (c, r)``; the image spans
  ``[-0.5, W - 0.5] x [-0.5, H - 0.5]``. This is what ``matplotlib.imshow`` uses by
  default, so keypoints plot directly on the image; a horizontal flip maps
  ``x -> W - 1 - x`` (:func:`hflip_keypoints`). (The shapes scenes use pixel *edges*
  for their boxes, as torchvision does: a box corner and a keypoint are different things.)
* **Keypoints** are ``Tensor[K, 3]`` float32 ``(x, y, visible)`` with K = 15, in the order
  of :data:`KEYPOINT_NAMES`. Every keypoint lies inside the image and the whole figure
  fits in it. ``visible = 1``: not hidden by the occluder (it may still be crossed by
  one of the figure's own limbs). ``visible = 0``: the pixel under the keypoint is
  covered by the occluder patch, but the coordinates are still the true ones (like
  COCO ``v = 1``, "labelled but not visible"). No keypoint is ever unlabelled.
* **Left and right** are the figure's own: it faces the viewer and is never mirrored,
  so when upright its left side appears on the image's right. Left limbs are drawn in
  a lighter tint of the body colour and right limbs in a darker shade, so the two
  sides can be told apart. :data:`FLIP_PAIRS` lists the (left, right) index pairs to
  swap after a horizontal flip.
* **Heatmaps** have ``H' = H // stride`` rows; cell ``(i, j)`` looks at the image point
  ``(j * stride + (stride - 1) / 2, i * stride + (stride - 1) / 2)`` (its receptive-field
  centre), and ``sigma`` is measured in heatmap cells.
* **Determinism.** Item ``i`` is a pure function of ``(seed, i)`` and the constructor arguments.
  The pose, the clutter, the occluder and the pixel noise use separate random streams, so
  ``clutter=False`` or ``occlusion_prob=0`` shows the very same figure.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch.utils.data import Dataset

from course_utils.checks import (
    MAX_ELEMENTS,
    check_bool,
    check_finite,
    check_index,
    check_interval,
    check_nonnegative_int,
    check_number,
    check_numel,
    check_positive_int,
    check_seed,
    check_tensor,
)
from course_utils.data import _raster
from course_utils.references import not_an_answer, reference_of

__all__ = [
    "KEYPOINT_NAMES",
    "SKELETON",
    "FLIP_PAIRS",
    "ArticulatedFigures",
    "render_heatmaps",
    "heatmaps_to_keypoints",
    "hflip_keypoints",
]

KEYPOINT_NAMES: tuple[str, ...] = (
    "head", "neck",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "pelvis",
)
_K = {name: i for i, name in enumerate(KEYPOINT_NAMES)}
SKELETON: tuple[tuple[int, int], ...] = (
    (_K["head"], _K["neck"]),
    (_K["neck"], _K["left_shoulder"]), (_K["left_shoulder"], _K["left_elbow"]), (_K["left_elbow"], _K["left_wrist"]),
    (_K["neck"], _K["right_shoulder"]), (_K["right_shoulder"], _K["right_elbow"]), (_K["right_elbow"], _K["right_wrist"]),
    (_K["neck"], _K["pelvis"]),
    (_K["pelvis"], _K["left_hip"]), (_K["left_hip"], _K["left_knee"]), (_K["left_knee"], _K["left_ankle"]),
    (_K["pelvis"], _K["right_hip"]), (_K["right_hip"], _K["right_knee"]), (_K["right_knee"], _K["right_ankle"]),
)
FLIP_PAIRS: tuple[tuple[int, int], ...] = tuple(
    (_K["left_" + part], _K["right_" + part]) for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
)

MIN_IMAGE_SIZE = 32
MAX_IMAGE_SIZE = 4096  # one figure is then 3 x 4096 x 4096 floats (200 MB)
_SALT = 0xF16E  # separates this dataset's random streams from other datasets with the same seed
_PAD = 1.5  # pixels kept free between the figure and the image border
_MIN_LIMB_PX = 2.0  # thinnest limb, so small figures stay visible
_OCCLUDER_TRIES = 10
_DEG = np.pi / 180

# Body proportions in torso lengths (pelvis -> neck = 1) and joint ranges in degrees.
_BONES = {"neck": 0.42, "shoulder": 0.30, "hip": 0.18, "upper_arm": 0.50, "forearm": 0.45, "thigh": 0.60, "shin": 0.55}
_HEAD_RADIUS = 0.20
_THICKNESS = (0.10, 0.16)
_HEAD_TILT = (-25.0, 25.0)
_ARM_RAISE = (-20.0, 170.0)  # 0 = hanging along the body, 90 = horizontal, outwards positive
_ELBOW = (-120.0, 120.0)
_LEG_RAISE = (-15.0, 55.0)
_KNEE = (-60.0, 90.0)
_LEFT_TINT, _RIGHT_SHADE = 0.45, 0.62


def _sample_pose(rng: np.random.Generator, max_rotation: float) -> np.ndarray:
    """Forward kinematics from the pelvis: np.ndarray[K, 2] (x, y) in torso lengths, y down."""
    theta = rng.uniform(-max_rotation, max_rotation) * _DEG
    up = np.array([np.sin(theta), -np.cos(theta)])  # pelvis -> neck; (0, -1) when upright
    left = np.array([-up[1], up[0]])  # the figure's left: the image's right when upright
    length = {k: v * rng.uniform(0.9, 1.1) for k, v in _BONES.items()}  # left and right share lengths
    pts = np.zeros((len(KEYPOINT_NAMES), 2))
    pts[_K["neck"]] = up * rng.uniform(0.95, 1.05)  # the torso is the unit of length
    tilt = rng.uniform(*_HEAD_TILT) * _DEG
    pts[_K["head"]] = pts[_K["neck"]] + length["neck"] * (np.cos(tilt) * up + np.sin(tilt) * left)

    def limb(start: np.ndarray, side: float, raise_range, bend_range, upper: float, lower: float):
        # Rotate away from "down" towards the figure's own side (side = +1 left, -1 right),
        # so the left and right limbs mirror each other.
        a = rng.uniform(*raise_range) * _DEG
        d1 = np.cos(a) * -up + np.sin(a) * side * left
        b = rng.uniform(*bend_range) * _DEG
        perp = np.array([d1[1], -d1[0]])  # d1 turned a quarter towards the figure's left when d1 = down
        d2 = np.cos(b) * d1 + np.sin(b) * side * perp
        mid = start + upper * d1
        return mid, mid + lower * d2

    for side, name in ((1.0, "left"), (-1.0, "right")):
        shoulder = pts[_K["neck"]] + side * length["shoulder"] * left
        hip = side * length["hip"] * left
        pts[_K[f"{name}_shoulder"]], pts[_K[f"{name}_hip"]] = shoulder, hip
        pts[_K[f"{name}_elbow"]], pts[_K[f"{name}_wrist"]] = limb(
            shoulder, side, _ARM_RAISE, _ELBOW, length["upper_arm"], length["forearm"])
        pts[_K[f"{name}_knee"]], pts[_K[f"{name}_ankle"]] = limb(
            hip, side, _LEG_RAISE, _KNEE, length["thigh"], length["shin"])
    return pts  # pelvis stays at the origin


def _muted(rng: np.random.Generator) -> np.ndarray:
    return _raster.hsv_to_rgb(rng.uniform(), rng.uniform(0.05, 0.4), rng.uniform(0.25, 0.65))


class ArticulatedFigures(Dataset):
    """Synthetic stick figures with 15 keypoints, for pose estimation.

    Args:
        n: number of images (``len`` of the dataset), >= 0.
        image_size: side ``S`` of the square images, >= 32.
        seed: non-negative int; item ``i`` depends only on ``(seed, i)`` and the arguments.
        occlusion_prob: probability that an occluder patch hides 1..``max_occluded`` keypoints.
        clutter: draw random muted blobs and lines in the background.
        max_rotation: largest rotation of the whole figure from upright, in degrees.
        scale_range: (low, high) size of the figure as a fraction of the largest size that fits.
        max_occluded: most keypoints one occluder may hide.
        pixel_noise: standard deviation of the Gaussian pixel noise.
        with_mask: also return ``target["mask"]``, Tensor[S, S] bool: the pixels of the
            figure that the occluder leaves visible (what a COCO annotator would outline;
            its sum is the "area" of the OKS metric).

    Items are ``(image, target)``: ``image`` is Tensor[3, S, S] float32 in [0, 1] and
    ``target = {"keypoints": Tensor[15, 3] float32 (x, y, visible)}`` in the
    pixel-index convention of the module docstring.

    Examples:
        >>> ds = ArticulatedFigures(4, image_size=32, seed=0)
        >>> image, target = ds[0]
        >>> image.shape, target["keypoints"].shape
        (torch.Size([3, 32, 32]), torch.Size([15, 3]))
        >>> bool(((target["keypoints"][:, :2] >= 0) & (target["keypoints"][:, :2] <= 31)).all())
        True
    """

    keypoint_names = KEYPOINT_NAMES
    skeleton = SKELETON
    flip_pairs = FLIP_PAIRS

    def __init__(
        self,
        n: int,
        image_size: int = 64,
        seed: int = 0,
        occlusion_prob: float = 0.5,
        clutter: bool = True,
        *,
        max_rotation: float = 40.0,
        scale_range: tuple[float, float] = (0.6, 1.0),
        max_occluded: int = 4,
        pixel_noise: float = 0.02,
        with_mask: bool = False,
    ) -> None:
        check_nonnegative_int(n, "n", maximum=MAX_ELEMENTS)
        check_positive_int(image_size, "image_size", maximum=MAX_IMAGE_SIZE)
        if image_size < MIN_IMAGE_SIZE:
            raise ValueError(f"image_size must be at least {MIN_IMAGE_SIZE}, got {image_size}")
        check_seed(seed, "seed")
        check_number(occlusion_prob, "occlusion_prob", low=0.0, high=1.0)
        check_bool(clutter, "clutter")
        check_number(max_rotation, "max_rotation", low=0.0, high=180.0)  # degrees
        check_interval(scale_range, "scale_range", low=0.0, high=1.0, low_open=True)
        check_positive_int(max_occluded, "max_occluded")
        check_number(pixel_noise, "pixel_noise", low=0.0)
        self.n = n
        self.image_size = image_size
        self.seed = seed
        self.occlusion_prob = float(occlusion_prob)
        self.clutter = clutter
        self.max_rotation = float(max_rotation)
        self.scale_range = (float(scale_range[0]), float(scale_range[1]))
        self.max_occluded = max_occluded
        self.pixel_noise = float(pixel_noise)
        if not isinstance(with_mask, bool):
            raise TypeError(f"with_mask must be a bool, got {type(with_mask).__name__}")
        self.with_mask = with_mask

    @property
    def num_keypoints(self) -> int:
        """Number of keypoints K (15)."""
        return len(KEYPOINT_NAMES)

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return (f"ArticulatedFigures(n={self.n}, image_size={self.image_size}, seed={self.seed}, "
                f"occlusion_prob={self.occlusion_prob}, clutter={self.clutter})")

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return self._generate(check_index(index, self.n, "ArticulatedFigures"))

    def _background(self, rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        size = self.image_size
        img = _muted(rng)[None, None, :] + 0.25 * (_raster.smooth_noise(rng, size, 4, 3) - 0.5)  # [S, S, 3]
        if not self.clutter:
            return img
        layers = []
        for _ in range(int(rng.integers(3, 8))):
            if rng.random() < 0.5:  # a blob: filled ellipse
                u, v = _raster.rotate_to_local(xs, ys, *rng.uniform(0, size, 2), rng.uniform(0, np.pi))
                ru, rv = rng.uniform(0.04, 0.18, 2) * size
                mask = (u / ru) ** 2 + (v / rv) ** 2 <= 1
            else:  # a line: thin capsule, easy to confuse with a limb only by its dull colour
                ends = rng.uniform(0, size, (1, 2, 2))  # [1 segment, 2 ends, (x, y)]
                mask = _raster.segment_distance_sq(xs, ys, ends[:, 0], ends[:, 1])[0] <= rng.uniform(0.5, 1.5) ** 2
            layers.append((mask, _muted(rng)))
        return _raster.paint(img, layers)

    def _generate(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        rng, bg_rng, occ_rng, noise_rng = _raster.item_rngs(self.seed, index, _SALT, 4)
        size = self.image_size
        xs, ys = _raster.pixel_grid(size, 0.0)  # pixel centres at integers: pixel-index convention
        img = self._background(bg_rng, xs, ys)

        # Pose in torso units, then the largest scale that fits, a random fraction of it,
        # and a random position that keeps the whole figure (head disc included) inside.
        pts = _sample_pose(rng, self.max_rotation)  # [K, 2]
        thickness = rng.uniform(*_THICKNESS)
        margin = max(_HEAD_RADIUS, thickness / 2)
        low, high = pts.min(axis=0) - margin, pts.max(axis=0) + margin  # [2] each
        room = size - 1 - 2 * _PAD  # span of pixel centres available
        scale = room / float(np.max(high - low)) * rng.uniform(*self.scale_range)
        offset = _PAD + rng.uniform(0, 1, 2) * (room - (high - low) * scale)  # [2]
        kp = (pts - low) * scale + offset  # [K, 2] pixels

        body = _raster.hsv_to_rgb(rng.uniform(), rng.uniform(0.6, 1.0), rng.uniform(0.8, 1.0))
        left_color = body + _LEFT_TINT * (1 - body)
        right_color = body * _RIGHT_SHADE
        radius = max(thickness * scale, _MIN_LIMB_PX) / 2
        # (segment, colour) in drawing order: legs behind the torso, arms in front.
        limbs = [
            (("right_hip", "right_knee"), right_color), (("right_knee", "right_ankle"), right_color),
            (("left_hip", "left_knee"), left_color), (("left_knee", "left_ankle"), left_color),
            (("neck", "head"), body),
            # Rounded shoulder and hip lines: the neck and the pelvis lie on the torso's edges.
            (("left_shoulder", "right_shoulder"), body), (("left_hip", "right_hip"), body),
            (("right_shoulder", "right_elbow"), right_color), (("right_elbow", "right_wrist"), right_color),
            (("left_shoulder", "left_elbow"), left_color), (("left_elbow", "left_wrist"), left_color),
        ]
        starts = np.stack([kp[_K[a]] for (a, _), _ in limbs])  # [L, 2]
        ends = np.stack([kp[_K[b]] for (_, b), _ in limbs])  # [L, 2]
        near = _raster.segment_distance_sq(xs, ys, starts, ends) <= radius**2  # [L, S, S]
        torso = _raster.convex_polygon_mask(
            xs, ys, kp[[_K["left_shoulder"], _K["right_shoulder"], _K["right_hip"], _K["left_hip"]]])
        dx, dy = xs - kp[_K["head"], 0], ys - kp[_K["head"], 1]
        head = dx * dx + dy * dy <= (_HEAD_RADIUS * scale) ** 2
        layers = [(near[i], color) for i, (_, color) in enumerate(limbs)]
        layers[4:4] = [(torso, body), (head, body)]  # after the legs, before the neck and the arms
        img = _raster.paint(img, layers)
        figure_mask = near.any(axis=0) | torso | head  # [S, S] every pixel of the figure

        visible = np.ones(len(KEYPOINT_NAMES), dtype=np.float32)
        if occ_rng.random() < self.occlusion_prob:
            covered = self._occlude(occ_rng, img, kp, visible)
            if covered is not None:
                y0, y1, x0, x1 = covered
                figure_mask[y0:y1, x0:x1] = False
        if self.pixel_noise > 0:
            img = img + np.float32(self.pixel_noise) * noise_rng.standard_normal(img.shape, dtype=np.float32)
        image = torch.from_numpy(np.ascontiguousarray(np.clip(img, 0, 1).transpose(2, 0, 1), dtype=np.float32))
        keypoints = torch.from_numpy(np.concatenate([kp, visible[:, None]], axis=1).astype(np.float32))  # [K, 3]
        target = {"keypoints": keypoints}
        if self.with_mask:
            target["mask"] = torch.from_numpy(np.ascontiguousarray(figure_mask))
        return image, target

    def _occlude(self, rng: np.random.Generator, img: np.ndarray, kp: np.ndarray,
                 visible: np.ndarray) -> tuple[int, int, int, int] | None:
        """Paint a textured rectangle over a random keypoint; set ``visible`` to 0 under it (in place).

        Returns the painted rows and columns ``(y0, y1, x0, x1)``, or None if nothing was painted.
        """
        size = self.image_size
        pixel = np.floor(kp + 0.5).astype(np.int64)  # [K, 2] (column, row) of the pixel under each keypoint
        for _ in range(_OCCLUDER_TRIES):
            w, h = rng.uniform(0.15, 0.35, 2) * size
            cx, cy = kp[rng.integers(len(kp))] + rng.uniform(-0.1, 0.1, 2) * size
            x0, x1 = int(round(cx - w / 2)), int(round(cx + w / 2))  # columns x0 <= c < x1
            y0, y1 = int(round(cy - h / 2)), int(round(cy + h / 2))
            hidden = (pixel[:, 0] >= x0) & (pixel[:, 0] < x1) & (pixel[:, 1] >= y0) & (pixel[:, 1] < y1)
            if 1 <= hidden.sum() <= self.max_occluded:
                break
        else:
            return None  # no placement hides an acceptable number of keypoints: leave the figure unoccluded
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, size), min(y1, size)
        patch = _muted(rng) + 0.3 * (_raster.smooth_noise(rng, size, 8, 1)[y0:y1, x0:x1] - 0.5)
        img[y0:y1, x0:x1] = patch
        visible[hidden] = 0.0
        return y0, y1, x0, x1

    def show(self, n: int = 8, seed: int = 0, names: bool = False, ncols: int = 4):
        """Draw ``n`` random figures (chosen with ``seed``) with their skeletons.

        Occluded keypoints (visible = 0) and the limbs that touch them are not drawn.

        Args:
            n: number of images to draw (at most ``len(self)``).
            seed: picks which images are drawn.
            names: write the keypoint names next to the points.
            ncols: number of columns of the grid.

        Returns:
            matplotlib.figure.Figure, made through pyplot like every ``course_utils.viz`` figure.
        """
        import matplotlib.pyplot as plt  # imported here: plotting is optional for the dataset

        from course_utils import viz

        check_positive_int(n, "n")
        check_nonnegative_int(seed, "seed")
        check_positive_int(ncols, "ncols")
        n = min(n, len(self))
        if n == 0:
            raise ValueError("cannot show an empty dataset (len is 0)")
        indices = np.sort(np.random.default_rng(seed).choice(len(self), size=n, replace=False))
        ncols = min(ncols, n)
        nrows = -(-n // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 2.7 * nrows), squeeze=False, layout="constrained")
        axes = axes.ravel()
        for ax in axes[n:]:
            ax.set_axis_off()
        for ax, index in zip(axes, indices):
            image, target = self[int(index)]
            kp = target["keypoints"]
            ax.imshow(image.permute(1, 2, 0).numpy(), interpolation="nearest")  # default extent: centres at integers
            viz.draw_keypoints(ax, kp, skeleton=SKELETON, names=KEYPOINT_NAMES if names else None)
            ax.set_title(f"#{int(index)}: {int((kp[:, 2] == 0).sum())} occluded", fontsize=8)
            ax.set_axis_off()
        return fig


def _check_keypoints(keypoints: torch.Tensor) -> None:
    check_tensor(keypoints, "keypoints", floating=True)
    if keypoints.ndim not in (2, 3) or keypoints.shape[-1] != 3:
        raise ValueError(f"keypoints must have shape [K, 3] or [B, K, 3], got {list(keypoints.shape)}")


@not_an_answer("09_pose/gaussian_heatmaps",
               why="the dataset's general renderer (batches, strides, visibility) that the training uses")
def render_heatmaps(
    keypoints: torch.Tensor,
    size: tuple[int, int],
    sigma: float = 2.0,
    stride: int = 1,
    include_occluded: bool = False,
) -> torch.Tensor:
    """Gaussian heatmaps for keypoints, one map per keypoint.

    The map of a keypoint at ``(x, y)`` is ``exp(-((u - x)^2 + (v - y)^2) / (2 (sigma * stride)^2))``
    where ``(u, v)`` is the image point a heatmap cell looks at (module docstring), so it
    equals 1 at the keypoint itself. The Gaussian is separable: one row profile and one
    column profile per keypoint, multiplied by broadcasting.

    Args:
        keypoints: Tensor[K, 3] or Tensor[B, K, 3] float ``(x, y, visible)`` in image pixels
            (pixel-index convention).
        size: ``(H, W)`` of the *image*; the maps are ``(H // stride, W // stride)``.
        sigma: standard deviation in heatmap cells, > 0.
        stride: downsampling factor between image and heatmap, >= 1.
        include_occluded: if False, keypoints with ``visible == 0`` get an all-zero map.

    Returns:
        Tensor[K, H', W'] (or Tensor[B, K, H', W']) with the dtype and device of ``keypoints``.

    Examples:
        >>> kp = torch.tensor([[3.0, 2.0, 1.0], [1.0, 1.0, 0.0]])
        >>> maps = render_heatmaps(kp, (5, 6), sigma=1.0)
        >>> maps.shape, float(maps[0, 2, 3]), float(maps[1].max())
        (torch.Size([2, 5, 6]), 1.0, 0.0)
    """
    _check_keypoints(keypoints)
    check_finite(keypoints, "keypoints")  # a NaN coordinate has no Gaussian (occluded ones keep coordinates)
    if not isinstance(size, (tuple, list, torch.Size)):
        raise TypeError(f"size must be an (H, W) pair of ints, got {type(size).__name__} ({size!r:.40})")
    if len(size) != 2:
        raise ValueError(f"size must be (H, W), got {size!r}")
    height, width = (check_positive_int(s, "size") for s in size)
    check_positive_int(stride, "stride")
    if height < stride or width < stride:
        raise ValueError(f"size {tuple(size)} must be at least stride ({stride}) along each side")
    sigma = check_number(sigma, "sigma", low=0.0, low_open=True)  # finite: an infinite sigma is a flat map
    shape = (*keypoints.shape[:-1], height // stride, width // stride)
    check_numel(math.prod(shape), "size", shape)
    centre = (stride - 1) / 2
    us = torch.arange(width // stride, dtype=keypoints.dtype, device=keypoints.device) * stride + centre  # [W']
    vs = torch.arange(height // stride, dtype=keypoints.dtype, device=keypoints.device) * stride + centre  # [H']
    spread = 2 * (sigma * stride) ** 2
    gx = torch.exp(-((us - keypoints[..., 0:1]) ** 2) / spread)  # [..., K, W']
    gy = torch.exp(-((vs - keypoints[..., 1:2]) ** 2) / spread)  # [..., K, H']
    maps = gy[..., :, None] * gx[..., None, :]  # [..., K, H', W']
    if not include_occluded:
        maps = maps * (keypoints[..., 2] > 0).to(maps.dtype)[..., None, None]
    return maps


@not_an_answer("09_pose/decode_heatmaps",
               why="the dataset's decoder with strides and sub-pixel refinement, used after the exercise")
def heatmaps_to_keypoints(heatmaps: torch.Tensor, stride: int = 1, refine: bool = True) -> torch.Tensor:
    """Decode heatmaps to keypoints: argmax, then optional sub-pixel refinement.

    The refinement fits a parabola to the *logarithm* of the map around the peak along
    each axis; for a Gaussian heatmap the log is exactly a parabola, so
    :func:`render_heatmaps` followed by this function recovers the keypoints to float
    precision (unless the peak sits on the border). The offset is clamped to half a cell.

    Args:
        heatmaps: Tensor[K, H', W'] or Tensor[B, K, H', W'] float.
        stride: the stride the maps were made with (to return image coordinates).
        refine: apply the sub-pixel refinement.

    Returns:
        Tensor[K, 3] (or Tensor[B, K, 3]) ``(x, y, score)`` in image pixels (pixel-index
        convention), with ``score`` the peak value of each map. An all-zero map decodes
        to cell (0, 0) with score 0.

    Examples:
        >>> kp = torch.tensor([[3.3, 2.6, 1.0]])
        >>> heatmaps_to_keypoints(render_heatmaps(kp, (8, 8))).round(decimals=3)
        tensor([[3.3000, 2.6000, 0.9690]])
    """
    check_tensor(heatmaps, "heatmaps", floating=True)
    if heatmaps.ndim not in (3, 4):
        raise ValueError(f"heatmaps must have shape [K, H, W] or [B, K, H, W], got {list(heatmaps.shape)}")
    check_finite(heatmaps, "heatmaps")  # a NaN map has no peak
    check_positive_int(stride, "stride")
    *lead, height, width = heatmaps.shape
    if heatmaps.numel() == 0:
        return heatmaps.new_zeros(*lead, 3)
    flat = heatmaps.reshape(*lead, height * width)  # [..., K, H'W']
    score, idx = flat.max(dim=-1)  # [..., K]
    row, col = idx // width, idx % width
    x, y = col.to(heatmaps.dtype), row.to(heatmaps.dtype)
    if refine:
        tiny = torch.finfo(heatmaps.dtype).tiny
        logs = heatmaps.clamp_min(tiny).log()  # [..., K, H', W']

        def at(r: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
            # Value of logs at (r, c) per map, with indices clamped to the map.
            r, c = r.clamp(0, height - 1), c.clamp(0, width - 1)
            return logs.reshape(*lead, height * width).gather(-1, (r * width + c)[..., None])[..., 0]

        def offset(before: torch.Tensor, centre: torch.Tensor, after: torch.Tensor, inside: torch.Tensor):
            # Vertex of the parabola through (-1, before), (0, centre), (1, after).
            curvature = before - 2 * centre + after
            ok = inside & (curvature < -1e-6)
            step = 0.5 * (before - after) / torch.where(ok, curvature, torch.ones_like(curvature))
            return torch.where(ok, step.clamp(-0.5, 0.5), torch.zeros_like(step))

        centre_log = at(row, col)
        x = x + offset(at(row, col - 1), centre_log, at(row, col + 1), (col > 0) & (col < width - 1))
        y = y + offset(at(row - 1, col), centre_log, at(row + 1, col), (row > 0) & (row < height - 1))
    centre = (stride - 1) / 2
    return torch.stack([x * stride + centre, y * stride + centre, score], dim=-1)  # [..., K, 3]


def _hflip_keypoints_twin(keypoints: torch.Tensor, image_width: int) -> torch.Tensor:
    from torchvision.transforms.v2 import functional as TF

    _check_keypoints(keypoints)
    check_positive_int(image_width, "image_width")
    if keypoints.shape[-2] != len(KEYPOINT_NAMES):
        raise ValueError(f"keypoints must have {len(KEYPOINT_NAMES)} rows (KEYPOINT_NAMES), got {keypoints.shape[-2]}")
    moved = TF.horizontal_flip_keypoints(keypoints[..., :2], canvas_size=(1, image_width))  # x -> W - 1 - x, no swap
    flipped = torch.cat([moved, keypoints[..., 2:]], dim=-1)
    order = [dict(FLIP_PAIRS + tuple((b, a) for a, b in FLIP_PAIRS)).get(k, k) for k in range(len(KEYPOINT_NAMES))]
    return flipped[..., order, :]


@reference_of("09_pose/hflip", twin=_hflip_keypoints_twin)
def hflip_keypoints(keypoints: torch.Tensor, image_width: int) -> torch.Tensor:
    """Keypoints of the horizontally flipped image: ``x -> W - 1 - x`` and left/right swapped.

    Args:
        keypoints: Tensor[K, 3] or Tensor[B, K, 3] ``(x, y, visible)`` with K = 15 in the
            order of :data:`KEYPOINT_NAMES` (pixel-index convention).
        image_width: W.

    Returns:
        A new tensor of the same shape: the keypoints of ``image.flip(-1)``.

    Examples:
        >>> kp = torch.zeros(15, 3)
        >>> kp[2] = torch.tensor([10.0, 5.0, 1.0])  # left shoulder
        >>> hflip_keypoints(kp, 64)[3]  # becomes the right shoulder
        tensor([53.,  5.,  1.])
    """
    _check_keypoints(keypoints)
    check_positive_int(image_width, "image_width")
    if keypoints.shape[-2] != len(KEYPOINT_NAMES):
        raise ValueError(f"keypoints must have {len(KEYPOINT_NAMES)} rows (KEYPOINT_NAMES), got {keypoints.shape[-2]}")
    order = list(range(len(KEYPOINT_NAMES)))
    for left, right in FLIP_PAIRS:
        order[left], order[right] = right, left
    flipped = keypoints[..., order, :].clone()  # [..., K, 3]
    flipped[..., 0] = image_width - 1 - flipped[..., 0]
    return flipped
