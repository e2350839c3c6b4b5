"""ResNet (He, Zhang, Ren and Sun, 2016), built from the blocks in :mod:`course_utils.layers`.

* :class:`ResNet` is the ImageNet network with torchvision's layer names (``conv1``,
  ``bn1``, ``layer1`` ... ``layer4``, ``fc``, ``downsample``), so a torchvision state
  dict loads unchanged. ``resnet18/34/50`` have 11,689,512 / 21,797,672 / 25,557,032
  parameters, exactly torchvision's.
* :class:`SmallResNet` is the CIFAR-style network of Section 4.2 of the paper
  (``6n + 2`` layers, three stages of widths 16-32-64) for small inputs such as
  28x28 digits; :class:`PlainNet` is the same network without shortcuts, for the
  experiment of the paper's Figure 6: the deeper plain net trains worse, the deeper
  residual net does not.
"""
from __future__ import annotations

from typing import Sequence, Type

import torch
from torch import Tensor, nn

from ..checks import check_in, check_positive_int
from ..layers import BasicBlock, Bottleneck, conv3x3

__all__ = ["ResNet", "resnet18", "resnet34", "resnet50", "SmallResNet", "PlainNet"]

_BLOCKS: dict[str, Type[nn.Module]] = {"basic": BasicBlock, "bottleneck": Bottleneck}


def _make_layer(block: Type[nn.Module], in_channels: int, channels: int, num_blocks: int, stride: int,
                residual: bool = True) -> nn.Sequential:
    """A stage: the first block changes stride/width, the others keep them."""
    layers = [block(in_channels, channels, stride=stride, residual=residual)]
    out_channels = channels * block.expansion
    layers += [block(out_channels, channels, residual=residual) for _ in range(num_blocks - 1)]
    return nn.Sequential(*layers)


