"""A small single-stage detector for the shapes scenes: a YOLO-style grid that trains on a CPU.

Boxes are xyxy absolute pixels (see :mod:`course_utils.ops.boxes`); target labels are
``1..K`` (0 is background, as in :data:`course_utils.data.SHAPE_CLASSES`).

**The design, and why.** The backbone divides the image by ``stride = 2 ** len(widths)``
(8 by default: a 64 x 64 scene becomes an 8 x 8 grid of cells). Every cell predicts

* one *objectness* logit: is the centre of an object inside this cell?
* ``K`` class logits: which class is that object?
* four box deltas relative to the cell's *anchor*, a square of side ``anchor_size``
  centred on the cell, in the Faster R-CNN parametrization of
  :func:`course_utils.ops.boxes.encode_boxes` (centre offsets in anchor units, log sizes).

This is YOLO's grid (Redmon et al., 2016) with a single box per cell and the box coded
as in Faster R-CNN (Ren et al., 2015), like YOLOv2. We chose it over an FCOS- or
CenterNet-style dense head and over a multi-anchor head because

* it is the design the chapter explains (the grid, "the cell that holds the centre is
  responsible"), so the code reads like the prose;
* target assignment needs no IoU matching: a box goes to the cell containing its
  centre. On 64 x 64 scenes with at most four objects, two centres share an 8 x 8
  cell for about 2 % of the objects; FCOS' rule decides (the smaller box wins) and the
  other one is lost. That caps recall near 98 %, far above what we need;
* it is cheap: about 12 M multiply-adds per 64 x 64 image (a training step costs about
  2 ms of CPU time per image), so it reaches mAP@0.5 > 0.8 on held-out scenes after
  about a minute of training on a CPU.

Neighbouring cells still fire on big objects, so :func:`postprocess` runs per-class
NMS (:func:`course_utils.ops.boxes.batched_nms`) on what :func:`decode` returns.

**Loss** (:class:`DetectionLoss`), normalized by the number of objects in the batch::

    L = L_obj + class_weight * L_cls + box_weight * L_box

* ``L_obj``: binary cross-entropy of the objectness logit of *every* cell (1 for the
  responsible cells, 0 elsewhere): it teaches where objects are, and that most cells
  are empty;
* ``L_cls``: cross-entropy of the class logits, responsible cells only;
* ``L_box``: smooth L1 between predicted and target deltas, responsible cells only
  (what a box should be is undefined where there is no object).

Outputs of :class:`GridDetector` are a dict of dense maps (``"objectness"``
``Tensor[B, 1, S, S]``, ``"class_logits"`` ``Tensor[B, K, S, S]``, ``"box_deltas"``
``Tensor[B, 4, S, S]``), so the loss, decoding and plots all read the same names.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..ops.anchors import generate_anchors
from ..ops.boxes import batched_nms, clip_boxes, decode_boxes, encode_boxes
from ..checks import check_positive_int, check_tensor
from ..references import not_an_answer

__all__ = [
    "DetectorConfig",
    "GridDetector",
    "DetectionLoss",
    "grid_anchors",
    "encode_targets",
    "decode",
    "postprocess",
    "flip_batch",
]

# Objectness bias at initialization: a prior probability of 1 % per cell, so the
# first steps are not dominated by the loss of the ~60 empty cells per image
# (the focal-loss paper's initialization, Lin et al., 2017).
_PRIOR_PROBABILITY = 0.01
# Smooth L1 switches from quadratic to linear at this delta error; deltas are in
# anchor units, so 1/9 is about 2 px for a 16-px anchor (Fast R-CNN's RPN value).
_SMOOTH_L1_BETA = 1.0 / 9.0


@dataclass(frozen=True)
class DetectorConfig:
    """Hyper-parameters of :class:`GridDetector`, shared by its loss and decoding.

    Args:
        num_classes: object classes ``K`` (without background); labels are ``1..K``.
        in_channels: image channels.
        widths: channels of the stages; each stage halves the resolution, so the
            output stride is ``2 ** len(widths)``.
        head_channels: channels of the 3x3 convolution shared by the three predictors.
        anchor_size: side in pixels of the square anchor of every cell (the box a cell
            predicts when its deltas are zero).
    """

    num_classes: int = 5
    in_channels: int = 3
    widths: tuple[int, ...] = (16, 32, 64)
    head_channels: int = 64
    anchor_size: float = 16.0

    def __post_init__(self) -> None:
        check_positive_int(self.num_classes, "num_classes")
        check_positive_int(self.in_channels, "in_channels")
        check_positive_int(self.head_channels, "head_channels")
        if not isinstance(self.widths, tuple) or len(self.widths) == 0:
            raise ValueError(f"widths must be a non-empty tuple of ints, got {self.widths!r}")
        for w in self.widths:
            check_positive_int(w, "widths[i]")
        if not self.anchor_size > 0:
            raise ValueError(f"anchor_size must be positive, got {self.anchor_size}")

    @property
    def stride(self) -> int:
        """Pixels per grid cell: ``2 ** len(widths)``."""
        return 2 ** len(self.widths)


# ------------------------------------------------------------------------- model


def conv_bn_relu(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    """3x3 convolution ('same' padding), BatchNorm, ReLU: the only block of the backbone."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


