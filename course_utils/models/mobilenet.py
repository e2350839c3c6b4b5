"""MobileNet v1 (Howard et al., 2017): a 3x3 conv, then 13 depthwise separable convs.

At ``width_mult=1.0`` and 224x224 the paper reports 4.2 M parameters and 569 M
mult-adds (Table 1 / Table 4). With this implementation
``summarize(MobileNetV1(), (1, 3, 224, 224))`` gives 4,231,976 parameters
(4,210,088 without the 21,888 BatchNorm scales and shifts) and 568,740,352 mult-adds (conv + fc,
BatchNorm and ReLU not counted), matching the paper's numbers after rounding.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..checks import check_positive_int
from ..layers import DepthwiseSeparableConv
from ._common import scaled

__all__ = ["MobileNetV1", "MOBILENET_V1_LAYERS"]

STEM_CHANNELS = 32
# (output channels, stride) of the 13 depthwise separable layers, Table 1 of the paper.
MOBILENET_V1_LAYERS: tuple[tuple[int, int], ...] = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1),
    (1024, 2), (1024, 1),
)


class MobileNetV1(nn.Module):
    """MobileNet v1 with a width multiplier (the paper's alpha).

    Args:
        width_mult: scales every layer's channels (1.0, 0.75, 0.5, 0.25 in the paper; 0.25 trains on CPU).
        num_classes: outputs.
        in_channels: input channels.
        dropout: dropout before the classifier (0 by default; the paper does not use it).

    Shape: ``Tensor[N, in_channels, H, W]`` to ``Tensor[N, num_classes]``; the features
    shrink by 32 (224 -> 7) and are averaged globally, so any ``H, W >= 1`` works.

    Examples:
        >>> with torch.device("meta"):
        ...     model = MobileNetV1()
        >>> sum(p.numel() for p in model.parameters())
        4231976
        >>> MobileNetV1(width_mult=0.25, num_classes=10, in_channels=1)(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    def __init__(self, width_mult: float = 1.0, num_classes: int = 1000, *, in_channels: int = 3,
                 dropout: float = 0.0) -> None:
        super().__init__()
        check_positive_int(num_classes, "num_classes")
        check_positive_int(in_channels, "in_channels")
        if not width_mult > 0:
            raise ValueError(f"width_mult must be positive, got {width_mult}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        stem = scaled(STEM_CHANNELS, width_mult)
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, stem, kernel_size=3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(stem),
            nn.ReLU(inplace=True),
        )
        blocks, c = [], stem
        for out, stride in MOBILENET_V1_LAYERS:
            out = scaled(out, width_mult)
            blocks.append(DepthwiseSeparableConv(c, out, stride=stride))
            c = out
        self.features = nn.Sequential(*blocks)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.stem(x)  # [N, 32a, H/2, W/2]
        x = self.features(x)  # [N, 1024a, H/32, W/32]
        x = self.avgpool(x)  # [N, 1024a, 1, 1]
        x = torch.flatten(x, 1)  # [N, 1024a]
        return self.fc(self.dropout(x))  # [N, num_classes]
