"""Teaching re-implementations of the layers the course opens up.

* :func:`batch_norm_forward` / :class:`BatchNorm2dScratch`: batch normalization
  written out with plain tensor operations, matching ``nn.BatchNorm2d`` in both
  modes (outputs *and* running statistics), plus :func:`batch_norm_forward_loop`,
  the per-channel loop that the vectorized version is tested against.
* :class:`DepthwiseSeparableConv` and :func:`depthwise_separable_cost`: the
  MobileNet factorization of a 3x3 convolution and its cost.
* :class:`BasicBlock` and :class:`Bottleneck`: the two residual blocks of ResNet
  (He et al., 2016), with an ``expansion`` attribute as in torchvision, and a
  ``residual=False`` switch that turns them into the blocks of a *plain* network.

Shapes follow PyTorch: images are ``Tensor[N, C, H, W]``.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .checks import check_bool, check_finite, check_in, check_number, check_positive_int, check_tensor
from .references import reference_of

__all__ = [
    "batch_norm_forward",
    "batch_norm_forward_loop",
    "BatchNorm2dScratch",
    "DepthwiseSeparableConv",
    "depthwise_separable_cost",
    "conv3x3",
    "conv1x1",
    "BasicBlock",
    "Bottleneck",
]


# --------------------------------------------------------------------------- batch norm
def _check_bn_inputs(x: Tensor, gamma, beta, running_mean, running_var, training, momentum: float, eps: float) -> None:
    check_tensor(x, "x", floating=True)
    if x.ndim < 2:
        raise ValueError(f"x must have shape [N, C, ...] (at least 2 dimensions), got {list(x.shape)}")
    num_channels = x.shape[1]
    # Parameters and buffers in the dtype of x (float32 ones also serve half and bfloat16 inputs, as in torch).
    allowed = (x.dtype, torch.float32) if x.dtype in (torch.float16, torch.bfloat16) else (x.dtype,)
    for name, t in (("gamma", gamma), ("beta", beta), ("running_mean", running_mean), ("running_var", running_var)):
        if t is not None:
            check_tensor(t, name, shape=(num_channels,), dtypes=allowed)
            if t.device != x.device:
                raise ValueError(f"{name} must be on the device of x ({x.device}), got {t.device}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must be given together (or both None)")
    if running_mean is not None:
        check_finite(running_mean, "running_mean")  # statistics: a NaN would spread to every output
        check_finite(running_var, "running_var")
        if bool((running_var < 0).any()):
            raise ValueError(f"running_var must be non-negative (a variance), got {running_var.min().item()}")
    check_bool(training, "training")
    check_number(momentum, "momentum", low=0.0, high=1.0)
    check_number(eps, "eps", low=0.0)


def _batch_norm_twin(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    """Twin of the batch-norm references: ``torch.batch_norm`` (what ``F.batch_norm`` calls) after the same checks."""
    _check_bn_inputs(x, gamma, beta, running_mean, running_var, training, momentum, eps)
    if training and x.shape[0] * math.prod(x.shape[2:]) < 2:
        raise ValueError(f"batch norm in training needs more than 1 value per channel, got shape {list(x.shape)}")
    use_batch_stats = training or running_mean is None  # no running statistics: the batch's, in both modes
    return torch.batch_norm(x, gamma, beta, running_mean, running_var, use_batch_stats, momentum, eps,
                            torch.backends.cudnn.enabled)


@reference_of("03_architectures/batch_norm_forward", twin=_batch_norm_twin)
def batch_norm_forward(
    x: Tensor,
    gamma: Tensor | None,
    beta: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    training: bool,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalization, vectorized; the same contract as ``torch.nn.functional.batch_norm``.

    Per channel ``c``: ``y = gamma[c] * (x - mean[c]) / sqrt(var[c] + eps) + beta[c]``.

    * ``training=True``: ``mean`` and ``var`` are the statistics of the batch over
      every dimension except the channel one (N, H, W for images). The *biased*
      variance (divide by ``n``) normalizes the batch, while the running variance
      is updated with the *unbiased* one (divide by ``n - 1``), exactly like
      ``nn.BatchNorm2d``. The running buffers are updated in place:
      ``running = (1 - momentum) * running + momentum * batch_stat``.
    * ``training=False``: the running statistics are used and not changed.

    If ``running_mean``/``running_var`` are ``None``, the batch statistics are used
    in both modes (``track_running_stats=False``).

    Args:
        x: ``Tensor[N, C, *]`` floating point (``[N, C, H, W]`` for images).
        gamma, beta: ``Tensor[C]`` scale and shift, or ``None`` (= 1 and 0).
        running_mean, running_var: ``Tensor[C]`` buffers, updated in place in training.
        training: use (and record) batch statistics if True.
        momentum: weight of the new batch statistic in the running average.
        eps: added to the variance before the square root, for stability.

    Returns:
        ``Tensor`` of the same shape and dtype as ``x``.

    Examples:
        >>> x = torch.arange(8.0).reshape(4, 2, 1, 1)
        >>> rm, rv = torch.zeros(2), torch.ones(2)
        >>> y = batch_norm_forward(x, None, None, rm, rv, training=True)
        >>> y.mean(dim=(0, 2, 3)).abs().max().item() < 1e-6
        True
        >>> rm, rv   # 0.9 * old + 0.1 * batch (mean 3 and 4, unbiased var 6.67)
        (tensor([0.3000, 0.4000]), tensor([1.5667, 1.5667]))
    """
    _check_bn_inputs(x, gamma, beta, running_mean, running_var, training, momentum, eps)
    reduce_dims = [0] + list(range(2, x.ndim))  # every dim except the channel dim 1
    shape = [1, -1] + [1] * (x.ndim - 2)  # [1, C, 1, 1] for images: broadcasts over N, H, W
    use_batch_stats = training or running_mean is None
    if use_batch_stats:
        n = x.shape[0] * math.prod(x.shape[2:])  # values per channel: N * H * W
        if training and n < 2:
            raise ValueError(f"batch norm in training needs more than 1 value per channel, got shape {list(x.shape)}")
        if x.numel() == 0:  # no channel (or no value to normalize): nothing to compute or record
            return x.clone()
        mean = x.mean(dim=reduce_dims)  # [C]
        var = x.var(dim=reduce_dims, unbiased=False)  # [C] biased: this is what normalizes the batch
        if training and running_mean is not None:
            with torch.no_grad():
                unbiased_var = var * n / (n - 1)  # the running estimate is of the population variance
                running_mean.mul_(1 - momentum).add_(momentum * mean.detach())
                running_var.mul_(1 - momentum).add_(momentum * unbiased_var.detach())
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)  # [N, C, H, W]
    if gamma is not None:
        x_hat = x_hat * gamma.reshape(shape)
    if beta is not None:
        x_hat = x_hat + beta.reshape(shape)
    return x_hat


