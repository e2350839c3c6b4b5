"""LeNet-5 (LeCun et al., 1998), with ReLU and max-pooling as it is usually taught today.

The original used scaled tanh units, sub-sampling (trainable average pooling) and a
sparse C3 connection table; here every conv connects to every input channel, which is
what "LeNet-5" means in most courses. With a 32x32 single-channel input the network
has the classic 61,706 parameters.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..checks import check_positive_int

__all__ = ["LeNet"]

KERNEL = 5
CLASSIC_SIZE = 32  # LeNet-5 was designed for 32x32 inputs (28x28 MNIST digits padded by 2)


def _feature_size(image_size: int, padding: int) -> int:
    size = image_size + 2 * padding - (KERNEL - 1)  # conv1
    size = size // 2 - (KERNEL - 1)  # pool1, conv2
    return size // 2  # pool2


class LeNet(nn.Module):
    """conv5(6) - pool - conv5(16) - pool - fc120 - fc84 - fc(num_classes).

    Inputs smaller than 32x32 (28x28 MNIST, 16x16 digits) get padding 2 in the first
    convolution, the classic trick that makes 28x28 behave like LeNet's 32x32;
    ``image_size`` only sizes the first fully connected layer.

    Args:
        in_channels: 1 for grey digits, 3 for colour.
        num_classes: number of outputs.
        image_size: side ``S`` of the square input, at least 12.

    Shape: ``Tensor[N, in_channels, S, S]`` to logits ``Tensor[N, num_classes]``.

    Examples:
        >>> model = LeNet()
        >>> model(torch.zeros(2, 1, 32, 32)).shape
        torch.Size([2, 10])
        >>> sum(p.numel() for p in model.parameters())
        61706
        >>> LeNet(image_size=28)(torch.zeros(1, 1, 28, 28)).shape
        torch.Size([1, 10])
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int = CLASSIC_SIZE) -> None:
        super().__init__()
        check_positive_int(in_channels, "in_channels")
        check_positive_int(num_classes, "num_classes")
        check_positive_int(image_size, "image_size")
        padding = 2 if image_size < CLASSIC_SIZE else 0
        side = _feature_size(image_size, padding)
        if side < 1:
            raise ValueError(f"image_size must be at least 12 for LeNet, got {image_size}")
        self.image_size = image_size
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, KERNEL, padding=padding),  # C1
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # S2
            nn.Conv2d(6, 16, KERNEL),  # C3
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # S4
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * side * side, 120),  # C5 (a 5x5 conv on 5x5 maps = fully connected)
            nn.ReLU(inplace=True),
            nn.Linear(120, 84),  # F6
            nn.ReLU(inplace=True),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)  # [N, 16, s, s]
        x = torch.flatten(x, 1)  # [N, 16 * s * s]
        return self.classifier(x)  # [N, num_classes]
