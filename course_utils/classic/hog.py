"""A classical detector: HOG features, a linear SVM and sliding windows (Dalal and Triggs, 2005).

Before CNNs, a detector was a hand-designed feature plus a linear classifier slid over the
image. HOG (histograms of oriented gradients) describes a window by the directions of its
edges: gradients are binned by orientation in small cells (4 x 4 pixels here), and the
histograms are normalised over blocks of 2 x 2 cells, which makes them robust to
lighting. A linear SVM trained on windows around true objects (positives) and random
windows elsewhere (negatives) scores every window of a sliding grid at several sizes;
per-class non-maximum suppression removes the duplicates.

:class:`HogSvmDetector` does this with ``skimage.feature.hog`` and scikit-learn's
``LinearSVC`` (one-vs-rest over background and the K classes). Boxes are xyxy absolute
pixels (see :mod:`course_utils.ops.boxes`).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from course_utils.checks import check_positive_int, check_tensor
from course_utils.ops.boxes import batched_nms, box_iou

__all__ = ["hog_features", "sliding_windows", "HogSvmDetector"]

PATCH = 16  # every window (with its context margin) is resized to PATCH x PATCH before its HOG is computed


def hog_features(patches: Tensor) -> Tensor:
    """HOG descriptors of image patches.

    Args:
        patches: Tensor[N, 3, PATCH, PATCH] float RGB in [0, 1].

    Returns:
        Tensor[N, D] float32 (9 orientations, 4 x 4-pixel cells, 2 x 2-cell blocks, L2-Hys).
    """
    from skimage.feature import hog

    check_tensor(patches, "patches", shape=(None, 3, PATCH, PATCH), floating=True)
    gray = patches.detach().cpu().to(torch.float64).mean(dim=1).numpy()  # [N, PATCH, PATCH]
    feats = [hog(g, orientations=9, pixels_per_cell=(4, 4), cells_per_block=(2, 2), block_norm="L2-Hys")
             for g in gray]
    dim = 9 * 2 * 2 * (PATCH // 4 - 1) ** 2
    return torch.tensor(np.array(feats), dtype=torch.float32).reshape(-1, dim)


def sliding_windows(image_size: tuple[int, int], sizes: Sequence[int], stride: int) -> Tensor:
    """Every square window of the given sizes on a grid of the given stride: Tensor[W, 4] xyxy."""
    h, w = image_size
    stride = check_positive_int(stride, "stride")
    boxes = []
    for s in sizes:
        s = check_positive_int(s, "sizes")
        for y in range(0, h - s + 1, stride):
            for x in range(0, w - s + 1, stride):
                boxes.append((x, y, x + s, y + s))
    return torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)


CONTEXT = 0.25  # each window is read with a margin of a quarter of its side: HOG needs the edges inside


def _crops(image: Tensor, boxes: Tensor) -> Tensor:
    """Windows of one image [3, H, W], with their context margin, resized to [N, 3, PATCH, PATCH]."""
    if not len(boxes):
        return image.new_zeros(0, 3, PATCH, PATCH)
    side = (boxes[:, 2:] - boxes[:, :2]).max(dim=1).values  # [N]
    pad = int(side.max() * CONTEXT) + 2
    padded = F.pad(image[None], (pad, pad, pad, pad), mode="replicate")[0]  # borders repeated outward
    out = []
    for (x1, y1, x2, y2), s in zip(boxes.tolist(), side.tolist()):
        m = s * CONTEXT
        c = [round(v + pad) for v in (x1 - m, y1 - m, x2 + m, y2 + m)]
        crop = padded[:, c[1]:c[3], c[0]:c[2]]
        out.append(F.interpolate(crop[None], size=(PATCH, PATCH), mode="bilinear", align_corners=False)[0])
    return torch.stack(out)


def _square(boxes: Tensor, image_size: tuple[int, int]) -> Tensor:
    """The square of side max(w, h) around each box's centre, clipped to the image."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]).max(dim=1).values[:, None] / 2
    sq = torch.cat([centre - half, centre + half], dim=1)
    sq[:, 0::2] = sq[:, 0::2].clamp(0, image_size[1])
    sq[:, 1::2] = sq[:, 1::2].clamp(0, image_size[0])
    return sq