def _stage(in_channels: int, out_channels: int) -> nn.Sequential:
    """Halve the resolution (strided conv), then one more conv at the new resolution."""
    return nn.Sequential(conv_bn_relu(in_channels, out_channels, stride=2), conv_bn_relu(out_channels, out_channels))


class GridDetector(nn.Module):
    """YOLO-style single-stage detector: a conv backbone and three 1x1 predictors per cell.

    Build it with keywords (``GridDetector(num_classes=5, widths=(16, 32, 64))``) or
    from a :class:`DetectorConfig` (``GridDetector(config=cfg)``), not both.

    Args:
        num_classes: object classes ``K`` (default 5, the shapes scenes).
        config: a complete :class:`DetectorConfig`.
        **kwargs: the other fields of :class:`DetectorConfig` (``in_channels``, ``widths``,
            ``head_channels``, ``anchor_size``).

    Shape: ``Tensor[B, in_channels, H, W]`` with ``H`` and ``W`` divisible by ``stride``,
    to a dict with ``"objectness"`` ``Tensor[B, 1, H/stride, W/stride]`` (logits),
    ``"class_logits"`` ``Tensor[B, K, H/stride, W/stride]`` and ``"box_deltas"``
    ``Tensor[B, 4, H/stride, W/stride]`` (``(tx, ty, tw, th)`` relative to
    :func:`grid_anchors`).

    Examples:
        >>> model = GridDetector(num_classes=5)
        >>> out = model(torch.zeros(2, 3, 64, 64))
        >>> {k: tuple(v.shape) for k, v in out.items()}
        {'objectness': (2, 1, 8, 8), 'class_logits': (2, 5, 8, 8), 'box_deltas': (2, 4, 8, 8)}
    """

    def __init__(self, num_classes: int | None = None, *, config: DetectorConfig | None = None, **kwargs) -> None:
        super().__init__()
        if config is None:
            if num_classes is not None:
                kwargs["num_classes"] = num_classes
            config = DetectorConfig(**kwargs)
        elif kwargs or num_classes is not None:
            raise ValueError("give either a config or keyword hyper-parameters, not both")
        self.config = config
        widths = config.widths
        self.stages = nn.Sequential(
            *[_stage(c_in, c_out) for c_in, c_out in zip((config.in_channels,) + widths[:-1], widths)]
        )
        self.head = conv_bn_relu(widths[-1], config.head_channels)
        self.objectness = nn.Conv2d(config.head_channels, 1, 1)
        self.classifier = nn.Conv2d(config.head_channels, config.num_classes, 1)
        self.box_regressor = nn.Conv2d(config.head_channels, 4, 1)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        for predictor in (self.objectness, self.classifier, self.box_regressor):
            nn.init.normal_(predictor.weight, std=0.01)  # start from "nothing known": small outputs
        nn.init.constant_(self.objectness.bias, -math.log((1 - _PRIOR_PROBABILITY) / _PRIOR_PROBABILITY))

    @property
    def stride(self) -> int:
        return self.config.stride

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        check_tensor(images, "images", ndim=4, floating=True)
        if images.shape[1] != self.config.in_channels:
            raise ValueError(f"images must have {self.config.in_channels} channels, got shape {list(images.shape)}")
        h, w = images.shape[-2:]
        if h % self.stride or w % self.stride:
            raise ValueError(f"image height and width ({h}, {w}) must be divisible by the stride {self.stride}")
        x = self.stages(images)  # [B, widths[-1], H/s, W/s]
        x = self.head(x)  # [B, head_channels, H/s, W/s]
        return {
            "objectness": self.objectness(x),  # [B, 1, S_h, S_w]
            "class_logits": self.classifier(x),  # [B, K, S_h, S_w]
            "box_deltas": self.box_regressor(x),  # [B, 4, S_h, S_w]
        }

    def decode(self, outputs: Mapping[str, Tensor], score_threshold: float = 0.05) -> list[dict[str, Tensor]]:
        """:func:`decode` with this model's config."""
        return decode(outputs, self.config, score_threshold=score_threshold)

    def postprocess(self, outputs: Mapping[str, Tensor], score_threshold: float = 0.05, iou_threshold: float = 0.5,
                    max_detections: int = 100) -> list[dict[str, Tensor]]:
        """:func:`postprocess` with this model's config."""
        return postprocess(outputs, self.config, score_threshold=score_threshold, iou_threshold=iou_threshold,
                           max_detections=max_detections)

    @torch.no_grad()
    def predict(self, images: Tensor, score_threshold: float = 0.05, iou_threshold: float = 0.5,
                max_detections: int = 100) -> list[dict[str, Tensor]]:
        """Detections after NMS for a batch of images (eval mode is restored afterwards)."""
        was_training = self.training
        self.eval()
        try:
            outputs = self(images)
        finally:
            self.train(was_training)
        return self.postprocess(outputs, score_threshold, iou_threshold, max_detections)


