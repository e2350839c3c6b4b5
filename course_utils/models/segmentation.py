"""Two small semantic segmentation networks: an FCN without skips and a U-Net.

Both map an image ``Tensor[N, in_channels, H, W]`` to per-pixel class logits
``Tensor[N, num_classes, H, W]`` (take ``argmax(dim=1)`` for a ``Tensor[N, H, W]``
int64 label map).

* :class:`FCN` (Long, Shelhamer and Darrell, 2015, the "FCN-32s" idea): a conv
  encoder that divides the resolution by ``2^depth``, a 1x1 conv that turns features
  into class scores, and bilinear upsampling back to the input size. No skips, so
  boundaries are blurry: the motivation for U-Net.
* :class:`UNet` (Ronneberger, Fischer and Brox, 2015): the same encoder, a decoder
  that upsamples with 2x2 transposed convolutions and concatenates the encoder
  features of the same resolution (the skips), then refines with :class:`UNetBlock`.
  'Same' padding is used (the paper cropped), so the output has the input's size.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..checks import check_positive_int
from ..references import not_an_answer

__all__ = ["UNetBlock", "FCN", "UNet"]


class UNetBlock(nn.Module):
    """Two 3x3 convolutions ('same' padding), each followed by BatchNorm and ReLU.

    Shape: ``Tensor[N, in_channels, H, W]`` to ``Tensor[N, out_channels, H, W]``
    (the spatial size is kept; only pooling and upsampling change it).

    Examples:
        >>> UNetBlock(3, 16)(torch.zeros(2, 3, 64, 64)).shape
        torch.Size([2, 16, 64, 64])
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        check_positive_int(in_channels, "in_channels")
        check_positive_int(out_channels, "out_channels")
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    @not_an_answer("04_segmentation/unet_shapes", why="running the block gives the shapes the exercise derives")
    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))  # [N, out, H, W]
        return self.relu(self.bn2(self.conv2(x)))  # [N, out, H, W]


def _check_image(x: Tensor, in_channels: int, multiple: int, name: str) -> None:
    if x.ndim != 4 or x.shape[1] != in_channels:
        raise ValueError(f"{name} needs input [N, {in_channels}, H, W], got {list(x.shape)}")
    h, w = x.shape[-2:]
    if h % multiple or w % multiple:
        raise ValueError(f"{name}: input height and width ({h}, {w}) must be divisible by {multiple}")


class FCN(nn.Module):
    """Encoder + 1x1 classifier + bilinear upsampling, no skip connections.

    Args:
        num_classes: classes, background included.
        in_channels: image channels.
        width: channels of the first stage; stage ``i`` has ``width * 2^i``.
        depth: number of (block, 2x2 max-pool) stages: the output stride is ``2^depth``.

    Shape: ``Tensor[N, in_channels, H, W]`` with ``H, W`` divisible by ``2^depth`` to
    ``Tensor[N, num_classes, H, W]``.

    Examples:
        >>> FCN(num_classes=4)(torch.zeros(2, 3, 64, 64)).shape
        torch.Size([2, 4, 64, 64])
    """

    def __init__(self, num_classes: int, in_channels: int = 3, width: int = 16, depth: int = 3) -> None:
        super().__init__()
        for name, v in (("num_classes", num_classes), ("in_channels", in_channels), ("width", width),
                        ("depth", depth)):
            check_positive_int(v, name)
        self.in_channels, self.depth = in_channels, depth
        stages, c = [], in_channels
        for i in range(depth):
            stages += [UNetBlock(c, width * 2**i), nn.MaxPool2d(2)]
            c = width * 2**i
        self.encoder = nn.Sequential(*stages)
        self.head = nn.Conv2d(c, num_classes, kernel_size=1)  # class scores at 1/2^depth resolution

    def forward(self, x: Tensor) -> Tensor:
        _check_image(x, self.in_channels, 2**self.depth, "FCN")
        size = x.shape[-2:]
        x = self.encoder(x)  # [N, width * 2^(depth-1), H / 2^depth, W / 2^depth]
        x = self.head(x)  # [N, num_classes, H / 2^depth, W / 2^depth]
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)  # [N, num_classes, H, W]


class UNet(nn.Module):
    """U-Net with ``depth`` down/up steps and channels ``base * 2^level``.

    Encoder: :class:`UNetBlock` at full resolution, then ``depth`` times (2x2 max-pool,
    block doubling the channels); the last one is the bottleneck at ``H / 2^depth``.
    Decoder: ``depth`` times (2x2 stride-2 transposed conv halving the channels, concat
    with the encoder output of that resolution, block), then a 1x1 conv to the classes.

    Args:
        num_classes: classes, background included.
        in_channels: image channels.
        base: channels at full resolution (64 in the paper; 16 trains on CPU).
        depth: number of poolings (4 in the paper).

    Shape: ``Tensor[N, in_channels, H, W]`` with ``H, W`` divisible by ``2^depth`` to
    ``Tensor[N, num_classes, H, W]``.

    Examples:
        >>> UNet(num_classes=4)(torch.zeros(2, 3, 64, 64)).shape
        torch.Size([2, 4, 64, 64])
    """

    def __init__(self, num_classes: int, in_channels: int = 3, base: int = 16, depth: int = 3) -> None:
        super().__init__()
        for name, v in (("num_classes", num_classes), ("in_channels", in_channels), ("base", base),
                        ("depth", depth)):
            check_positive_int(v, name)
        self.in_channels, self.depth = in_channels, depth
        widths = [base * 2**i for i in range(depth + 1)]  # channels at levels 0 (full size) .. depth
        self.inc = UNetBlock(in_channels, widths[0])
        self.down = nn.ModuleList(UNetBlock(widths[i], widths[i + 1]) for i in range(depth))
        self.pool = nn.MaxPool2d(2)
        # up[i] goes from level i+1 to level i; applied from the bottom (i = depth-1) up.
        self.up = nn.ModuleList(nn.ConvTranspose2d(widths[i + 1], widths[i], kernel_size=2, stride=2)
                                for i in range(depth))
        self.dec = nn.ModuleList(UNetBlock(2 * widths[i], widths[i]) for i in range(depth))
        self.head = nn.Conv2d(widths[0], num_classes, kernel_size=1)

    @not_an_answer("04_segmentation/unet_shapes", "04_segmentation/unet_forward",
                   why="running the model gives the shapes the exercise derives; unet_forward is graded against "
                       "it (the course's models must run in the release, so it ships as the readable version)")
    def forward(self, x: Tensor) -> Tensor:
        _check_image(x, self.in_channels, 2**self.depth, "UNet")
        x = self.inc(x)  # [N, base, H, W]
        skips = []
        for block in self.down:
            skips.append(x)
            x = block(self.pool(x))  # [N, 2c, H/2, W/2]: halve the size, double the channels
        for i in reversed(range(self.depth)):
            x = self.up[i](x)  # [N, c, 2h, 2w]: double the size, halve the channels
            x = torch.cat([skips[i], x], dim=1)  # [N, 2c, 2h, 2w]: the skip brings back the detail
            x = self.dec[i](x)  # [N, c, 2h, 2w]
        return self.head(x)  # [N, num_classes, H, W]
