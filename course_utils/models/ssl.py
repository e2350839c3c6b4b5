"""Small networks for self-supervised learning on digits and photo crops (chapter 07).

* :class:`ConvEncoder`: three 3x3 convolutions with batch norm; ``pool="avg"`` ends with
  global average pooling (SimCLR, rotation, supervised baselines), ``pool="flatten"`` keeps
  the spatial layout through a linear layer (relative position: like AlexNet's fc6 in
  Doersch et al., it can see *where* in the patch a stroke is).
* :class:`ProjectionHead`: SimCLR's ``g(h) = W2 relu(W1 h)``, used for the loss only and
  thrown away afterwards; :func:`simclr_step` is one training step of SimCLR.
* :class:`RelativePositionNet`: a siamese encoder for a pair of patches and an MLP over the
  two feature vectors (late fusion), 8 logits.
* :class:`ColorizationNet`: a fully convolutional net from L to ab (regression, 2 channels)
  or to bin logits (classification), at half resolution, with dilated convolutions.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from course_utils.checks import check_in, check_positive_int
from course_utils.losses.contrastive import nt_xent
from course_utils.references import not_an_answer, reference_of

__all__ = ["ConvEncoder", "ProjectionHead", "simclr_step", "RelativePositionNet", "ColorizationNet"]


def _conv_bn_relu(in_channels: int, out_channels: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=dilation, dilation=dilation,
                                   bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class ConvEncoder(nn.Module):
    """conv(w) - conv(2w, stride 2) - conv(2w), each 3x3 + BN + ReLU, then a pooling stage.

    Args:
        in_channels: 1 for digits.
        width: ``w``.
        pool: ``"avg"``: global average pooling, features of size ``2w``; ``"flatten"``: the
            ``[2w, S/2, S/2]`` map flattened and mapped by ``Linear + ReLU`` to ``feature_dim``.
        input_size: ``S``, needed by ``"flatten"``.
        feature_dim: output size for ``"flatten"``.

    Shape: ``Tensor[N, in_channels, S, S]`` to ``Tensor[N, feature_dim]`` (:attr:`feature_dim`).

    Examples:
        >>> ConvEncoder()(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 64])
        >>> ConvEncoder(width=16, pool="flatten", input_size=8, feature_dim=32)(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 32])
    """

    def __init__(self, in_channels: int = 1, width: int = 32, pool: str = "avg", input_size: int = 8,
                 feature_dim: int = 64) -> None:
        super().__init__()
        check_positive_int(in_channels, "in_channels")
        check_positive_int(width, "width")
        check_in(pool, "pool", ("avg", "flatten"))
        self.body = nn.Sequential(_conv_bn_relu(in_channels, width), _conv_bn_relu(width, 2 * width, stride=2),
                                  _conv_bn_relu(2 * width, 2 * width))
        if pool == "avg":
            self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
            self.feature_dim = 2 * width
        else:
            side = (input_size + 1) // 2
            self.pool = nn.Sequential(nn.Flatten(), nn.Linear(2 * width * side * side, feature_dim), nn.ReLU(inplace=True))
            self.feature_dim = feature_dim

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(self.body(x))  # [N, C, S, S] -> [N, 2w, S/2, S/2] -> [N, feature_dim]


_HEAD_WHY = ("its structure (fc1, ReLU, fc2) is spelled out in the exercise's prompt, and the chapter's training "
             "falls back to it while the exercise is a stub")


class ProjectionHead(nn.Module):
    """SimCLR's projection head ``g(h) = fc2(relu(fc1(h)))``.

    Args:
        in_dim: size of the encoder's features ``h``.
        hidden_dim: size of the hidden layer.
        out_dim: size of the embedding ``z`` fed to the loss.

    Examples:
        >>> head = ProjectionHead(64, 64, 32)
        >>> head(torch.zeros(5, 64)).shape, sum(p.numel() for p in head.parameters())
        (torch.Size([5, 32]), 6240)
    """

    @not_an_answer("07_self_supervised/projection_head", why=_HEAD_WHY)
    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden_dim)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(hidden_dim, out_dim)

    @not_an_answer("07_self_supervised/projection_head", why=_HEAD_WHY)
    def forward(self, h: Tensor) -> Tensor:
        return self.fc2(self.relu(self.fc1(h)))  # [N, in_dim] -> [N, out_dim]


def _simclr_step_twin(encoder, head, view1, view2, optimizer, loss_fn=nt_xent, temperature=0.5):
    """Twin of :func:`simclr_step`: the same update through ``torch.autograd.backward``."""
    for module in (encoder, head):
        module.train()
    embeddings = head(encoder(torch.cat((view1, view2), dim=0)))
    first, second = embeddings.split(view1.shape[0])
    value = loss_fn(first, second, temperature)
    optimizer.zero_grad(set_to_none=True)
    torch.autograd.backward(value)
    optimizer.step()
    return value.item()


@reference_of("07_self_supervised/projection_head", twin=_simclr_step_twin)
def simclr_step(encoder: nn.Module, head: nn.Module, view1: Tensor, view2: Tensor, optimizer: torch.optim.Optimizer,
                loss_fn: Callable[..., Tensor] = nt_xent, temperature: float = 0.5) -> float:
    """One SimCLR step: embed both views, contrast them, update encoder and head.

    Both views go through the encoder in *one* batch (so batch norm sees all 2N images, as
    in SimCLR), then through the head; ``loss_fn(z1, z2, temperature)`` is the loss.

    Returns:
        The loss before the update, as a float.
    """
    encoder.train()
    head.train()
    n = view1.shape[0]
    z = head(encoder(torch.cat([view1, view2])))  # [2N, out_dim]
    loss = loss_fn(z[:n], z[n:], temperature)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return float(loss.detach())


class RelativePositionNet(nn.Module):
    """Late fusion for relative position: one shared encoder per patch, an MLP over both.

    Examples:
        >>> net = RelativePositionNet(ConvEncoder(width=8, pool="flatten", input_size=8, feature_dim=16))
        >>> net(torch.zeros(3, 1, 8, 8), torch.zeros(3, 1, 8, 8)).shape
        torch.Size([3, 8])
    """

    def __init__(self, encoder: nn.Module, hidden_dim: int = 64, num_positions: int = 8) -> None:
        super().__init__()
        self.encoder = encoder
        dim = encoder.feature_dim
        self.head = nn.Sequential(nn.Linear(2 * dim, hidden_dim), nn.ReLU(inplace=True), nn.Linear(hidden_dim, num_positions))

    def forward(self, centre: Tensor, neighbour: Tensor) -> Tensor:
        features = torch.cat([self.encoder(centre), self.encoder(neighbour)], dim=1)  # [N, 2 dim]
        return self.head(features)  # [N, 8]


class ColorizationNet(nn.Module):
    """From the L channel to colour, at half resolution.

    ``stride-2 conv(16) - conv(w) - conv(w, dilation 2) - conv(w, dilation 4) - 1x1 conv(out)``:
    the dilations give each output a receptive field of 31 input pixels for little compute.

    Args:
        out_channels: 2 (ab regression) or the number of ab bins (classification).
        width: ``w``.

    Shape: ``Tensor[N, 1, H, W]`` to ``Tensor[N, out_channels, H/2, W/2]``.

    Examples:
        >>> ColorizationNet(2)(torch.zeros(1, 1, 32, 32)).shape
        torch.Size([1, 2, 16, 16])
    """

    def __init__(self, out_channels: int, width: int = 24) -> None:
        super().__init__()
        check_positive_int(out_channels, "out_channels")
        self.body = nn.Sequential(_conv_bn_relu(1, 16, stride=2), _conv_bn_relu(16, width),
                                  _conv_bn_relu(width, width, dilation=2), _conv_bn_relu(width, width, dilation=4))
        self.out = nn.Conv2d(width, out_channels, 1)

    def forward(self, lightness: Tensor) -> Tensor:
        return self.out(self.body(lightness))  # [N, 1, H, W] -> [N, out, H/2, W/2]
