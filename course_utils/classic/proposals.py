"""Selective search (Uijlings et al., 2013), the region proposals of R-CNN, in a small readable form.

1. Over-segment the image with Felzenszwalb and Huttenlocher's graph-based method
   (``skimage.segmentation.felzenszwalb``): small regions of similar colour.
2. Group hierarchically: repeatedly merge the two *neighbouring* regions that are most
   similar, until one region is left. Similarity is the sum of three terms in [0, 1]:
   colour (intersection of the two normalised colour histograms, 8 bins per channel),
   size (small regions merge first, so that regions grow evenly all over the image) and
   fill (regions whose union fills its bounding box well merge first).
3. Every region ever formed, the initial ones and each merge, gives one proposal: its
   bounding box. Running the grouping on segmentations of several ``scales`` (coarser or
   finer initial regions) diversifies the proposals, as the paper does with colour spaces
   and similarity measures.

Boxes are xyxy absolute pixels (see :mod:`course_utils.ops.boxes`). The paper's version
runs on full-size photographs and returns about 2,000 boxes; here images are small and
the loops are plain Python, written to be read.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from course_utils.checks import check_number, check_positive_int, check_tensor

__all__ = ["selective_search"]

_HIST_BINS = 8


def _region_stats(labels: np.ndarray, image: np.ndarray) -> dict[int, dict]:
    """Per segment: bounding box (x1, y1, x2, y2), size in pixels, normalised colour histogram."""
    stats = {}
    h, w = labels.shape
    for r in np.unique(labels):
        ys, xs = np.nonzero(labels == r)
        pixels = image[ys, xs]  # [n, 3] in [0, 1]
        hist = np.concatenate([np.histogram(pixels[:, c], bins=_HIST_BINS, range=(0.0, 1.0))[0]
                               for c in range(image.shape[2])]).astype(np.float64)
        stats[int(r)] = {"box": (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1), "size": len(ys),
                         "hist": hist / hist.sum()}
    return stats


def _neighbours(labels: np.ndarray) -> set[tuple[int, int]]:
    """Pairs (a, b), a < b, of segments that touch horizontally or vertically."""
    pairs = set()
    for a, b in ((labels[:, :-1], labels[:, 1:]), (labels[:-1, :], labels[1:, :])):
        differ = a != b
        for u, v in zip(a[differ].tolist(), b[differ].tolist()):
            pairs.add((min(u, v), max(u, v)))
    return pairs


def _union_box(a, b):
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _similarity(ra: dict, rb: dict, image_size: int) -> float:
    colour = float(np.minimum(ra["hist"], rb["hist"]).sum()) / 3  # each histogram sums to 3 (one per channel)
    size = 1.0 - (ra["size"] + rb["size"]) / image_size
    x1, y1, x2, y2 = _union_box(ra["box"], rb["box"])
    fill = 1.0 - ((x2 - x1) * (y2 - y1) - ra["size"] - rb["size"]) / image_size
    return colour + size + fill


def _group(labels: np.ndarray, image: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Hierarchical grouping of one segmentation: the boxes of all regions, initial ones first."""
    regions = _region_stats(labels, image)
    image_size = labels.size
    boxes = [r["box"] for r in regions.values()]
    pairs = _neighbours(labels)
    sims = {(a, b): _similarity(regions[a], regions[b], image_size) for a, b in pairs}
    next_id = max(regions) + 1
    while sims:
        a, b = max(sims, key=sims.get)  # the most similar neighbours
        ra, rb = regions.pop(a), regions.pop(b)
        size = ra["size"] + rb["size"]
        merged = {"box": _union_box(ra["box"], rb["box"]), "size": size,
                  "hist": (ra["hist"] * ra["size"] + rb["hist"] * rb["size"]) / size}
        boxes.append(merged["box"])
        # the neighbours of the merged region are those of a and b
        touching = {u if v in (a, b) else v for u, v in sims if (u in (a, b)) != (v in (a, b))}
        sims = {k: s for k, s in sims.items() if a not in k and b not in k}
        regions[next_id] = merged
        for n in touching:
            sims[(n, next_id)] = _similarity(regions[n], merged, image_size)
        next_id += 1
    return boxes


def selective_search(image: Tensor, scales: Sequence[float] = (20.0, 50.0, 100.0), sigma: float = 0.5,
                     min_size: int = 10) -> Tensor:
    """Selective-search proposals of one image.

    Args:
        image: Tensor[3, H, W] float, RGB in [0, 1].
        scales: Felzenszwalb's ``scale`` of each initial segmentation (larger: bigger segments).
        sigma: width of the Gaussian smoothing before segmenting.
        min_size: smallest initial segment, in pixels.

    Returns:
        Tensor[P, 4] float32 of distinct xyxy boxes (absolute pixels), from all scales:
        for each scale the initial segments first, then the merges in the order they happened.

    Examples:
        >>> img = torch.zeros(3, 32, 32)
        >>> img[:, 8:20, 4:16] = 1.0  # a white square on black
        >>> boxes = selective_search(img, scales=(50.0,))
        >>> [4.0, 8.0, 16.0, 20.0] in boxes.tolist(), [0.0, 0.0, 32.0, 32.0] in boxes.tolist()
        (True, True)
    """
    from skimage.segmentation import felzenszwalb

    check_tensor(image, "image", ndim=3, floating=True, finite=True)
    if image.shape[0] != 3 or image.shape[1] == 0 or image.shape[2] == 0:
        raise ValueError(f"image must have shape [3, H, W] with H, W > 0, got {list(image.shape)}")
    if not len(scales):
        raise ValueError("scales must name at least one scale")
    scales = [check_number(s, "scales", low=0, low_open=True) for s in scales]
    sigma = check_number(sigma, "sigma", low=0)
    min_size = check_positive_int(min_size, "min_size")
    rgb = image.detach().cpu().permute(1, 2, 0).to(torch.float64).clamp(0, 1).numpy()  # [H, W, 3]
    seen, boxes = set(), []
    for scale in scales:
        labels = felzenszwalb(rgb, scale=scale, sigma=sigma, min_size=min_size)
        for box in _group(labels, rgb):
            box = tuple(int(v) for v in box)
            if box not in seen:
                seen.add(box)
                boxes.append(box)
    return torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