class HogSvmDetector:
    """HOG + linear SVM over square sliding windows, then per-class NMS.

    Args:
        sizes: side lengths of the windows, in pixels.
        stride: step of the window grid, in pixels.
        C: the SVM's regularisation (smaller: stronger).
        negatives_per_image: background windows (IoU < 0.3 with every object) drawn per training image.
        seed: seed of the negative sampling and of the SVM.

    Examples:
        >>> from course_utils.data import ShapesScenes
        >>> scenes = [ShapesScenes(6, seed=0)[i] for i in range(6)]
        >>> det = HogSvmDetector(sizes=(16, 32), stride=8).fit([s[0] for s in scenes], [s[1] for s in scenes])
        >>> out = det.predict([scenes[0][0]])
        >>> sorted(out[0]), out[0]["boxes"].shape[1]
        (['boxes', 'labels', 'scores'], 4)
    """

    def __init__(self, sizes: Sequence[int] = (12, 20, 28, 36), stride: int = 4, C: float = 0.1,
                 negatives_per_image: int = 30, seed: int = 0) -> None:
        self.sizes, self.stride, self.C = tuple(sizes), check_positive_int(stride, "stride"), float(C)
        self.negatives_per_image = check_positive_int(negatives_per_image, "negatives_per_image")
        self.seed = seed
        self.svm = None

    def fit(self, images: Sequence[Tensor], targets: Sequence[Mapping[str, Tensor]]) -> "HogSvmDetector":
        """Train on images [3, H, W] and their targets (``"boxes"`` xyxy, ``"labels"`` 1..K)."""
        from sklearn.svm import LinearSVC

        if len(images) != len(targets) or not len(images):
            raise ValueError(f"need as many targets as images (at least one), got {len(images)} and {len(targets)}")
        g = torch.Generator().manual_seed(self.seed)
        feats, labels = [], []
        for image, target in zip(images, targets):
            size = tuple(image.shape[-2:])
            boxes = target["boxes"].to(torch.float32)
            if len(boxes):
                feats.append(hog_features(_crops(image, _square(boxes, size))))
                labels.append(target["labels"].long())
            windows = sliding_windows(size, self.sizes, self.stride)
            if len(boxes):
                windows = windows[box_iou(windows, boxes).max(dim=1).values < 0.3]
            pick = torch.randperm(len(windows), generator=g)[: self.negatives_per_image]
            feats.append(hog_features(_crops(image, windows[pick])))
            labels.append(torch.zeros(len(pick), dtype=torch.long))
        x, y = torch.cat(feats).numpy(), torch.cat(labels).numpy()
        self.svm = LinearSVC(C=self.C, random_state=self.seed).fit(x, y)
        return self

    def predict(self, images: Sequence[Tensor], iou_threshold: float = 0.3) -> list[dict[str, Tensor]]:
        """Per image: ``"boxes"`` Tensor[D, 4], ``"scores"`` (SVM margins), ``"labels"`` 1..K, after NMS."""
        if self.svm is None:
            raise RuntimeError("call fit before predict")
        results = []
        for image in images:
            windows = sliding_windows(tuple(image.shape[-2:]), self.sizes, self.stride)
            margins = self.svm.decision_function(hog_features(_crops(image, windows)).numpy())  # [W, classes]
            margins = torch.as_tensor(margins, dtype=torch.float32)
            if margins.ndim == 1:  # two classes: scikit-learn returns the margin of the second only
                margins = torch.stack([-margins, margins], dim=1)
            classes = torch.as_tensor(self.svm.classes_)
            best = margins.argmax(dim=1)
            is_object = classes[best] > 0
            boxes, scores, labels = windows[is_object], margins[is_object, best[is_object]], classes[best[is_object]]
            keep = batched_nms(boxes, scores, labels, iou_threshold)
            results.append({"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep].long()})
        return results
