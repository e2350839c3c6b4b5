"""Scenes with several articulated figures, for multi-person pose estimation.

A scene pastes 2 or 3 figures of :class:`~course_utils.data.figures.ArticulatedFigures`
(rendered without background, through their masks) onto a cluttered background; later
figures hide parts of earlier ones, so keypoints can be occluded *by another person*.
It comes with the two ingredients of the two families of multi-person methods:

* **top-down** (detect each person, crop, estimate one pose per crop):
  :func:`person_crops` cuts a square around each box with RoI align (the operation of
  chapter 05) and :func:`crop_to_scene` maps keypoints found in a crop back;
* **bottom-up** (find every keypoint of everyone, then group them):
  :func:`part_affinity_fields` renders OpenPose's limb vector fields (Cao et al., 2017)
  and :func:`limb_score` measures how well a candidate limb follows them.

Conventions: keypoints in the pixel-index convention of the figures (pixel (r, c) has its
centre at (x, y) = (c, r)); boxes ``(x1, y1, x2, y2)`` in the continuous convention of
:mod:`course_utils.ops.boxes` (pixel (r, c) covers [c, c + 1] x [r, r + 1]).
"""
from __future__ import annotations

import operator

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from course_utils.checks import check_nonnegative_int, check_positive_int, check_tensor
from course_utils.data import _raster
from course_utils.data.figures import SKELETON, ArticulatedFigures

__all__ = ["PoseScenes", "person_crops", "crop_to_scene", "part_affinity_fields", "limb_score"]

_SALT = 0x5CE7
_PLACEMENT_TRIES = 30
_MAX_OVERLAP = 0.35  # largest IoU between two people's boxes


