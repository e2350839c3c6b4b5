"""VGG (Simonyan and Zisserman, 2015): stacks of 3x3 convolutions and 2x2 max-pools.

The layer names and order are those of ``torchvision.models.vgg`` (``features``,
``avgpool``, ``classifier``), so a torchvision state dict loads into
``VGG("vgg16")`` unchanged. VGG-16 has 138,357,544 parameters, 123.6 M of them in
the three fully connected layers (102.8 M in the first alone): the convolutions do
the work, the classifier holds the weights.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from ..checks import check_in, check_positive_int
from ._common import scaled

__all__ = ["VGG", "VGG_CONFIGS"]

M = "M"  # a 2x2 stride-2 max-pool
# Columns A, B, D and E of Table 1 of the paper: conv widths, "M" = max-pool.
VGG_CONFIGS: dict[str, list[int | str]] = {
    "vgg11": [64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M],
    "vgg13": [64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M],
    "vgg16": [64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M],
    "vgg19": [64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512, M],
}


def _make_features(cfg: Sequence[int | str], in_channels: int, batch_norm: bool, width: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for v in cfg:
        if v == M:
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        out = scaled(int(v), width)
        layers.append(nn.Conv2d(in_channels, out, kernel_size=3, padding=1))  # 'same': only pools shrink
        if batch_norm:
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.ReLU(inplace=True))
        in_channels = out
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG-11/13/16/19, optionally with BatchNorm and thinner layers.

    Args:
        cfg: ``"vgg11"``, ``"vgg13"``, ``"vgg16"``, ``"vgg19"`` or a list of widths and ``"M"``.
        num_classes: outputs.
        batch_norm: BatchNorm after every conv (the ``vgg16_bn`` variant).
        width: multiplier for every conv width (1/16 trains on CPU).
        in_channels: input channels.
        hidden: size of the two hidden fully connected layers (4096).
        dropout: dropout after each hidden layer (0.5).
        pool_size: side of the adaptive average pool before the classifier: 7 as in
            torchvision (at 224x224 it does nothing); 1 for small inputs and a small classifier.

    Shape: ``Tensor[N, in_channels, H, W]`` with ``H, W >= 2^(number of "M")`` (32 for
    the standard configs) to logits ``Tensor[N, num_classes]``.

    Examples:
        >>> with torch.device("meta"):
        ...     vgg16 = VGG("vgg16")
        >>> sum(p.numel() for p in vgg16.parameters())
        138357544
        >>> small = VGG("vgg11", num_classes=10, in_channels=1, width=1 / 16, hidden=32, pool_size=1)
        >>> small(torch.zeros(2, 1, 32, 32)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        cfg: str | Sequence[int | str] = "vgg16",
        num_classes: int = 1000,
        batch_norm: bool = False,
        width: float = 1.0,
        *,
        in_channels: int = 3,
        hidden: int = 4096,
        dropout: float = 0.5,
        pool_size: int = 7,
    ) -> None:
        super().__init__()
        if isinstance(cfg, str):
            check_in(cfg, "cfg", list(VGG_CONFIGS))
            cfg = VGG_CONFIGS[cfg]
        check_positive_int(num_classes, "num_classes")
        check_positive_int(in_channels, "in_channels")
        check_positive_int(hidden, "hidden")
        check_positive_int(pool_size, "pool_size")
        check_in(batch_norm, "batch_norm", (True, False))
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        convs = [v for v in cfg if v != M]
        if not convs:
            raise ValueError(f"cfg must contain at least one conv width, got {list(cfg)}")
        self.num_pools = sum(1 for v in cfg if v == M)
        self.features = _make_features(cfg, in_channels, batch_norm, width)
        self.avgpool = nn.AdaptiveAvgPool2d((pool_size, pool_size))
        last = scaled(int(convs[-1]), width)
        self.classifier = nn.Sequential(
            nn.Linear(last * pool_size * pool_size, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        min_side = 2**self.num_pools
        if x.ndim != 4 or min(x.shape[-2:]) < min_side:
            raise ValueError(f"VGG needs input [N, C, H, W] with H, W >= {min_side}, got {list(x.shape)}")
        x = self.features(x)  # [N, 512, H / 32, W / 32]
        x = self.avgpool(x)  # [N, 512, 7, 7]
        x = torch.flatten(x, 1)  # [N, 512 * 7 * 7]
        return self.classifier(x)  # [N, num_classes]