def _init_weights(model: nn.Module) -> None:
    # He initialization for convs, BatchNorm to the identity (as torchvision).
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class ResNet(nn.Module):
    """The ImageNet ResNet: stem, four stages of residual blocks, global pool, fc.

    Args:
        block: ``"basic"`` (ResNet-18/34) or ``"bottleneck"`` (ResNet-50 and deeper),
            or a block class with an ``expansion`` attribute.
        layers: number of blocks per stage, e.g. ``(2, 2, 2, 2)`` for ResNet-18.
        num_classes: outputs.
        width: channels of the first stage (64); stage ``i`` has ``width * 2^i``.
        in_channels: input channels.
        small_input: 3x3 stride-1 stem and no max-pool (for 32x32 images), instead of
            the 7x7 stride-2 conv + 3x3 stride-2 max-pool of the ImageNet stem.

    Shape: ``Tensor[N, in_channels, H, W]`` to logits ``Tensor[N, num_classes]``; the
    feature maps shrink by 32 (by 8 with ``small_input``).

    Examples:
        >>> model = ResNet("basic", (1, 1, 1, 1), num_classes=10, width=8, in_channels=1, small_input=True)
        >>> model(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        block: str | Type[nn.Module] = "basic",
        layers: Sequence[int] = (2, 2, 2, 2),
        num_classes: int = 1000,
        width: int = 64,
        in_channels: int = 3,
        small_input: bool = False,
    ) -> None:
        super().__init__()
        if isinstance(block, str):
            check_in(block, "block", list(_BLOCKS))
            block = _BLOCKS[block]
        if len(layers) != 4:
            raise ValueError(f"layers must give the number of blocks of 4 stages, got {list(layers)}")
        for i, n in enumerate(layers):
            check_positive_int(n, f"layers[{i}]")
        check_positive_int(num_classes, "num_classes")
        check_positive_int(width, "width")
        check_positive_int(in_channels, "in_channels")
        check_in(small_input, "small_input", (True, False))
        if small_input:
            self.conv1 = conv3x3(in_channels, width)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(in_channels, width, kernel_size=7, stride=2, padding=3, bias=False)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        e = block.expansion
        self.layer1 = _make_layer(block, width, width, layers[0], stride=1)
        self.layer2 = _make_layer(block, width * e, width * 2, layers[1], stride=2)
        self.layer3 = _make_layer(block, width * 2 * e, width * 4, layers[2], stride=2)
        self.layer4 = _make_layer(block, width * 4 * e, width * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8 * e, num_classes)
        _init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))  # [N, 64, H/2, W/2]
        x = self.maxpool(x)  # [N, 64, H/4, W/4]
        x = self.layer1(x)  # [N, 64e, H/4, W/4]
        x = self.layer2(x)  # [N, 128e, H/8, W/8]
        x = self.layer3(x)  # [N, 256e, H/16, W/16]
        x = self.layer4(x)  # [N, 512e, H/32, W/32]
        x = self.avgpool(x)  # [N, 512e, 1, 1]
        x = torch.flatten(x, 1)  # [N, 512e]
        return self.fc(x)  # [N, num_classes]


def resnet18(**kwargs) -> ResNet:
    """ResNet-18: basic blocks (2, 2, 2, 2), 11.7 M parameters. Keywords go to :class:`ResNet`.

    Examples:
        >>> with torch.device("meta"):
        ...     n = sum(p.numel() for p in resnet18().parameters())
        >>> n
        11689512
    """
    return ResNet("basic", (2, 2, 2, 2), **kwargs)


def resnet34(**kwargs) -> ResNet:
    """ResNet-34: basic blocks (3, 4, 6, 3), 21.8 M parameters."""
    return ResNet("basic", (3, 4, 6, 3), **kwargs)


def resnet50(**kwargs) -> ResNet:
    """ResNet-50: bottleneck blocks (3, 4, 6, 3), 25.6 M parameters.

    Examples:
        >>> with torch.device("meta"):
        ...     n = sum(p.numel() for p in resnet50().parameters())
        >>> n
        25557032
    """
    return ResNet("bottleneck", (3, 4, 6, 3), **kwargs)


class SmallResNet(nn.Module):
    """CIFAR-style ResNet with ``depth = 6n + 2`` layers (He et al. 2016, Sec. 4.2).

    A 3x3 stem, three stages of ``n`` basic blocks with ``width``, ``2 width``,
    ``4 width`` channels (stride 1, 2, 2), global average pooling and a linear layer.
    Where the shape changes the shortcut is a 1x1 projection ("option B"; the paper
    used zero-padding, "option A", for CIFAR). ``residual=False`` gives the plain
    network of the same depth and width.

    Args:
        depth: total number of weighted layers: 8, 14, 20, 32, 44, 56, 110, ...
        residual: use shortcuts (False: plain network).
        width: channels of the first stage (16 in the paper).
        in_channels: 1 for digits.
        num_classes: outputs.

    Shape: ``Tensor[N, in_channels, H, W]`` to ``Tensor[N, num_classes]``; maps shrink by 4.

    Examples:
        >>> SmallResNet(depth=20)(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
        >>> sum(p.numel() for p in SmallResNet(depth=20, in_channels=3).parameters())
        272474
    """

    def __init__(self, depth: int = 20, residual: bool = True, width: int = 16, in_channels: int = 1,
                 num_classes: int = 10) -> None:
        super().__init__()
        check_positive_int(depth, "depth")
        if depth < 8 or (depth - 2) % 6 != 0:
            raise ValueError(f"depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, 44, 56, 110, ...), got {depth}")
        check_in(residual, "residual", (True, False))
        check_positive_int(width, "width")
        check_positive_int(in_channels, "in_channels")
        check_positive_int(num_classes, "num_classes")
        n = (depth - 2) // 6
        self.depth, self.residual = depth, residual
        self.conv1 = conv3x3(in_channels, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = _make_layer(BasicBlock, width, width, n, stride=1, residual=residual)
        self.layer2 = _make_layer(BasicBlock, width, width * 2, n, stride=2, residual=residual)
        self.layer3 = _make_layer(BasicBlock, width * 2, width * 4, n, stride=2, residual=residual)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 4, num_classes)
        _init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))  # [N, w, H, W]
        x = self.layer1(x)  # [N, w, H, W]
        x = self.layer2(x)  # [N, 2w, H/2, W/2]
        x = self.layer3(x)  # [N, 4w, H/4, W/4]
        x = self.avgpool(x)  # [N, 4w, 1, 1]
        x = torch.flatten(x, 1)  # [N, 4w]
        return self.fc(x)  # [N, num_classes]


class PlainNet(SmallResNet):
    """:class:`SmallResNet` without shortcuts: the "plain" baseline of the paper.

    Examples:
        >>> net = PlainNet(depth=8)
        >>> net.residual, net(torch.zeros(1, 1, 28, 28)).shape
        (False, torch.Size([1, 10]))
    """

    def __init__(self, depth: int = 20, width: int = 16, in_channels: int = 1, num_classes: int = 10) -> None:
        super().__init__(depth=depth, residual=False, width=width, in_channels=in_channels, num_classes=num_classes)