def _box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two (x1, y1, x2, y2) boxes, through torchvision (the layout only needs the number)."""
    from torchvision.ops import box_iou

    return float(box_iou(torch.as_tensor(a, dtype=torch.float64)[None], torch.as_tensor(b, dtype=torch.float64)[None]))


class PoseScenes(Dataset):
    """Scenes of ``image_size`` pixels with 2 to ``max_people`` stick figures.

    Args:
        n: number of scenes.
        image_size: side of the square scene (>= 64).
        max_people: most figures per scene (>= 2); each scene has 2..max_people.
        person_size: side of the square in which each figure is drawn (32 <= it <= image_size).
        seed: item ``i`` depends only on ``(seed, i)`` and the arguments.

    Items are ``(image, target)``: ``image`` Tensor[3, S, S] float32 in [0, 1]; ``target``
    holds, for P people, ``"keypoints"`` Tensor[P, 15, 3] (``visible`` is 0 where a later
    figure covers the keypoint's pixel), ``"boxes"`` Tensor[P, 4] (the box of each whole
    figure), ``"masks"`` Tensor[P, S, S] bool (the visible pixels of each figure) and
    ``"areas"`` Tensor[P] (their counts).

    Examples:
        >>> scenes = PoseScenes(2, seed=0)
        >>> image, target = scenes[0]
        >>> image.shape, target["keypoints"].shape[1:], len(target["boxes"]) == len(target["keypoints"])
        (torch.Size([3, 128, 128]), torch.Size([15, 3]), True)
    """

    def __init__(self, n: int, image_size: int = 128, max_people: int = 3, person_size: int = 64,
                 seed: int = 0) -> None:
        check_nonnegative_int(n, "n")
        check_positive_int(image_size, "image_size")
        check_positive_int(max_people, "max_people")
        check_positive_int(person_size, "person_size")
        check_nonnegative_int(seed, "seed")
        if image_size < 64 or max_people < 2 or not 32 <= person_size <= image_size:
            raise ValueError(f"need image_size >= 64, max_people >= 2 and 32 <= person_size <= image_size, got "
                             f"{image_size}, {max_people}, {person_size}")
        self.n, self.image_size, self.max_people, self.person_size, self.seed = n, image_size, max_people, person_size, seed
        self._people = ArticulatedFigures(n * max_people, image_size=person_size, seed=seed, occlusion_prob=0.0,
                                          clutter=False, pixel_noise=0.0, with_mask=True, scale_range=(0.75, 1.0))
        self._canvas = ArticulatedFigures(1, image_size=image_size, seed=seed)  # lends its background painter

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> tuple[Tensor, dict[str, Tensor]]:
        index = operator.index(index)
        if not -self.n <= index < self.n:
            raise IndexError(f"index {index} is out of range for PoseScenes of length {self.n}")
        return self._generate(index % self.n)

    def _generate(self, index: int) -> tuple[Tensor, dict[str, Tensor]]:
        layout_rng, bg_rng, noise_rng = _raster.item_rngs(self.seed, index, _SALT, 3)
        size, side = self.image_size, self.person_size
        xs, ys = _raster.pixel_grid(size, 0.0)
        img = self._canvas._background(bg_rng, xs, ys)  # [S, S, 3]
        count = int(layout_rng.integers(2, self.max_people + 1))
        owner = np.full((size, size), -1, dtype=np.int64)  # which person is drawn last at each pixel
        keypoints, boxes, full_masks = [], [], []
        for p in range(count):
            figure, target = self._people[index * self.max_people + p]
            mask = target["mask"].numpy()  # [s, s]
            rows, cols = np.nonzero(mask)
            local = np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], dtype=np.float64)
            for _ in range(_PLACEMENT_TRIES):
                x0, y0 = layout_rng.integers(0, size - side + 1, 2)
                box = local + np.array([x0, y0, x0, y0])
                if all(_box_iou(box, other) <= _MAX_OVERLAP for other in boxes):
                    break
            pixels = np.zeros((size, size), dtype=bool)
            pixels[y0:y0 + side, x0:x0 + side] = mask
            img[pixels] = figure.permute(1, 2, 0).numpy()[mask]
            owner[pixels] = p
            kp = target["keypoints"].clone()
            kp[:, 0] += float(x0)
            kp[:, 1] += float(y0)
            keypoints.append(kp)
            boxes.append(box)
            full_masks.append(pixels)
        img = img + np.float32(0.02) * noise_rng.standard_normal(img.shape, dtype=np.float32)
        kps = torch.stack(keypoints)  # [P, 15, 3]
        cells = torch.floor(kps[..., :2] + 0.5).long().clamp(0, size - 1)  # pixel under each keypoint
        drawn_over = torch.from_numpy(owner)[cells[..., 1], cells[..., 0]]  # [P, 15]
        kps[..., 2] = (drawn_over <= torch.arange(count)[:, None]).float()  # hidden by a later person -> 0
        masks = torch.from_numpy(np.stack([m & (owner == p) for p, m in enumerate(full_masks)]))  # [P, S, S]
        image = torch.from_numpy(np.ascontiguousarray(np.clip(img, 0, 1).transpose(2, 0, 1), dtype=np.float32))
        return image, {"keypoints": kps, "boxes": torch.tensor(np.stack(boxes), dtype=torch.float32),
                       "masks": masks, "areas": masks.sum(dim=(1, 2)).float()}


def _square_boxes(boxes: Tensor, scale: float) -> Tensor:
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2  # [P, 2]
    half = (boxes[:, 2:] - boxes[:, :2]).amax(dim=1, keepdim=True) * scale / 2  # [P, 1]
    return torch.cat([centre - half, centre + half], dim=1)  # [P, 4]


def person_crops(image: Tensor, boxes: Tensor, out_size: int = 64, scale: float = 1.25) -> tuple[Tensor, Tensor]:
    """Square crops around each person, resampled to ``out_size`` pixels (RoI align).

    Args:
        image: Tensor[3, H, W].
        boxes: Tensor[P, 4] xyxy (continuous convention).
        out_size: side of each crop.
        scale: the crop's side is ``scale`` times the box's longer side, centred on the box.

    Returns:
        ``(crops, crop_boxes)``: Tensor[P, 3, out_size, out_size] and the square boxes
        Tensor[P, 4] that were cut (they may extend past the image, read as zeros).

    Examples:
        >>> crops, squares = person_crops(torch.rand(3, 64, 64), torch.tensor([[10.0, 10.0, 30.0, 50.0]]), 32)
        >>> crops.shape, squares.tolist()
        (torch.Size([1, 3, 32, 32]), [[-5.0, 5.0, 45.0, 55.0]])
    """
    from torchvision.ops import roi_align

    check_tensor(image, "image", ndim=3, floating=True)
    check_tensor(boxes, "boxes", shape=(None, 4), floating=True)
    check_positive_int(out_size, "out_size")
    squares = _square_boxes(boxes, scale)
    rois = torch.cat([squares.new_zeros(len(squares), 1), squares], dim=1)  # [P, 5] (batch index, box)
    crops = roi_align(image[None], rois, output_size=out_size, spatial_scale=1.0, sampling_ratio=2, aligned=True)
    return crops, squares


def crop_to_scene(keypoints: Tensor, crop_boxes: Tensor, out_size: int) -> Tensor:
    """Map keypoints found in crops (pixel-index coordinates of the crop) back to the scene.

    Crop pixel ``u`` samples the scene at continuous ``x1 + (u + 0.5) * w / out_size``, i.e.
    pixel-index ``x1 - 0.5 + (u + 0.5) * w / out_size``.

    Args:
        keypoints: Tensor[P, K, D] with ``(x, y, ...)`` in crop pixels.
        crop_boxes: Tensor[P, 4] the boxes that were cut.
        out_size: side of the crops.

    Returns:
        Tensor[P, K, D], the other columns unchanged.

    Examples:
        >>> crop_to_scene(torch.tensor([[[15.5, 0.0]]]), torch.tensor([[10.0, 20.0, 42.0, 52.0]]), 32)
        tensor([[[25.5000, 20.0000]]])
    """
    check_tensor(keypoints, "keypoints", ndim=3, floating=True)
    check_tensor(crop_boxes, "crop_boxes", shape=(keypoints.shape[0], 4), floating=True)
    scale = (crop_boxes[:, 2:] - crop_boxes[:, :2]) / out_size  # [P, 2]
    out = keypoints.clone()
    out[..., :2] = crop_boxes[:, None, :2] - 0.5 + (keypoints[..., :2] + 0.5) * scale[:, None, :]
    return out


def part_affinity_fields(keypoints: Tensor, size: tuple[int, int], skeleton=SKELETON, width: float = 1.0) -> Tensor:
    """OpenPose's part affinity fields: for each limb, the unit vector along it on its pixels.

    A pixel belongs to limb ``(a, b)`` of a person if it lies between the two keypoints
    along the limb and within ``width`` pixels of the segment; where several people's
    limbs of the same kind overlap, their vectors are averaged (as in OpenPose).

    Args:
        keypoints: Tensor[P, K, 2 or 3] pixel-index coordinates (all used).
        size: ``(H, W)``.
        skeleton: the limbs, pairs of keypoint indices.
        width: half-width of each limb's band, in pixels.

    Returns:
        Tensor[L, 2, H, W] (x and y components), L = len(skeleton).

    Examples:
        >>> kp = torch.tensor([[[1.0, 2.0], [6.0, 2.0]]])
        >>> paf = part_affinity_fields(kp, (5, 8), skeleton=[(0, 1)])
        >>> paf[0, :, 2, 3].tolist(), paf[0, :, 0, 3].tolist()
        ([1.0, 0.0], [0.0, 0.0])
    """
    check_tensor(keypoints, "keypoints", ndim=3, floating=True)
    height, width_px = size
    ys, xs = torch.meshgrid(torch.arange(height, dtype=keypoints.dtype), torch.arange(width_px, dtype=keypoints.dtype),
                            indexing="ij")
    fields = keypoints.new_zeros(len(skeleton), 2, height, width_px)
    for limb, (a, b) in enumerate(skeleton):
        total = keypoints.new_zeros(2, height, width_px)
        count = keypoints.new_zeros(height, width_px)
        for person in keypoints:
            start, end = person[a, :2], person[b, :2]
            length = (end - start).norm()
            if length < 1e-6:
                continue
            u = (end - start) / length  # [2]
            along = (xs - start[0]) * u[0] + (ys - start[1]) * u[1]  # [H, W]
            across = (xs - start[0]) * -u[1] + (ys - start[1]) * u[0]
            on = (along >= 0) & (along <= length) & (across.abs() <= width)
            total += on * u[:, None, None]
            count += on
        fields[limb] = total / count.clamp_min(1)
    return fields


def limb_score(field: Tensor, start: Tensor, end: Tensor, samples: int = 10) -> float:
    """How well the candidate limb ``start -> end`` follows a part affinity field.

    The mean, over ``samples`` points evenly spaced on the segment, of the dot product
    between the field (at the nearest pixel) and the segment's unit vector: about 1 for a
    real limb, about 0 (or negative) for a pairing of two different people's keypoints.

    Args:
        field: Tensor[2, H, W] one limb's field.
        start, end: Tensor[2] pixel-index ``(x, y)`` of the two candidate keypoints.
        samples: points on the segment.

    Examples:
        >>> paf = part_affinity_fields(torch.tensor([[[1.0, 2.0], [6.0, 2.0]]]), (5, 8), skeleton=[(0, 1)])
        >>> limb_score(paf[0], torch.tensor([1.0, 2.0]), torch.tensor([6.0, 2.0]))
        1.0
    """
    check_tensor(field, "field", ndim=3, floating=True)
    check_positive_int(samples, "samples")
    direction = end - start
    length = float(direction.norm())
    if length < 1e-6:
        return 0.0
    unit = direction / length
    t = torch.linspace(0, 1, samples, dtype=field.dtype)[:, None]
    points = start[None, :] + t * direction[None, :]  # [samples, 2]
    cols = points[:, 0].round().long().clamp(0, field.shape[2] - 1)
    rows = points[:, 1].round().long().clamp(0, field.shape[1] - 1)
    vectors = field[:, rows, cols]  # [2, samples]
    return float((vectors * unit[:, None]).sum(dim=0).mean())
