"""Stacked hourglass networks for keypoint heatmaps, and a direct-regression model on the same backbone.

Newell, Yang and Deng, "Stacked Hourglass Networks for Human Pose Estimation" (ECCV 2016).

**Shapes.** Images are ``Tensor[B, 3, H, W]``. The stem divides the resolution by 4 (a
64 x 64 image gives 16 x 16 heatmaps), so ``H`` and ``W`` must be multiples of
``4 * 2 ** depth`` for every skip connection to meet its upsampled partner
(:func:`hourglass_sizes` gives the sizes level by level).

**The blocks.**

* :class:`Residual`: the paper's pre-activation bottleneck, BN-ReLU-conv1x1 (to half the
  channels), BN-ReLU-conv3x3, BN-ReLU-conv1x1 (back), plus the input (through a 1x1
  convolution when the channel count changes).
* :class:`Hourglass`: one hourglass of depth ``d``, defined recursively. At full
  resolution a ``skip`` residual keeps the fine detail; the other branch max-pools by 2,
  goes through ``down``, then through ``inner`` (an hourglass of depth ``d - 1``, or a
  residual at the bottom), then ``up``, and is upsampled by 2 (nearest neighbour) and added
  to the skip branch. Four residuals per level, the same channel count everywhere.
* :class:`StackedHourglass`: stem, then ``num_stacks`` hourglasses in a row. After each one
  a residual and a 1x1 conv-BN-ReLU give features, and a 1x1 convolution gives ``K``
  heatmaps; every stack's heatmaps are returned so that each can be supervised
  (*intermediate supervision*). Between stacks, the features and the heatmaps are mapped
  back to ``channels`` by 1x1 convolutions and added to the running features, so the next
  hourglass sees the previous estimate.
* :class:`KeypointRegressor`: the same stem and hourglasses (without heatmap heads), then a
  strided convolution, a 4 x 4 average pool and a linear layer to ``2K`` numbers: the
  coordinates in units of the image size.

The ``stem`` is ``"newell"`` (the paper's: 7x7 stride-2 convolution, residual, 2x2 max
pool, two residuals, with channels//4 -> channels//2 -> channels) or ``"compact"`` (two
3x3 stride-2 conv-BN-ReLU and one residual: about half the multiply-adds on small images).

**Losses.** :func:`heatmap_loss` offers the classic mean squared error against Gaussian
maps and a spatial-softmax cross-entropy (each map's logits are a distribution over the
cells, the target Gaussian normalized to sum to 1 is the label). The second trains far
faster on a CPU budget; the chapter measures both.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..checks import check_in, check_positive_int, check_tensor
from ..references import reference_of

__all__ = [
    "Residual",
    "Hourglass",
    "StackedHourglass",
    "KeypointRegressor",
    "hourglass_sizes",
    "heatmap_loss",
    "regression_targets",
    "regression_to_keypoints",
    "STEMS",
]

STEMS = ("compact", "newell")
STEM_STRIDE = 4  # both stems divide the resolution by 4, as in the paper (256 -> 64)


def _check_channels(channels: int) -> None:
    check_positive_int(channels, "channels")
    if channels % 4:
        raise ValueError(f"channels must be a multiple of 4 (the stem and the bottleneck halve it), got {channels}")


class Residual(nn.Module):
    """Pre-activation bottleneck residual block of the stacked hourglass.

    Shape: ``Tensor[B, in_channels, H, W]`` to ``Tensor[B, out_channels, H, W]``.

    Examples:
        >>> Residual(8, 16)(torch.zeros(2, 8, 5, 5)).shape
        torch.Size([2, 16, 5, 5])
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        check_positive_int(in_channels, "in_channels")
        check_positive_int(out_channels, "out_channels")
        mid = max(1, out_channels // 2)
        self.body = nn.Sequential(
            nn.BatchNorm2d(in_channels), nn.ReLU(), nn.Conv2d(in_channels, mid, 1),
            nn.BatchNorm2d(mid), nn.ReLU(), nn.Conv2d(mid, mid, 3, padding=1),
            nn.BatchNorm2d(mid), nn.ReLU(), nn.Conv2d(mid, out_channels, 1),
        )
        self.shortcut = nn.Identity() if in_channels == out_channels else nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.shortcut(x) + self.body(x)


def _hourglass_forward_twin(self, x: Tensor) -> Tensor:
    """The hourglass unrolled into two loops over its levels (same modules, same results)."""
    levels, bottom = [], self
    while isinstance(bottom, Hourglass):
        levels.append(bottom)
        bottom = bottom.inner
    skips = []
    for level in levels:  # on the way down
        skips.append(level.skip(x))
        x = level.down(F.max_pool2d(x, 2))
    x = bottom(x)
    for level, skip in zip(reversed(levels), reversed(skips)):  # on the way up
        x = skip + F.interpolate(level.up(x), scale_factor=2, mode="nearest")
    return x


class Hourglass(nn.Module):
    """One hourglass of depth ``depth`` with ``channels`` channels throughout.

    Submodules (named as in the chapter's exercise, so state dicts match):
    ``skip``, ``down``, ``inner`` (an :class:`Hourglass` of depth ``depth - 1``, or a
    :class:`Residual` when ``depth == 1``) and ``up``.

    ``forward(x) = skip(x) + upsample2(up(inner(down(maxpool2(x)))))``.

    Shape: ``Tensor[B, channels, H, W]`` to the same shape; ``H`` and ``W`` must be
    divisible by ``2 ** depth``.

    Examples:
        >>> Hourglass(2, 8)(torch.zeros(1, 8, 8, 12)).shape
        torch.Size([1, 8, 8, 12])
    """

    def __init__(self, depth: int, channels: int) -> None:
        super().__init__()
        check_positive_int(depth, "depth")
        check_positive_int(channels, "channels")
        self.depth = depth
        self.skip = Residual(channels, channels)
        self.down = Residual(channels, channels)
        self.inner = Hourglass(depth - 1, channels) if depth > 1 else Residual(channels, channels)
        self.up = Residual(channels, channels)

    @reference_of("09_pose/hourglass", twin=_hourglass_forward_twin)
    def forward(self, x: Tensor) -> Tensor:
        skip = self.skip(x)  # full resolution: keeps the fine detail
        y = self.down(F.max_pool2d(x, 2))  # half resolution
        y = self.up(self.inner(y))  # the smaller hourglass (or one residual at the bottom)
        return skip + F.interpolate(y, scale_factor=2, mode="nearest")  # back to full resolution

    def extra_repr(self) -> str:
        return f"depth={self.depth}"


def _stem(kind: str, channels: int) -> nn.Sequential:
    if kind == "newell":
        return nn.Sequential(
            nn.Conv2d(3, channels // 4, 7, stride=2, padding=3), nn.BatchNorm2d(channels // 4), nn.ReLU(),
            Residual(channels // 4, channels // 2), nn.MaxPool2d(2),
            Residual(channels // 2, channels // 2), Residual(channels // 2, channels),
        )
    return nn.Sequential(
        nn.Conv2d(3, channels // 2, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(channels // 2), nn.ReLU(),
        nn.Conv2d(channels // 2, channels, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
        Residual(channels, channels),
    )


def _features(channels: int) -> nn.Sequential:
    """After each hourglass: a residual and a 1x1 conv-BN-ReLU (the paper's 'll' and 'Lin')."""
    return nn.Sequential(Residual(channels, channels), nn.Conv2d(channels, channels, 1, bias=False),
                         nn.BatchNorm2d(channels), nn.ReLU())


def _check_sizes(x: Tensor, depth: int) -> None:
    check_tensor(x, "images", ndim=4, floating=True)
    multiple = STEM_STRIDE * 2 ** depth
    if x.shape[-2] % multiple or x.shape[-1] % multiple:
        raise ValueError(f"image height and width must be multiples of 4 * 2 ** depth = {multiple}, "
                         f"got {tuple(x.shape[-2:])}")


class StackedHourglass(nn.Module):
    """A stacked hourglass with one heatmap head per stack (intermediate supervision).

    Args:
        num_keypoints: K, the number of heatmaps.
        channels: feature channels inside the hourglasses (a multiple of 4).
        num_stacks: number of hourglasses in a row.
        depth: number of poolings inside each hourglass.
        stem: ``"compact"`` or ``"newell"`` (module docstring).
        hourglass: the class (or any callable ``(depth, channels) -> nn.Module``) that
            builds each hourglass; the chapter passes the student's own.

    Shape: ``Tensor[B, 3, H, W]`` to heatmap logits ``Tensor[B, num_stacks, K, H / 4, W / 4]``;
    the last stack's maps are the prediction.

    Examples:
        >>> model = StackedHourglass(num_keypoints=5, channels=8, num_stacks=2, depth=2)
        >>> model(torch.zeros(1, 3, 32, 32)).shape
        torch.Size([1, 2, 5, 8, 8])
    """

    def __init__(self, num_keypoints: int = 15, channels: int = 32, num_stacks: int = 2, depth: int = 3,
                 stem: str = "compact", hourglass=Hourglass) -> None:
        super().__init__()
        check_positive_int(num_keypoints, "num_keypoints")
        _check_channels(channels)
        check_positive_int(num_stacks, "num_stacks")
        check_positive_int(depth, "depth")
        check_in(stem, "stem", STEMS)
        self.num_keypoints, self.channels, self.num_stacks, self.depth = num_keypoints, channels, num_stacks, depth
        self.stem = _stem(stem, channels)
        self.hourglasses = nn.ModuleList([hourglass(depth, channels) for _ in range(num_stacks)])
        self.features = nn.ModuleList([_features(channels) for _ in range(num_stacks)])
        self.heads = nn.ModuleList([nn.Conv2d(channels, num_keypoints, 1) for _ in range(num_stacks)])
        # Between stacks: features and heatmaps back to `channels`, added to the running features.
        self.merge_features = nn.ModuleList([nn.Conv2d(channels, channels, 1) for _ in range(num_stacks - 1)])
        self.merge_heatmaps = nn.ModuleList([nn.Conv2d(num_keypoints, channels, 1) for _ in range(num_stacks - 1)])

    def forward(self, images: Tensor) -> Tensor:
        _check_sizes(images, self.depth)
        x = self.stem(images)  # [B, C, H/4, W/4]
        outputs = []
        for i in range(self.num_stacks):
            features = self.features[i](self.hourglasses[i](x))  # [B, C, H/4, W/4]
            heatmaps = self.heads[i](features)  # [B, K, H/4, W/4]
            outputs.append(heatmaps)
            if i < self.num_stacks - 1:
                x = x + self.merge_features[i](features) + self.merge_heatmaps[i](heatmaps)
        return torch.stack(outputs, dim=1)  # [B, S, K, H/4, W/4]


class KeypointRegressor(nn.Module):
    """Direct regression of ``2K`` coordinates on the stacked-hourglass backbone.

    Same stem and hourglasses as :class:`StackedHourglass` (the merge between stacks uses
    the features only, since there are no heatmaps), then a 3x3 stride-2 conv-BN-ReLU, a
    4 x 4 adaptive average pool and a linear layer.

    Shape: ``Tensor[B, 3, H, W]`` to ``Tensor[B, K, 2]``: ``(u, v)`` with
    ``x = u * W - 0.5`` and ``y = v * H - 0.5`` in pixel-index coordinates
    (:func:`regression_to_keypoints`), so the image spans ``[0, 1]``.

    Examples:
        >>> KeypointRegressor(num_keypoints=5, channels=8, num_stacks=1, depth=2)(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 5, 2])
    """

    POOLED = 4

    def __init__(self, num_keypoints: int = 15, channels: int = 32, num_stacks: int = 2, depth: int = 3,
                 stem: str = "compact", hourglass=Hourglass) -> None:
        super().__init__()
        check_positive_int(num_keypoints, "num_keypoints")
        _check_channels(channels)
        check_positive_int(num_stacks, "num_stacks")
        check_positive_int(depth, "depth")
        check_in(stem, "stem", STEMS)
        self.num_keypoints, self.num_stacks, self.depth = num_keypoints, num_stacks, depth
        self.stem = _stem(stem, channels)
        self.hourglasses = nn.ModuleList([hourglass(depth, channels) for _ in range(num_stacks)])
        self.features = nn.ModuleList([_features(channels) for _ in range(num_stacks)])
        self.merge_features = nn.ModuleList([nn.Conv2d(channels, channels, 1) for _ in range(num_stacks - 1)])
        self.head = nn.Sequential(
            nn.Conv2d(channels, channels, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
            nn.AdaptiveAvgPool2d(self.POOLED), nn.Flatten(),
            nn.Linear(channels * self.POOLED**2, 2 * num_keypoints),
        )
        nn.init.zeros_(self.head[-1].weight)
        nn.init.constant_(self.head[-1].bias, 0.5)  # start every keypoint at the image centre

    def forward(self, images: Tensor) -> Tensor:
        _check_sizes(images, self.depth)
        x = self.stem(images)
        for i in range(self.num_stacks):
            features = self.features[i](self.hourglasses[i](x))
            if i < self.num_stacks - 1:
                x = x + self.merge_features[i](features)
        return self.head(features).view(-1, self.num_keypoints, 2)  # [B, K, 2]


def regression_targets(keypoints: Tensor, size: tuple[int, int]) -> Tensor:
    """Pixel-index keypoints ``Tensor[..., K, 2 or 3]`` to ``(u, v)`` in ``[0, 1]``: ``u = (x + 0.5) / W``.

    Examples:
        >>> regression_targets(torch.tensor([[-0.5, 31.5, 1.0]]), (32, 64))
        tensor([[0., 1.]])
    """
    check_tensor(keypoints, "keypoints", floating=True)
    height, width = size
    scale = keypoints.new_tensor([width, height])
    return (keypoints[..., :2] + 0.5) / scale


def regression_to_keypoints(uv: Tensor, size: tuple[int, int]) -> Tensor:
    """Inverse of :func:`regression_targets`: ``(u, v)`` to pixel-index ``(x, y)``.

    Examples:
        >>> regression_to_keypoints(torch.tensor([[0.0, 1.0]]), (32, 64))
        tensor([[-0.5000, 31.5000]])
    """
    check_tensor(uv, "uv", floating=True)
    height, width = size
    return uv * uv.new_tensor([width, height]) - 0.5


def heatmap_loss(logits: Tensor, targets: Tensor, kind: str = "softmax", weights: Tensor | None = None) -> Tensor:
    """Loss between predicted heatmaps (of every stack) and Gaussian target maps.

    Args:
        logits: ``Tensor[B, S, K, h, w]`` (S stacks, each supervised) or ``Tensor[B, K, h, w]``.
        targets: ``Tensor[B, K, h, w]`` Gaussian maps with peak 1 (``render_heatmaps``).
        kind: ``"softmax"``: for each map, cross-entropy between the target normalized to
            sum to 1 and the softmax of the logits over the ``h * w`` cells (a map with an
            all-zero target is skipped); ``"mse"``: mean squared error between logits and
            targets, averaged over all cells (the classic heatmap regression).
        weights: optional ``Tensor[B, K]`` per-map weights (e.g. 0 for unlabelled keypoints).

    Returns:
        The scalar loss, averaged over stacks, images and keypoints.

    Examples:
        >>> t = torch.zeros(1, 1, 3, 3); t[0, 0, 1, 1] = 1.0
        >>> round(float(heatmap_loss(torch.zeros(1, 1, 3, 3), t)), 4)  # uniform guess: log 9
        2.1972
    """
    check_tensor(logits, "logits", floating=True)
    check_tensor(targets, "targets", ndim=4, floating=True)
    check_in(kind, "kind", ("softmax", "mse"))
    if logits.ndim == 4:
        logits = logits[:, None]
    if logits.ndim != 5 or logits.shape[:1] + logits.shape[2:] != targets.shape:
        raise ValueError(f"logits must be [B, S, K, h, w] or [B, K, h, w] matching targets {list(targets.shape)}, "
                         f"got {list(logits.shape)}")
    batch, _, num_kp = logits.shape[:3]
    w = targets.new_ones(batch, num_kp) if weights is None else weights.to(targets.dtype)
    if kind == "mse":
        per_map = (logits - targets[:, None]).pow(2).mean(dim=(-1, -2))  # [B, S, K]
    else:
        mass = targets.sum(dim=(-1, -2))  # [B, K]
        w = w * (mass > 0)
        labels = targets / mass.clamp_min(torch.finfo(targets.dtype).tiny)[..., None, None]  # [B, K, h, w]
        log_p = logits.flatten(-2).log_softmax(dim=-1)  # [B, S, K, h*w]
        per_map = -(labels.flatten(-2)[:, None] * log_p).sum(dim=-1)  # [B, S, K]
    return (per_map * w[:, None]).sum() / (w.sum().clamp_min(1) * logits.shape[1])


def _hourglass_sizes_twin(image_size: int, depth: int) -> list[int]:
    """The same sizes, read off PyTorch's own layers run on the meta device (shapes only)."""
    check_positive_int(image_size, "image_size")
    check_positive_int(depth, "depth")
    x = torch.empty(1, 1, image_size, image_size, device="meta")
    x = F.max_pool2d(F.conv2d(x, torch.empty(1, 1, 7, 7, device="meta"), stride=2, padding=3), 2)
    sizes = [x.shape[-1]]
    for _ in range(depth):
        if x.shape[-1] % 2:
            raise ValueError(f"a {x.shape[-1]}-pixel map cannot be pooled and upsampled back to its size")
        x = F.max_pool2d(x, 2)
        sizes.append(x.shape[-1])
    return sizes


@reference_of("09_pose/hourglass_sizes", twin=_hourglass_sizes_twin)
def hourglass_sizes(image_size: int, depth: int) -> list[int]:
    """Side of the feature maps of the paper's network, from the stem's output to the hourglass's bottom.

    The stem is a 7x7 convolution with stride 2 and padding 3, then a 2x2 max pool with
    stride 2 (the residual blocks keep the size). Each of the ``depth`` levels of the
    hourglass max-pools by 2 and later upsamples by 2 and adds the skip branch, so every
    side that is pooled must be even, or the two branches would differ in size.

    Args:
        image_size: side of the square input image.
        depth: number of poolings inside the hourglass.

    Returns:
        ``depth + 1`` sides: after the stem, then after each pooling.

    Raises:
        ValueError: if a side that must be pooled is odd.

    Examples:
        >>> hourglass_sizes(256, 4)
        [64, 32, 16, 8, 4]
    """
    check_positive_int(image_size, "image_size")
    check_positive_int(depth, "depth")
    side = (image_size + 2 * 3 - 7) // 2 + 1  # the 7x7 stride-2 convolution
    side = side // 2  # the stem's max pool
    sizes = [side]
    for _ in range(depth):
        if side % 2:
            raise ValueError(f"a {side}-pixel map cannot be pooled and upsampled back to its size")
        side //= 2
        sizes.append(side)
    return sizes