# ------------------------------------------------------------------ anchors/targets


def _grid_shape(outputs: Mapping[str, Tensor]) -> tuple[int, int, int]:
    for key in ("objectness", "class_logits", "box_deltas"):
        if key not in outputs:
            raise ValueError(f"outputs must have the keys objectness, class_logits, box_deltas; missing {key!r}")
    b, _, sh, sw = check_tensor(outputs["box_deltas"], "outputs['box_deltas']", shape=(None, 4, None, None)).shape
    check_tensor(outputs["objectness"], "outputs['objectness']", shape=(b, 1, sh, sw))
    check_tensor(outputs["class_logits"], "outputs['class_logits']", shape=(b, None, sh, sw))
    return b, sh, sw


def grid_anchors(grid_size: tuple[int, int], config: DetectorConfig, *, dtype: torch.dtype = torch.float32,
                 device: torch.device | str | None = None) -> Tensor:
    """The anchor of every cell: a square of side ``anchor_size`` centred on the cell.

    Args:
        grid_size: ``(S_h, S_w)`` cells.
        config: gives ``stride`` and ``anchor_size``.

    Returns:
        Tensor[S_h * S_w, 4], xyxy absolute pixels, cells in row-major order (the
        order of ``Tensor[..., S_h, S_w].flatten(-2)``).

    Examples:
        >>> grid_anchors((1, 2), DetectorConfig(anchor_size=16.0))
        tensor([[-4., -4., 12., 12.],
                [ 4., -4., 20., 12.]])
    """
    s = config.stride
    # offset 0.5: the anchor is centred on the cell's centre ((j + 0.5) * s, (i + 0.5) * s)
    return generate_anchors([tuple(grid_size)], strides=[s], sizes=(config.anchor_size,), ratios=(1.0,),
                            offset=0.5, round_to_int=False, dtype=dtype, device=device)


