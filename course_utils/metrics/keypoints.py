"""Keypoint metrics: PCK with visibility, and COCO's object keypoint similarity (OKS).

Keypoints are ``Tensor[..., K, 2]`` predictions and ``Tensor[..., K, 3]`` targets
``(x, y, v)`` in pixels. The meaning of ``v`` differs between the two metrics, as it
does in practice:

* **PCK@alpha** (percentage of correct keypoints) counts a keypoint as correct when its
  distance to the truth is at most ``alpha`` times a reference size of the instance. Here
  the size is the longer side of the bounding box of the instance's target keypoints (as
  in many benchmarks since Yang and Ramanan, 2013; MPII's PCKh uses the head segment, LSP's
  PCK the torso). Only keypoints with ``v > 0`` (*visible*) are scored: a keypoint hidden
  behind an occluder is not asked for.
* **OKS** (COCO, 2017) is a soft version: keypoint ``i`` scores
  ``exp(-d_i^2 / (2 s^2 k_i^2))`` with ``s^2`` the object's segment area and
  ``k_i = 2 sigma_i``, averaged over the keypoints with ``v > 0``, where COCO's ``v`` is 0
  for *unlabelled*, 1 for *labelled but not visible*, 2 for visible: occluded keypoints
  that were labelled do count. ``sigma_i`` is the standard deviation of human annotators'
  clicks for that keypoint, relative to the object's scale, measured by COCO on 5,000
  redundantly annotated images: eyes are placed consistently (0.025), hips are not (0.107).

:func:`oks_matrix` reproduces ``pycocotools.cocoeval.COCOeval.computeOks`` (including its
rule for a target with no labelled keypoint), so OKS-based AP can be computed by
pycocotools or by anything that takes an IoU-like matrix.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from course_utils.checks import check_number, check_tensor
from course_utils.references import not_an_answer, reference_of

__all__ = [
    "COCO_KEYPOINT_NAMES",
    "COCO_SIGMAS",
    "FIGURE_SIGMAS",
    "reference_size",
    "pck",
    "pck_loop",
    "pck_per_keypoint",
    "oks",
    "oks_loop",
    "oks_matrix",
]

COCO_KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)
#: COCO's per-keypoint constants sigma_i (pycocotools' ``kpt_oks_sigmas``), in the order above.
COCO_SIGMAS: tuple[float, ...] = tuple(v / 10.0 for v in (
    0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89))
_COCO = dict(zip(COCO_KEYPOINT_NAMES, COCO_SIGMAS))
#: Constants for the 15 keypoints of :class:`course_utils.data.ArticulatedFigures`: COCO's for
#: the twelve limb joints, CrowdPose's 0.079 for the head and the neck (which COCO lacks),
#: and the hips' value for the pelvis (our choice: it is as hard to place as a hip).
FIGURE_SIGMAS: tuple[float, ...] = (
    0.079, 0.079,
    _COCO["left_shoulder"], _COCO["right_shoulder"], _COCO["left_elbow"], _COCO["right_elbow"],
    _COCO["left_wrist"], _COCO["right_wrist"], _COCO["left_hip"], _COCO["right_hip"],
    _COCO["left_knee"], _COCO["right_knee"], _COCO["left_ankle"], _COCO["right_ankle"],
    _COCO["left_hip"],
)


def _check_pair(predicted, target) -> None:
    check_tensor(predicted, "predicted", floating=True)
    check_tensor(target, "target", floating=True)
    if predicted.ndim < 2 or predicted.shape[-1] < 2:
        raise ValueError(f"predicted must have shape [..., K, 2], got {list(predicted.shape)}")
    if target.shape[-1] != 3 or target.shape[:-1] != predicted.shape[:-1]:
        raise ValueError(f"target must have shape {list(predicted.shape[:-1]) + [3]} (x, y, v), "
                         f"got {list(target.shape)}")


def _check_visible(target: Tensor) -> None:
    """PCK needs at least one visible keypoint (documented): otherwise 0 / 0."""
    if not bool((target[..., 2] > 0).any()):
        raise ValueError(f"target must have at least one visible keypoint (v > 0), got none among "
                         f"{target[..., 2].numel()}")


def _check_alpha(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
        raise ValueError(f"alpha must be a number > 0, got {alpha!r}")
    return float(alpha)


def reference_size(target: Tensor) -> Tensor:
    """Longer side of the bounding box of each instance's target keypoints (all of them).

    Args:
        target: Tensor[..., K, 2 or 3].

    Returns:
        Tensor[...]: ``max(x_max - x_min, y_max - y_min)``.

    Examples:
        >>> reference_size(torch.tensor([[[0.0, 0.0, 2.0], [3.0, 8.0, 0.0]]]))
        tensor([8.])
    """
    check_tensor(target, "target", floating=True)
    if target.ndim < 2 or target.shape[-2] == 0 or target.shape[-1] < 2:
        raise ValueError(f"target must have shape [..., K, 2 or 3] with K >= 1, got {list(target.shape)}")
    xy = target[..., :2]
    return (xy.amax(dim=-2) - xy.amin(dim=-2)).amax(dim=-1)


def _counts(predicted: Tensor, target: Tensor, alpha: float, size: Tensor | None) -> tuple[Tensor, Tensor]:
    """Per keypoint: number of correct visible keypoints and number of visible keypoints."""
    size = reference_size(target) if size is None else size
    dist = (predicted[..., :2] - target[..., :2]).pow(2).sum(dim=-1).sqrt()  # [..., K]
    visible = target[..., 2] > 0
    correct = (dist <= alpha * size[..., None]) & visible
    dims = tuple(range(correct.ndim - 1))
    if not dims:  # one instance [K]: sum(dim=()) would sum over everything
        return correct.long(), visible.long()
    return correct.sum(dim=dims), visible.sum(dim=dims)  # [K], [K]


def _pck_twin(predicted: Tensor, target: Tensor, alpha: float = 0.1) -> float:
    _check_pair(predicted, target)
    alpha = _check_alpha(alpha)
    _check_visible(target)
    threshold = alpha * reference_size(target)  # [...]
    dist = torch.linalg.vector_norm(predicted[..., :2] - target[..., :2], dim=-1)  # [..., K]
    visible = target[..., 2] > 0
    return int(torch.count_nonzero((dist <= threshold[..., None]) & visible)) / int(torch.count_nonzero(visible))


@reference_of("09_pose/pck", twin=_pck_twin)
def pck_loop(predicted: Tensor, target: Tensor, alpha: float = 0.1) -> float:
    """Loop reference of :func:`pck`: one instance, then one keypoint, at a time."""
    _check_pair(predicted, target)
    alpha = _check_alpha(alpha)
    _check_visible(target)
    preds = predicted.reshape(-1, predicted.shape[-2], predicted.shape[-1]).tolist()
    targets = target.reshape(-1, target.shape[-2], 3).tolist()
    correct = visible = 0
    for pred, truth in zip(preds, targets):
        xs, ys = [t[0] for t in truth], [t[1] for t in truth]
        size = max(max(xs) - min(xs), max(ys) - min(ys))
        for (px, py, *_), (tx, ty, v) in zip(pred, truth):
            if v > 0:
                visible += 1
                correct += math.hypot(px - tx, py - ty) <= alpha * size
    return correct / visible


@reference_of("09_pose/pck", twin=_pck_twin)
def pck(predicted: Tensor, target: Tensor, alpha: float = 0.1) -> float:
    """PCK@alpha over all visible keypoints of all instances.

    Args:
        predicted: Tensor[..., K, 2] predicted ``(x, y)`` in pixels.
        target: Tensor[..., K, 3] ``(x, y, v)``; only keypoints with ``v > 0`` are scored,
            and at least one must be.
        alpha: the fraction of the reference size (:func:`reference_size`) within which a
            keypoint is correct (distance ``<= alpha * size``).

    Returns:
        float: correct visible keypoints / visible keypoints.

    Examples:
        >>> target = torch.tensor([[[0.0, 0.0, 1.0], [0.0, 20.0, 1.0], [10.0, 10.0, 0.0]]])
        >>> predicted = torch.tensor([[[1.0, 1.0], [0.0, 25.0], [99.0, 99.0]]])
        >>> pck(predicted, target, alpha=0.1)  # size 20: threshold 2 px; the third is not visible
        0.5
    """
    _check_pair(predicted, target)
    alpha = _check_alpha(alpha)
    _check_visible(target)
    correct, visible = _counts(predicted, target, alpha, None)
    return float(correct.sum()) / float(visible.sum())


@not_an_answer("09_pose/pck", why="per-keypoint rates with any reference size, used by the chapter after the exercise")
def pck_per_keypoint(predicted: Tensor, target: Tensor, alpha: float = 0.1, size: Tensor | None = None) -> Tensor:
    """PCK@alpha of each keypoint, over the instances where it is visible.

    Args:
        predicted: Tensor[..., K, 2].
        target: Tensor[..., K, 3] ``(x, y, v)``.
        alpha: threshold as a fraction of the reference size.
        size: Tensor[...] reference sizes; default :func:`reference_size` of ``target``.

    Returns:
        Tensor[K] float64; NaN for a keypoint that is never visible.

    Examples:
        >>> target = torch.tensor([[[0.0, 0.0, 1.0], [0.0, 20.0, 0.0]], [[0.0, 0.0, 1.0], [0.0, 20.0, 1.0]]])
        >>> pck_per_keypoint(target[..., :2] + 3.0, target, alpha=0.5)
        tensor([1., 1.], dtype=torch.float64)
    """
    _check_pair(predicted, target)
    alpha = _check_alpha(alpha)
    correct, visible = _counts(predicted, target, alpha, size)
    return correct.double() / visible.double()


def _check_oks(predicted, target, area, sigmas) -> Tensor:
    check_tensor(predicted, "predicted", ndim=2, floating=True)
    if predicted.shape[1] < 2:
        raise ValueError(f"predicted must have shape [K, 2] (x, y) or [K, 3], got {list(predicted.shape)}")
    check_tensor(target, "target", shape=(predicted.shape[0], 3), floating=True, finite=True)
    try:
        sigmas = torch.as_tensor(sigmas, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"sigmas must be K numbers, got {type(sigmas).__name__} ({sigmas!r})") from None
    if sigmas.shape != (predicted.shape[0],):
        raise ValueError(f"sigmas must have one value per keypoint ({predicted.shape[0]}), got {list(sigmas.shape)}")
    if not bool(((sigmas > 0) & torch.isfinite(sigmas)).all()):
        raise ValueError(f"sigmas must be finite numbers > 0, got {sigmas.tolist()}")
    check_number(area, "area", low=0, low_open=True)
    if not bool((target[:, 2] > 0).any()):  # documented: otherwise 0 / 0
        raise ValueError("target must have at least one labelled keypoint (v > 0)")
    return sigmas


def _oks_twin(predicted: Tensor, target: Tensor, area: float, sigmas) -> float:
    sigmas = _check_oks(predicted, target, area, sigmas)
    labelled = target[:, 2] > 0
    variances = (2 * sigmas) ** 2 * float(area)  # [K] (s k_i)^2
    sq = torch.linalg.vector_norm(predicted[:, :2].double() - target[:, :2].double(), dim=1) ** 2
    return float(torch.exp(-sq / (2 * variances))[labelled].mean())


@reference_of("09_pose/oks", twin=_oks_twin)
def oks_loop(predicted: Tensor, target: Tensor, area: float, sigmas) -> float:
    """Loop reference of :func:`oks`, one keypoint at a time."""
    sigmas = _check_oks(predicted, target, area, sigmas)
    total, count = 0.0, 0
    for (px, py, *_), (tx, ty, v), sigma in zip(predicted.tolist(), target.tolist(), sigmas.tolist()):
        if v > 0:
            k = 2 * sigma
            total += math.exp(-((px - tx) ** 2 + (py - ty) ** 2) / (2 * float(area) * k**2))
            count += 1
    return total / count


@reference_of("09_pose/oks", twin=_oks_twin)
def oks(predicted: Tensor, target: Tensor, area: float, sigmas) -> float:
    """Object keypoint similarity of one predicted instance with one target instance.

    ``OKS = mean over i with v_i > 0 of exp(-d_i^2 / (2 s^2 k_i^2))``, ``s^2 = area``,
    ``k_i = 2 sigma_i``.

    Args:
        predicted: Tensor[K, 2] (or [K, 3], the third column ignored) ``(x, y)`` pixels.
        target: Tensor[K, 3] ``(x, y, v)``, COCO's ``v``: 0 unlabelled (ignored), 1 labelled
            but not visible, 2 visible; at least one keypoint must be labelled.
        area: the target's segment area in pixels (> 0).
        sigmas: K per-keypoint constants (:data:`COCO_SIGMAS`, :data:`FIGURE_SIGMAS`).

    Returns:
        float in (0, 1].

    Examples:
        >>> target = torch.tensor([[10.0, 10.0, 2.0], [20.0, 10.0, 0.0]])
        >>> round(oks(torch.tensor([[12.0, 10.0], [0.0, 0.0]]), target, area=100.0, sigmas=[0.1, 0.1]), 4)
        0.6065
    """
    sigmas = _check_oks(predicted, target, area, sigmas).to(target.device)
    labelled = target[:, 2] > 0  # [K]
    squared = (predicted[:, :2].double() - target[:, :2].double()).pow(2).sum(dim=1)  # [K] d_i^2, in float64
    similarity = torch.exp(-squared / (2 * float(area) * (2 * sigmas) ** 2))  # [K]
    return float(similarity[labelled].sum() / labelled.sum())


@not_an_answer("09_pose/oks", why="COCO's matrix over many instances with pycocotools' box rule, used after the exercise")
def oks_matrix(predicted: Tensor, targets: Tensor, areas: Tensor, sigmas, boxes: Tensor | None = None) -> Tensor:
    """OKS between every predicted and every target instance, as ``COCOeval.computeOks``.

    Args:
        predicted: Tensor[D, K, 2 or 3] predicted instances (already sorted and truncated
            as pycocotools does, if you compare with it).
        targets: Tensor[G, K, 3] ``(x, y, v)`` with COCO's ``v``.
        areas: Tensor[G] segment areas.
        sigmas: K constants.
        boxes: Tensor[G, 4] ``(x, y, w, h)`` target boxes, needed only for targets without
            any labelled keypoint: there pycocotools measures each predicted keypoint's
            distance to the box enlarged by its own size on every side.

    Returns:
        Tensor[D, G] float64.

    Examples:
        >>> target = torch.tensor([[[10.0, 10.0, 2.0], [20.0, 10.0, 2.0]]])
        >>> oks_matrix(target[..., :2], target, torch.tensor([100.0]), [0.1, 0.1])
        tensor([[1.]], dtype=torch.float64)
    """
    check_tensor(predicted, "predicted", ndim=3, floating=True)
    check_tensor(targets, "targets", ndim=3, floating=True)
    num_kp = targets.shape[1]
    if predicted.shape[1] != num_kp or targets.shape[2] != 3:
        raise ValueError(f"predicted [D, {num_kp}, 2] and targets [G, {num_kp}, 3] expected, "
                         f"got {list(predicted.shape)} and {list(targets.shape)}")
    try:
        sigmas = torch.as_tensor(sigmas, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"sigmas must be K numbers, got {type(sigmas).__name__} ({sigmas!r})") from None
    if sigmas.shape != (num_kp,):
        raise ValueError(f"sigmas must have one value per keypoint ({num_kp}), got {list(sigmas.shape)}")
    check_tensor(areas, "areas", shape=(targets.shape[0],))
    areas = areas.double()
    variances = (2 * sigmas) ** 2  # [K]
    p = predicted[:, None, :, :2].double()  # [D, 1, K, 2]
    t = targets[None, :, :, :2].double()  # [1, G, K, 2]
    labelled = targets[:, :, 2] > 0  # [G, K]
    d2 = (p - t).pow(2).sum(dim=-1)  # [D, G, K]
    none = ~labelled.any(dim=1)  # [G] targets without labelled keypoints
    if bool(none.any()):
        if boxes is None:
            raise ValueError("a target has no labelled keypoint: pass its box (x, y, w, h) in `boxes`")
        check_tensor(boxes, "boxes", shape=(targets.shape[0], 4))
        b = boxes.double()
        low = (b[:, :2] - b[:, 2:])[None, :, None, :]  # [1, G, 1, 2] the box enlarged by its size
        high = (b[:, :2] + 2 * b[:, 2:])[None, :, None, :]
        outside = (low - p).clamp_min(0) + (p - high).clamp_min(0)  # [D, G, K, 2]
        d2 = torch.where(none[None, :, None], outside.pow(2).sum(dim=-1), d2)
    e = d2 / variances / (areas[None, :, None] + 2.220446049250313e-16) / 2  # pycocotools' np.spacing(1)
    weight = torch.where(none[:, None], torch.ones_like(labelled), labelled).double()  # [G, K]
    return (torch.exp(-e) * weight).sum(dim=-1) / weight.sum(dim=-1)
