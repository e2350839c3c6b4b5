"""AlexNet as in the paper (Krizhevsky, Sutskever and Hinton, 2012), on one device.

Not torchvision's ``alexnet``: that one follows the later "one weird trick" variant
(64-192-384-256-256 filters, no LRN, 61.1 M parameters). This file keeps the paper's
layout: 96-256-384-384-256 filters, 11x11 stride-4 first layer, local response
normalization after conv1 and conv2, overlapping 3x3 stride-2 max-pooling, and
4096-4096 fully connected layers.

Parameter count (``num_classes=1000``):

=========  ==============================  ===============  ===========
layer      weights + biases                output (227 in)  params
=========  ==============================  ===============  ===========
conv1      96 x 3 x 11 x 11 + 96           96 x 55 x 55     34,944
conv2      256 x 96 x 5 x 5 + 256          256 x 27 x 27    614,656
conv3      384 x 256 x 3 x 3 + 384         384 x 13 x 13    885,120
conv4      384 x 384 x 3 x 3 + 384         384 x 13 x 13    1,327,488
conv5      256 x 384 x 3 x 3 + 256         256 x 13 x 13    884,992
fc6        9216 x 4096 + 4096              4096             37,752,832
fc7        4096 x 4096 + 4096              4096             16,781,312
fc8        4096 x 1000 + 1000              1000             4,097,000
total                                                       62,378,344
=========  ==============================  ===============  ===========

With ``grouped=True`` conv2, conv4 and conv5 see only the half of their input
channels that lived on the same GPU (``groups=2``), as in the paper's two-GPU
network: 60,965,224 parameters, the paper's "60 million".

**The 224 vs 227 puzzle.** The paper says the input is 224x224 and conv1 gives
55x55 with an 11x11 kernel and stride 4. But ``(224 - 11) / 4 + 1 = 54.25`` is not
an integer. With a 227x227 input, ``(227 - 11) / 4 + 1 = 55`` exactly, which is what
later re-implementations (Caffe) used. With symmetric padding ``p`` the numerator
``224 + 2p - 11`` is always odd, so 224 never tiles exactly; torchvision uses
``padding=2`` and ``(224 + 4 - 11) / 4 + 1 = 55.25`` is floored to 55 (the last row
and column of padding are never visited). This model uses 227 and no padding; a
224 input gives 54x54 after conv1 and, after the pools, 5x5 instead of 6x6 maps, which
the adaptive pooling before the classifier brings back to 6x6.

**LRN.** The paper's normalization is ``b = a / (k + alpha * sum(a^2))^beta`` with
``k=2, n=5, alpha=1e-4, beta=0.75``. ``nn.LocalResponseNorm`` divides ``alpha`` by
``n`` (as Caffe does), so the paper's formula needs ``alpha = 5 * 1e-4`` there.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..checks import check_in, check_positive_int
from ._common import scaled

__all__ = ["AlexNet"]

PAPER_INPUT = 227
LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K = 5, 1e-4, 0.75, 2.0
POOL_KERNEL, POOL_STRIDE = 3, 2  # overlapping pooling (the paper's s=2, z=3)
FEATURE_SIDE = 6  # conv5 maps are 6x6 after the last pool (227 input)


def _lrn() -> nn.LocalResponseNorm:
    return nn.LocalResponseNorm(LRN_SIZE, alpha=LRN_ALPHA * LRN_SIZE, beta=LRN_BETA, k=LRN_K)


class AlexNet(nn.Module):
    """The paper's AlexNet (single tower unless ``grouped``); see the module docstring.

    Args:
        num_classes: outputs of fc8.
        in_channels: input channels (3 for RGB).
        width: multiplier for the conv filters (96, 256, 384, 384, 256); 0.25 for CPU work.
        hidden: size of fc6 and fc7 (4096 in the paper).
        dropout: dropout probability before fc6 and fc7 (0.5 in the paper).
        grouped: ``groups=2`` in conv2, conv4 and conv5, like the two-GPU original.
        lrn: local response normalization after conv1 and conv2.

    Shape: ``Tensor[N, in_channels, H, W]`` with ``H, W >= 67`` (227 in the paper) to
    logits ``Tensor[N, num_classes]``.

    Examples:
        >>> with torch.device("meta"):  # shapes only: no memory, no time
        ...     model = AlexNet()
        >>> sum(p.numel() for p in model.parameters())
        62378344
        >>> sum(p.numel() for p in model.features[0].parameters())  # conv1
        34944
        >>> tiny = AlexNet(num_classes=10, width=0.125, hidden=64)
        >>> tiny(torch.zeros(2, 3, 67, 67)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        num_classes: int = 1000,
        *,
        in_channels: int = 3,
        width: float = 1.0,
        hidden: int = 4096,
        dropout: float = 0.5,
        grouped: bool = False,
        lrn: bool = True,
    ) -> None:
        super().__init__()
        check_positive_int(num_classes, "num_classes")
        check_positive_int(in_channels, "in_channels")
        check_positive_int(hidden, "hidden")
        check_in(grouped, "grouped", (True, False))
        check_in(lrn, "lrn", (True, False))
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        groups = 2 if grouped else 1
        c1, c2, c3, c4, c5 = (scaled(c, width, divisor=groups) for c in (96, 256, 384, 384, 256))
        norm = _lrn if lrn else nn.Identity
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, kernel_size=11, stride=4),  # 227 -> 55
            nn.ReLU(inplace=True),
            norm(),
            nn.MaxPool2d(POOL_KERNEL, POOL_STRIDE),  # 55 -> 27
            nn.Conv2d(c1, c2, kernel_size=5, padding=2, groups=groups),
            nn.ReLU(inplace=True),
            norm(),
            nn.MaxPool2d(POOL_KERNEL, POOL_STRIDE),  # 27 -> 13
            nn.Conv2d(c2, c3, kernel_size=3, padding=1),  # conv3 sees both towers in the paper
            nn.ReLU(inplace=True),
            nn.Conv2d(c3, c4, kernel_size=3, padding=1, groups=groups),
            nn.ReLU(inplace=True),
            nn.Conv2d(c4, c5, kernel_size=3, padding=1, groups=groups),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(POOL_KERNEL, POOL_STRIDE),  # 13 -> 6
        )
        # Identity at 227x227; lets other input sizes reach the 6x6 the classifier expects.
        self.avgpool = nn.AdaptiveAvgPool2d((FEATURE_SIDE, FEATURE_SIDE))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(c5 * FEATURE_SIDE * FEATURE_SIDE, hidden),  # fc6
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),  # fc7
            nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),  # fc8
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or min(x.shape[-2:]) < 67:
            raise ValueError(f"AlexNet needs input [N, C, H, W] with H, W >= 67, got {list(x.shape)}")
        x = self.features(x)  # [N, 256, 6, 6] at 227x227
        x = self.avgpool(x)  # [N, 256, 6, 6]
        x = torch.flatten(x, 1)  # [N, 9216]
        return self.classifier(x)  # [N, num_classes]
