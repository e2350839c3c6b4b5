"""The Inception module of GoogLeNet (Szegedy et al., 2015) and a small network made of it.

Four parallel branches see the same input and their outputs are concatenated along
the channels: a 1x1 conv; a 1x1 "reduce" then a 3x3; a 1x1 reduce then a 5x5; a 3x3
max-pool then a 1x1 "pool projection". The 1x1 reductions are the point: module 3a
(192 -> 64 + 128 + 32 + 32 = 256 channels at 28x28) costs 128 M mult-adds (the
paper's Table 1 number), while the naive module of Fig. 2a (3x3 and 5x5 convolutions
on all 192 input channels, no pool projection) would cost 303 M, 2.4x more, and
output 416 channels (64 + 128 + 32 + 192) instead of 256, a growth that compounds
from module to module.
The module has 163,696 parameters (163,328 without biases); the paper's table says 159K.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..checks import check_in, check_positive_int

__all__ = ["InceptionModule", "InceptionNet"]


def _conv(in_channels: int, out_channels: int, kernel_size: int, batch_norm: bool) -> nn.Sequential:
    # 'same' padding so that the four branches can be concatenated.
    layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2,
                                         bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(out_channels))
    layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class InceptionModule(nn.Module):
    """One Inception module ("v1", with dimension reductions, Fig. 2b of the paper).

    Args:
        in_channels: input channels.
        c1: 1x1 branch outputs ("#1x1" in Table 1).
        c3r, c3: 3x3 branch: 1x1 reduction width, then 3x3 outputs ("#3x3 reduce", "#3x3").
        c5r, c5: 5x5 branch: reduction width, then 5x5 outputs.
        pool_proj: outputs of the 1x1 conv after the 3x3 stride-1 max-pool.
        batch_norm: BatchNorm after each conv (not in the original, which had ReLU only).

    Shape: ``Tensor[N, in_channels, H, W]`` to ``Tensor[N, c1 + c3 + c5 + pool_proj, H, W]``.

    Examples:
        >>> block = InceptionModule(192, 64, 96, 128, 16, 32, 32)  # GoogLeNet 3a
        >>> block(torch.zeros(1, 192, 28, 28)).shape
        torch.Size([1, 256, 28, 28])
        >>> sum(p.numel() for p in block.parameters())
        163696
    """

    def __init__(self, in_channels: int, c1: int, c3r: int, c3: int, c5r: int, c5: int, pool_proj: int,
                 *, batch_norm: bool = False) -> None:
        super().__init__()
        for name, v in (("in_channels", in_channels), ("c1", c1), ("c3r", c3r), ("c3", c3),
                        ("c5r", c5r), ("c5", c5), ("pool_proj", pool_proj)):
            check_positive_int(v, name)
        check_in(batch_norm, "batch_norm", (True, False))
        self.out_channels = c1 + c3 + c5 + pool_proj
        self.branch1 = _conv(in_channels, c1, 1, batch_norm)
        self.branch3 = nn.Sequential(_conv(in_channels, c3r, 1, batch_norm), _conv(c3r, c3, 3, batch_norm))
        self.branch5 = nn.Sequential(_conv(in_channels, c5r, 1, batch_norm), _conv(c5r, c5, 5, batch_norm))
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1),
                                         _conv(in_channels, pool_proj, 1, batch_norm))

    def forward(self, x: Tensor) -> Tensor:
        branches = [self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)]  # each [N, c_i, H, W]
        return torch.cat(branches, dim=1)  # [N, c1 + c3 + c5 + pool_proj, H, W]


class InceptionNet(nn.Module):
    """A small GoogLeNet-like network for digits and shapes: stem, two Inception modules, pool, fc.

    Widths are multiples of ``width`` (even); BatchNorm is on, so it trains fast.

    Shape: ``Tensor[N, in_channels, H, W]`` (``H, W >= 4``) to ``Tensor[N, num_classes]``.

    Examples:
        >>> InceptionNet()(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 16) -> None:
        super().__init__()
        check_positive_int(num_classes, "num_classes")
        check_positive_int(in_channels, "in_channels")
        check_positive_int(width, "width")
        if width % 2:
            raise ValueError(f"width must be even, got {width}")
        w, h = width, width // 2
        self.stem = nn.Sequential(_conv(in_channels, 2 * w, 3, batch_norm=True), nn.MaxPool2d(2))
        self.inception1 = InceptionModule(2 * w, w, w, w, h, h, h, batch_norm=True)  # -> 3w channels
        self.pool = nn.MaxPool2d(2)
        self.inception2 = InceptionModule(3 * w, w, w, 2 * w, h, w, w, batch_norm=True)  # -> 5w channels
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(self.inception2.out_channels, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.stem(x)  # [N, 2w, H/2, W/2]
        x = self.inception1(x)  # [N, 3w, H/2, W/2]
        x = self.pool(x)  # [N, 3w, H/4, W/4]
        x = self.inception2(x)  # [N, 5w, H/4, W/4]
        x = self.avgpool(x)  # [N, 5w, 1, 1]
        return self.fc(torch.flatten(x, 1))  # [N, num_classes]