def _check_targets(targets, num_classes: int) -> None:
    if not isinstance(targets, (list, tuple)):
        raise TypeError(f"targets must be a list of dicts (one per image), got {type(targets).__name__}")
    for i, t in enumerate(targets):
        if not isinstance(t, Mapping) or "boxes" not in t or "labels" not in t:
            raise ValueError(f"targets[{i}] must be a dict with 'boxes' and 'labels'")
        n = check_tensor(t["boxes"], f"targets[{i}]['boxes']", shape=(None, 4)).shape[0]
        labels = check_tensor(t["labels"], f"targets[{i}]['labels']", shape=(n,))
        if labels.is_floating_point():
            raise TypeError(f"targets[{i}]['labels'] must be an integer tensor, got {labels.dtype}")
        if n and (int(labels.min()) < 1 or int(labels.max()) > num_classes):
            raise ValueError(f"targets[{i}]['labels'] must be in 1..{num_classes}, got {labels.tolist()}")


def encode_targets(targets: Sequence[Mapping[str, Tensor]], grid_size: tuple[int, int],
                   config: DetectorConfig) -> dict[str, Tensor]:
    """Dense training targets: which cell is responsible for which box, and what it should predict.

    Assignment (YOLO): a box belongs to the cell containing its centre,
    ``(row, col) = (floor(cy / stride), floor(cx / stride))`` clamped to the grid. When
    several boxes of one image share a cell, the smallest box wins (FCOS' rule for
    ambiguous locations); the others get no cell and are not learnt.

    Args:
        targets: one dict per image with ``"boxes"`` Tensor[N, 4] (xyxy, positive
            width and height) and ``"labels"`` Tensor[N] int64 in ``1..K``.
        grid_size: ``(S_h, S_w)``, the size of the model's output maps.
        config: the detector's config (stride, anchor size, classes).

    Returns:
        A dict of dense maps, ``B = len(targets)``:

        * ``"positive"``: Tensor[B, S_h, S_w] bool, the responsible cells;
        * ``"labels"``: Tensor[B, S_h, S_w] int64, the class ``1..K`` there, 0 elsewhere;
        * ``"box_deltas"``: Tensor[B, 4, S_h, S_w] float, :func:`course_utils.ops.boxes.encode_boxes`
          of the box relative to the cell's anchor there, 0 elsewhere;
        * ``"matched"``: Tensor[B, S_h, S_w] int64, index of the box in its image, -1 elsewhere.

    Examples:
        >>> cfg = DetectorConfig()
        >>> t = [{"boxes": torch.tensor([[4., 4., 20., 20.]]), "labels": torch.tensor([2])}]
        >>> enc = encode_targets(t, (8, 8), cfg)
        >>> enc["positive"].nonzero().tolist(), enc["labels"][0, 1, 1].item()
        ([[0, 1, 1]], 2)
        >>> enc["box_deltas"][0, :, 1, 1]
        tensor([0., 0., 0., 0.])
    """
    _check_targets(targets, config.num_classes)
    sh, sw = int(grid_size[0]), int(grid_size[1])
    b = len(targets)
    device = targets[0]["boxes"].device if b else None
    positive = torch.zeros(b * sh * sw, dtype=torch.bool, device=device)
    labels = torch.zeros(b * sh * sw, dtype=torch.int64, device=device)
    deltas = torch.zeros(b * sh * sw, 4, dtype=torch.float32, device=device)
    matched = torch.full((b * sh * sw,), -1, dtype=torch.int64, device=device)
    counts = [t["boxes"].shape[0] for t in targets]
    if sum(counts):
        # All boxes of the batch at once; `image` and `index` say where each came from.
        boxes = torch.cat([t["boxes"] for t in targets]).to(torch.float32)  # [N, 4]
        box_labels = torch.cat([t["labels"] for t in targets]).to(torch.int64)  # [N]
        image = torch.repeat_interleave(torch.arange(b, device=device), torch.tensor(counts, device=device))  # [N]
        index = torch.cat([torch.arange(n, device=device) for n in counts])  # [N] index within its image
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2  # [N, 2] (cx, cy)
        col = (centre[:, 0] / config.stride).floor().long().clamp(0, sw - 1)  # [N]
        row = (centre[:, 1] / config.stride).floor().long().clamp(0, sh - 1)  # [N]
        cell = (image * sh + row) * sw + col  # [N] flat index into [B, S_h, S_w]
        # Sort by area, then (stably) by cell: the first box of every run of equal cells
        # is the smallest one there (ties: the lower index), and it wins the cell.
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])  # [N]
        order = torch.sort(area, stable=True).indices
        order = order[torch.sort(cell[order], stable=True).indices]
        first = torch.ones_like(order, dtype=torch.bool)
        first[1:] = cell[order][1:] != cell[order][:-1]
        win = order[first]  # [P] one box per responsible cell
        anchors = grid_anchors((sh, sw), config, device=device)  # [S_h * S_w, 4]
        positive[cell[win]] = True
        labels[cell[win]] = box_labels[win]
        matched[cell[win]] = index[win]
        deltas[cell[win]] = encode_boxes(anchors[cell[win] % (sh * sw)], boxes[win])  # [P, 4]
    positive, labels, matched = (x.view(b, sh, sw) for x in (positive, labels, matched))
    deltas = deltas.view(b, sh, sw, 4).permute(0, 3, 1, 2)  # [B, 4, S_h, S_w]
    return {"positive": positive, "labels": labels, "box_deltas": deltas, "matched": matched}