@reference_of("03_architectures/batch_norm_forward", twin=_batch_norm_twin)
def batch_norm_forward_loop(
    x: Tensor,
    gamma: Tensor | None,
    beta: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    training: bool,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Reference for :func:`batch_norm_forward`: one channel at a time, statistics spelled out.

    Slow and meant to be read. Same arguments, same in-place update of the running buffers.

    Examples:
        >>> x = torch.randn(4, 3, 5, 5, generator=torch.Generator().manual_seed(0))
        >>> a = batch_norm_forward_loop(x, None, None, None, None, training=True)
        >>> b = batch_norm_forward(x, None, None, None, None, training=True)
        >>> torch.allclose(a, b, atol=1e-6)
        True
    """
    _check_bn_inputs(x, gamma, beta, running_mean, running_var, training, momentum, eps)
    out = torch.empty_like(x)
    use_batch_stats = training or running_mean is None
    for c in range(x.shape[1]):
        values = x[:, c].reshape(-1)  # every value of channel c: N * H * W of them
        n = values.numel()
        if use_batch_stats:
            if training and n < 2:
                raise ValueError(f"batch norm in training needs more than 1 value per channel, got {list(x.shape)}")
            mean = values.sum() / n
            var = ((values - mean) ** 2).sum() / n  # biased, normalizes the batch
            if training and running_mean is not None:
                with torch.no_grad():
                    unbiased_var = ((values - mean) ** 2).sum() / (n - 1)
                    running_mean[c] = (1 - momentum) * running_mean[c] + momentum * mean
                    running_var[c] = (1 - momentum) * running_var[c] + momentum * unbiased_var
        else:
            mean, var = running_mean[c], running_var[c]
        y = (x[:, c] - mean) / torch.sqrt(var + eps)
        if gamma is not None:
            y = y * gamma[c]
        if beta is not None:
            y = y + beta[c]
        out[:, c] = y
    return out


class BatchNorm2dScratch(nn.Module):
    """``nn.BatchNorm2d`` rebuilt on :func:`batch_norm_forward`.

    Same constructor arguments, parameter and buffer names (``weight``, ``bias``,
    ``running_mean``, ``running_var``, ``num_batches_tracked``) as ``nn.BatchNorm2d``,
    so state dicts load both ways. ``momentum=None`` gives the cumulative moving
    average (momentum ``1 / num_batches_tracked``), as in PyTorch.

    Shape: ``Tensor[N, C, H, W]`` to ``Tensor[N, C, H, W]``.

    Examples:
        >>> bn = BatchNorm2dScratch(3)
        >>> bn(torch.randn(2, 3, 4, 4)).shape
        torch.Size([2, 3, 4, 4])
        >>> int(bn.num_batches_tracked)
        1
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        check_positive_int(num_features, "num_features")
        check_number(eps, "eps", low=0.0)
        if momentum is not None:
            check_number(momentum, "momentum", low=0.0, high=1.0)
        check_bool(affine, "affine")
        check_bool(track_running_stats, "track_running_stats")
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x: Tensor) -> Tensor:
        check_tensor(x, "x", ndim=4)
        if x.shape[1] != self.num_features:
            c = self.num_features
            raise ValueError(f"x must have {c} channels (shape [N, {c}, H, W]), got {list(x.shape)}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative average: the k-th batch gets weight 1/k
                momentum = 1.0 / float(self.num_batches_tracked)
        return batch_norm_forward(
            x, self.weight, self.bias, self.running_mean, self.running_var,
            training=self.training, momentum=momentum, eps=self.eps,
        )

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


# --------------------------------------------------------------------------- depthwise separable
class DepthwiseSeparableConv(nn.Module):
    """MobileNet's factorized convolution: depthwise kxk, then pointwise 1x1.

    ``depthwise``: one kxk filter per input channel (``groups=in_channels``), carries
    the stride; ``pointwise``: a 1x1 convolution that mixes channels. Each is followed
    by BatchNorm and ReLU, as in MobileNet v1 (Howard et al., 2017, Fig. 3). Neither
    convolution has a bias, because the BatchNorm that follows has one.

    Shape: ``Tensor[N, in_channels, H, W]`` to
    ``Tensor[N, out_channels, ceil(H / stride), ceil(W / stride)]`` (odd ``kernel_size``).

    Examples:
        >>> block = DepthwiseSeparableConv(32, 64, stride=2)
        >>> block(torch.zeros(1, 32, 15, 16)).shape
        torch.Size([1, 64, 8, 8])
        >>> sum(p.numel() for p in block.parameters())  # 32*9 + 32*64 weights, + 2 BatchNorms
        2528
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, kernel_size: int = 3) -> None:
        super().__init__()
        check_positive_int(in_channels, "in_channels")
        check_positive_int(out_channels, "out_channels")
        check_positive_int(stride, "stride")
        check_positive_int(kernel_size, "kernel_size")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (for 'same' padding), got {kernel_size}")
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, stride=stride,
                                   padding=kernel_size // 2, groups=in_channels, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.pointwise = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        _check_maps(x, self.depthwise.in_channels)
        x = self.relu(self.bn1(self.depthwise(x)))  # [N, C_in, H', W']
        x = self.relu(self.bn2(self.pointwise(x)))  # [N, C_out, H', W']
        return x


def _depthwise_separable_cost_twin(C, H, W, k=3, C_out=None):
    """Twin of :func:`depthwise_separable_cost`: the three convolutions built on the meta device, counted by
    :func:`course_utils.summary.module_macs` and their parameters."""
    from .summary import module_macs
    for name, v in (("C", C), ("H", H), ("W", W), ("k", k)):
        check_positive_int(v, name)
    C_out = C if C_out is None else check_positive_int(C_out, "C_out")
    with torch.device("meta"):  # shapes only
        x = torch.empty(1, C, H, W)
        convs = {"standard": nn.Conv2d(C, C_out, k, bias=False),
                 "depthwise": nn.Conv2d(C, C, k, groups=C, bias=False),
                 "pointwise": nn.Conv2d(C, C_out, 1, bias=False)}
        # stride 1, 'same' padding: every output is [1, out_channels, H, W]
        macs = {name: module_macs(conv, (x,), torch.empty(1, conv.out_channels, H, W)) for name, conv in convs.items()}
    params = {name: sum(p.numel() for p in conv.parameters()) for name, conv in convs.items()}
    separable = macs["depthwise"] + macs["pointwise"]
    return {**macs, "separable": separable, "standard_params": params["standard"],
            "separable_params": params["depthwise"] + params["pointwise"], "speedup": macs["standard"] / separable}


@reference_of("03_architectures/separable_conv_cost", twin=_depthwise_separable_cost_twin)
def depthwise_separable_cost(C: int, H: int, W: int, k: int = 3, C_out: int | None = None) -> dict[str, float]:
    """Multiply-adds and weights of a standard kxk conv vs its depthwise separable version.

    Stride 1 and 'same' padding, so the output is ``C_out x H x W``; biases not counted.

    * standard: ``k^2 * C * C_out * H * W`` mult-adds, ``k^2 * C * C_out`` weights;
    * depthwise: ``k^2 * C * H * W``; pointwise: ``C * C_out * H * W``;
    * with ``C_out = C`` and ``k = 3`` the saving is ``9C^2 / (9C + C^2) = 9C / (9 + C)``,
      which tends to 9 for wide layers (8.4x at C = 128).

    Returns:
        dict with ``standard``, ``depthwise``, ``pointwise``, ``separable`` (mult-adds, int),
        ``standard_params``, ``separable_params`` (int) and ``speedup`` (standard / separable, float).

    Examples:
        >>> cost = depthwise_separable_cost(C=128, H=28, W=28)
        >>> cost["standard"], cost["separable"]
        (115605504, 13748224)
        >>> round(cost["speedup"], 3) == round(9 * 128 / (9 + 128), 3)
        True
    """
    for name, v in (("C", C), ("H", H), ("W", W), ("k", k)):
        check_positive_int(v, name)
    C_out = C if C_out is None else check_positive_int(C_out, "C_out")
    standard = k * k * C * C_out * H * W
    depthwise = k * k * C * H * W
    pointwise = C * C_out * H * W
    return {
        "standard": standard,
        "depthwise": depthwise,
        "pointwise": pointwise,
        "separable": depthwise + pointwise,
        "standard_params": k * k * C * C_out,
        "separable_params": k * k * C + C * C_out,
        "speedup": standard / (depthwise + pointwise),
    }


# --------------------------------------------------------------------------- residual blocks
def _check_maps(x, channels: int) -> None:
    """The input of a block: floating ``Tensor[N, channels, H, W]``."""
    check_tensor(x, "x", ndim=4, floating=True)
    if x.shape[1] != channels:
        raise ValueError(f"x must have {channels} channels (shape [N, {channels}, H, W]), got {list(x.shape)}")


def _check_conv_args(in_channels, out_channels, stride) -> None:
    check_positive_int(in_channels, "in_channels")
    check_positive_int(out_channels, "out_channels")
    check_positive_int(stride, "stride")


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding 1 and no bias (a BatchNorm follows).

    Examples:
        >>> conv3x3(16, 32, stride=2)
        Conv2d(16, 32, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)
    """
    _check_conv_args(in_channels, out_channels, stride)
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution with no bias (a BatchNorm follows).

    Examples:
        >>> conv1x1(64, 256)
        Conv2d(64, 256, kernel_size=(1, 1), stride=(1, 1), bias=False)
    """
    _check_conv_args(in_channels, out_channels, stride)
    return nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False)


def _shortcut(in_channels: int, out_channels: int, stride: int, residual: bool) -> nn.Module | None:
    # Projection shortcut ("option B" of the paper) only where the shape changes;
    # identity elsewhere. A plain block has no shortcut at all.
    if residual and (stride != 1 or in_channels != out_channels):
        return nn.Sequential(conv1x1(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels))
    return None


def _basic_block_forward_twin(self, x):
    """Twin of :meth:`BasicBlock.forward`: torchvision's ``BasicBlock.forward`` (same attribute names)."""
    from torchvision.models.resnet import BasicBlock as TorchvisionBasicBlock
    _check_maps(x, self.conv1.in_channels)
    if not self.residual:
        return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))))
    return TorchvisionBasicBlock.forward(self, x)


def _bottleneck_forward_twin(self, x):
    """Twin of :meth:`Bottleneck.forward`: torchvision's ``Bottleneck.forward`` (same attribute names)."""
    from torchvision.models.resnet import Bottleneck as TorchvisionBottleneck
    _check_maps(x, self.conv1.in_channels)
    if not self.residual:
        out = self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))))
        return self.relu(self.bn3(self.conv3(out)))
    return TorchvisionBottleneck.forward(self, x)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions plus a shortcut: ``relu(F(x) + x)`` (ResNet-18/34).

    ``expansion = 1``: the block outputs ``channels`` channels. When the shape changes
    (``stride != 1`` or ``in_channels != channels``) the shortcut is a strided 1x1
    convolution + BatchNorm, named ``downsample`` as in torchvision so that state dicts
    match. ``residual=False`` drops the shortcut: the block of a *plain* network.

    Shape: ``Tensor[N, in_channels, H, W]`` to
    ``Tensor[N, channels, ceil(H / stride), ceil(W / stride)]``.

    Examples:
        >>> BasicBlock(64, 128, stride=2)(torch.zeros(1, 64, 8, 8)).shape
        torch.Size([1, 128, 4, 4])
    """

    expansion: int = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1, residual: bool = True) -> None:
        super().__init__()
        check_positive_int(in_channels, "in_channels")
        check_positive_int(channels, "channels")
        check_positive_int(stride, "stride")
        check_in(residual, "residual", (True, False))
        out_channels = channels * self.expansion
        self.residual = residual
        self.conv1 = conv3x3(in_channels, channels, stride)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = _shortcut(in_channels, out_channels, stride, residual)

    @reference_of("03_architectures/residual_block_forward", twin=_basic_block_forward_twin)
    def forward(self, x: Tensor) -> Tensor:
        _check_maps(x, self.conv1.in_channels)
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.residual:
            out = out + identity  # the one line that makes very deep nets trainable
        return self.relu(out)

    def extra_repr(self) -> str:
        return f"residual={self.residual}"


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4) plus a shortcut (ResNet-50/101/152).

    ``expansion = 4``: the block outputs ``4 * channels`` channels; the 3x3 works on
    the thin ``channels`` tensor, which is what makes deep ResNets affordable. The
    stride sits on the 3x3 conv, as in torchvision ("ResNet v1.5"); the paper put it
    on the first 1x1. Parameter counts are the same either way.

    Shape: ``Tensor[N, in_channels, H, W]`` to
    ``Tensor[N, 4 * channels, ceil(H / stride), ceil(W / stride)]``.

    Examples:
        >>> Bottleneck(256, 64)(torch.zeros(1, 256, 8, 8)).shape
        torch.Size([1, 256, 8, 8])
    """

    expansion: int = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1, residual: bool = True) -> None:
        super().__init__()
        check_positive_int(in_channels, "in_channels")
        check_positive_int(channels, "channels")
        check_positive_int(stride, "stride")
        check_in(residual, "residual", (True, False))
        out_channels = channels * self.expansion
        self.residual = residual
        self.conv1 = conv1x1(in_channels, channels)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = conv3x3(channels, channels, stride)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = conv1x1(channels, out_channels)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(in_channels, out_channels, stride, residual)

    # Withheld with BasicBlock.forward: the same answer with a third convolution.
    @reference_of("03_architectures/residual_block_forward", twin=_bottleneck_forward_twin)
    def forward(self, x: Tensor) -> Tensor:
        _check_maps(x, self.conv1.in_channels)
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))  # [N, channels, H, W]
        out = self.relu(self.bn2(self.conv2(out)))  # [N, channels, H/s, W/s]
        out = self.bn3(self.conv3(out))  # [N, 4*channels, H/s, W/s]
        if self.residual:
            out = out + identity
        return self.relu(out)

    def extra_repr(self) -> str:
        return f"residual={self.residual}"