# --------------------------------------------------------------------------- loss


class DetectionLoss(nn.Module):
    """``L = L_obj + class_weight * L_cls + box_weight * L_box`` for :class:`GridDetector` (see the module docstring).

    Called as ``loss_fn(outputs, targets)`` (the signature :func:`course_utils.train.fit`
    expects), it returns the scalar loss and keeps the three terms, detached, in
    ``self.last`` (a dict of floats) for logging.

    Args:
        config: the detector's config.
        box_weight: the ``lambda`` in front of the box term.
        class_weight: weight of the class term.

    Examples:
        >>> model = GridDetector()
        >>> loss_fn = DetectionLoss(model.config)
        >>> targets = [{"boxes": torch.tensor([[4., 4., 20., 20.]]), "labels": torch.tensor([2])}]
        >>> loss = loss_fn(model(torch.zeros(1, 3, 64, 64)), targets)
        >>> loss.ndim, sorted(loss_fn.last)
        (0, ['box', 'class', 'objectness'])
    """

    def __init__(self, config: DetectorConfig, box_weight: float = 2.0, class_weight: float = 1.0) -> None:
        super().__init__()
        for name, value in (("box_weight", box_weight), ("class_weight", class_weight)):
            if not value >= 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        self.config = config
        self.box_weight = float(box_weight)
        self.class_weight = float(class_weight)
        self.last: dict[str, float] = {}

    @not_an_answer("05_detection/detection_loss",
                   why="the loss the chapter trains with and the exercise is graded against; the course's model "
                       "must train in the release, so it ships as the readable version")
    def forward(self, outputs: Mapping[str, Tensor], targets: Sequence[Mapping[str, Tensor]]) -> Tensor:
        b, sh, sw = _grid_shape(outputs)
        if len(targets) != b:
            raise ValueError(f"targets must have one dict per image ({b}), got {len(targets)}")
        enc = encode_targets(targets, (sh, sw), self.config)
        pos = enc["positive"]  # [B, S_h, S_w]
        # Normalize by the number of objects (not of cells), as RetinaNet: an image with
        # more objects weighs more, and the many empty cells do not dilute the loss.
        num_pos = max(int(pos.sum()), 1)
        obj_logits = outputs["objectness"][:, 0]  # [B, S_h, S_w]
        loss_obj = F.binary_cross_entropy_with_logits(obj_logits, pos.to(obj_logits.dtype), reduction="sum") / num_pos
        cls_logits = outputs["class_logits"].permute(0, 2, 3, 1)[pos]  # [P, K]
        loss_cls = F.cross_entropy(cls_logits, enc["labels"][pos] - 1, reduction="sum") / num_pos
        pred_deltas = outputs["box_deltas"].permute(0, 2, 3, 1)[pos]  # [P, 4]
        target_deltas = enc["box_deltas"].permute(0, 2, 3, 1)[pos].to(pred_deltas.dtype)  # [P, 4]
        loss_box = F.smooth_l1_loss(pred_deltas, target_deltas, beta=_SMOOTH_L1_BETA, reduction="sum") / num_pos
        self.last = {"objectness": float(loss_obj.detach()), "class": float(loss_cls.detach()),
                     "box": float(loss_box.detach())}
        return loss_obj + self.class_weight * loss_cls + self.box_weight * loss_box


# ------------------------------------------------------------------------ decoding


def decode(outputs: Mapping[str, Tensor], config: DetectorConfig, score_threshold: float = 0.05,
           image_size: tuple[int, int] | None = None) -> list[dict[str, Tensor]]:
    """Turn the dense outputs into a list of detections per image, *before* NMS.

    Each cell and class gives one candidate with YOLO's class-specific confidence
    ``score = sigmoid(objectness) * softmax(class_logits)[class]``; candidates with
    ``score >= score_threshold`` are kept, with the cell's box decoded from its deltas
    (:func:`course_utils.ops.boxes.decode_boxes`) and clipped to the image.

    Args:
        outputs: the dict returned by :class:`GridDetector`.
        config: the detector's config.
        score_threshold: smallest score kept, in [0, 1].
        image_size: ``(H, W)`` for clipping; default ``grid size * stride``.

    Returns:
        One dict per image: ``"boxes"`` Tensor[D, 4] float (xyxy), ``"scores"`` Tensor[D]
        float, ``"labels"`` Tensor[D] int64 in ``1..K``, by decreasing score.

    Examples:
        >>> cfg = DetectorConfig(num_classes=2)
        >>> out = {"objectness": torch.full((1, 1, 8, 8), -20.0), "class_logits": torch.zeros(1, 2, 8, 8),
        ...        "box_deltas": torch.zeros(1, 4, 8, 8)}
        >>> out["objectness"][0, 0, 1, 1] = 20.0  # an object in cell (1, 1)
        >>> out["class_logits"][0, 1, 1, 1] = 20.0  # of class 2
        >>> det = decode(out, cfg, score_threshold=0.5)[0]
        >>> det["boxes"], det["labels"]
        (tensor([[ 4.,  4., 20., 20.]]), tensor([2]))
    """
    b, sh, sw = _grid_shape(outputs)
    if not 0.0 <= score_threshold <= 1.0:
        raise ValueError(f"score_threshold must be in [0, 1], got {score_threshold}")
    if image_size is None:
        image_size = (sh * config.stride, sw * config.stride)
    deltas = outputs["box_deltas"].detach()
    anchors = grid_anchors((sh, sw), config, dtype=deltas.dtype, device=deltas.device)  # [S_h * S_w, 4]
    obj = torch.sigmoid(outputs["objectness"].detach()).flatten(2)  # [B, 1, S_h * S_w]
    cls = torch.softmax(outputs["class_logits"].detach(), dim=1).flatten(2)  # [B, K, S_h * S_w]
    scores = obj * cls  # [B, K, S_h * S_w]: P(object) * P(class | object)
    results = []
    for i in range(b):
        boxes = decode_boxes(deltas[i].flatten(1).T, anchors)  # [S_h * S_w, 4] one box per cell
        boxes = clip_boxes(boxes, image_size)
        k, cell = torch.nonzero(scores[i] >= score_threshold, as_tuple=True)  # [D] each
        s = scores[i, k, cell]
        order = torch.argsort(s, descending=True, stable=True)
        results.append({"boxes": boxes[cell[order]], "scores": s[order], "labels": k[order] + 1})
    return results


def postprocess(outputs: Mapping[str, Tensor], config: DetectorConfig, score_threshold: float = 0.05,
                iou_threshold: float = 0.5, max_detections: int = 100,
                image_size: tuple[int, int] | None = None) -> list[dict[str, Tensor]]:
    """:func:`decode`, then per-class NMS (:func:`course_utils.ops.boxes.batched_nms`) and a top-k.

    Args:
        outputs, config, score_threshold, image_size: as in :func:`decode`.
        iou_threshold: boxes of one class overlapping a better one by more than this are removed.
        max_detections: at most this many detections per image, the best scores.

    Returns:
        One dict per image (``"boxes"``, ``"scores"``, ``"labels"``), by decreasing score.
    """
    check_positive_int(max_detections, "max_detections")
    results = []
    for det in decode(outputs, config, score_threshold=score_threshold, image_size=image_size):
        keep = batched_nms(det["boxes"], det["scores"], det["labels"], iou_threshold)[:max_detections]
        results.append({key: value[keep] for key, value in det.items()})
    return results


# ------------------------------------------------------------------- augmentation


def flip_batch(images: Tensor, targets: Sequence[Mapping[str, Tensor]], generator: torch.Generator | None = None
               ) -> tuple[Tensor, list[dict[str, Tensor]]]:
    """Random horizontal and vertical flips of a detection batch, boxes flipped along.

    Each image is flipped left-right with probability 1/2 and, independently, top-bottom
    with probability 1/2: the scenes have no preferred direction, so this multiplies
    the training set by four at no cost.

    Args:
        images: Tensor[B, C, H, W].
        targets: one dict per image with ``"boxes"`` Tensor[N, 4] xyxy (other keys are
            copied; ``"boxes"`` is the only one changed, masks are not flipped).
        generator: for reproducible draws.

    Returns:
        ``(images, targets)`` flipped (new tensors; the inputs are not modified).

    Examples:
        >>> img = torch.arange(4.0).reshape(1, 1, 1, 4)
        >>> t = [{"boxes": torch.tensor([[0., 0., 1., 1.]]), "labels": torch.tensor([1])}]
        >>> g = torch.Generator().manual_seed(0)  # draws a left-right flip (the top-bottom one is invisible here)
        >>> out, tt = flip_batch(img, t, g)
        >>> out.flatten().tolist(), tt[0]["boxes"].tolist()
        ([3.0, 2.0, 1.0, 0.0], [[3.0, 0.0, 4.0, 1.0]])
    """
    check_tensor(images, "images", ndim=4)
    if len(targets) != images.shape[0]:
        raise ValueError(f"targets must have one dict per image ({images.shape[0]}), got {len(targets)}")
    h, w = images.shape[-2:]
    flips = torch.rand(images.shape[0], 2, generator=generator) < 0.5  # [B, 2] (left-right, top-bottom)
    out_images, out_targets = [], []
    for image, target, (lr, tb) in zip(images, targets, flips.tolist()):
        boxes = target["boxes"].clone()
        if lr:
            image = image.flip(-1)
            boxes[:, [0, 2]] = w - target["boxes"][:, [2, 0]]  # x1' = W - x2, x2' = W - x1
        if tb:
            image = image.flip(-2)
            boxes[:, [1, 3]] = h - target["boxes"][:, [3, 1]]
        out_images.append(image)
        out_targets.append({**target, "boxes": boxes})
    return torch.stack(out_images), out_targets
