"""Small video classifiers, 3D-convolution arithmetic, and published video networks to count.

Every classifier reads clips ``Tensor[B, C, T, H, W]`` (``ActionClips``' layout) and
returns logits ``Tensor[B, num_classes]``; they differ in *where* the frames meet:

* :class:`SingleFrameCNN`: never (a 2D CNN per frame, class scores averaged over frames);
* :class:`LateFusionFC`, :class:`LateFusionPool`: at the top, after a 2D CNN has made a
  feature vector of every frame (concatenated for an MLP, or averaged over time);
* :class:`EarlyFusionCNN`: at the bottom, the first 2D convolution reads all frames
  stacked as channels;
* :class:`Small3DCNN`: everywhere, 3D convolutions slide over time as over space (with
  :func:`conv3d_block`, or the factorized :func:`conv2plus1d_block`);
* :class:`TwoStreamNet`: one frame (appearance) and the stacked optical flow (motion),
  each through its own 2D CNN, scores added; it reads ``(frame, flows)`` pairs made by
  :meth:`TwoStreamNet.inputs_from_clips`;
* :class:`CNNGRU`: a 2D CNN per frame and a GRU over the sequence of frame features.

:class:`NonLocalBlock` is space-time self-attention for 3D feature maps;
:func:`average_over_windows` is test-time averaging over sliding windows. :func:`c3d`,
:class:`ViViT` and :class:`SlowFast` build published architectures (on the ``meta``
device, to count their parameters).
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.checks import check_nonnegative_int, check_positive_int, check_tensor
from course_utils.data.video import sliding_windows, window_starts
from course_utils.references import not_an_answer, reference_of

__all__ = [
    "frame_encoder", "SingleFrameCNN", "LateFusionFC", "LateFusionPool", "EarlyFusionCNN",
    "conv3d_block", "conv2plus1d_block", "Small3DCNN", "TwoStreamNet", "CNNGRU", "NonLocalBlock",
    "average_over_windows", "conv3d_output_shape", "conv3d_parameters", "conv2plus1d_parameters",
    "r2plus1d_mid_channels", "c3d", "ViViT", "SlowFast",
]

NUM_CLASSES = 8  # ActionClips has eight actions


def _triple(value, name: str) -> tuple[int, int, int]:
    """An int or a sequence of three ints as a ``(t, h, w)`` triple."""
    if isinstance(value, (tuple, list, torch.Size)):
        if len(value) != 3:
            raise ValueError(f"{name} must be an int or three ints (t, h, w), got {value!r}")
        return tuple(int(v) for v in value)
    return (value, value, value)


def _check_clips(clips: torch.Tensor, channels: int | None = None, frames: int | None = None) -> None:
    check_tensor(clips, "clips", ndim=5, floating=True)
    if channels is not None and clips.shape[1] != channels:
        raise ValueError(f"clips must have {channels} channels ([B, C, T, H, W]), got shape {list(clips.shape)}")
    if frames is not None and clips.shape[2] != frames:
        raise ValueError(f"this model reads clips of {frames} frames, got shape {list(clips.shape)}")


def _conv_bn_relu2d(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


def frame_encoder(in_channels: int = 3, width: int = 16, feature_dim: int = 64, grid: int = 3) -> nn.Sequential:
    """The 2D CNN every frame-based model uses: ``Tensor[N, in_channels, H, W] -> Tensor[N, feature_dim]``.

    Three 3x3 conv-BN-ReLU layers (``width``, ``2 width``, ``2 width`` channels), 2x2 max pooling
    after the first two, an adaptive average pool to a ``grid x grid`` map (which keeps a
    coarse "where"), a linear layer and a ReLU.

    Examples:
        >>> frame_encoder(3)(torch.rand(2, 3, 24, 24)).shape
        torch.Size([2, 64])
    """
    for value, name in ((in_channels, "in_channels"), (width, "width"), (feature_dim, "feature_dim"), (grid, "grid")):
        check_positive_int(value, name)
    return nn.Sequential(
        _conv_bn_relu2d(in_channels, width), nn.MaxPool2d(2),
        _conv_bn_relu2d(width, 2 * width), nn.MaxPool2d(2),
        _conv_bn_relu2d(2 * width, 2 * width), nn.AdaptiveAvgPool2d(grid),
        nn.Flatten(), nn.Linear(2 * width * grid * grid, feature_dim), nn.ReLU(inplace=True),
    )


def _per_frame(encoder: nn.Module, clips: torch.Tensor) -> torch.Tensor:
    """Run a 2D encoder on every frame: ``[B, C, T, H, W] -> [B, T, D]``."""
    b, c, t, h, w = clips.shape
    frames = clips.transpose(1, 2).reshape(b * t, c, h, w)  # [B*T, C, H, W]
    return encoder(frames).view(b, t, -1)  # [B, T, D]


class SingleFrameCNN(nn.Module):
    """A 2D CNN on each frame; the clip's scores are the per-frame logits averaged over time.

    Trained on single frames (clips with ``T = 1``), tested on whole clips: the lectures'
    single-frame baseline.
    """

    def __init__(self, num_classes: int = NUM_CLASSES, in_channels: int = 3, width: int = 16,
                 feature_dim: int = 64) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.encoder = frame_encoder(in_channels, width, feature_dim)
        self.classifier = nn.Linear(feature_dim, num_classes)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        _check_clips(clips, self.in_channels)
        return self.classifier(_per_frame(self.encoder, clips)).mean(dim=1)  # [B, T, K] -> [B, K]


class LateFusionFC(nn.Module):
    """Late fusion with an MLP: per-frame features, concatenated in time order, then two FC layers."""

    def __init__(self, num_frames: int, num_classes: int = NUM_CLASSES, in_channels: int = 3, width: int = 16,
                 feature_dim: int = 64, hidden: int = 64) -> None:
        super().__init__()
        check_positive_int(num_frames, "num_frames")
        self.num_frames, self.in_channels = num_frames, in_channels
        self.encoder = frame_encoder(in_channels, width, feature_dim)
        self.classifier = nn.Sequential(nn.Linear(num_frames * feature_dim, hidden), nn.ReLU(inplace=True),
                                        nn.Linear(hidden, num_classes))

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        _check_clips(clips, self.in_channels, self.num_frames)
        return self.classifier(_per_frame(self.encoder, clips).flatten(1))  # [B, T*D] -> [B, K]


class LateFusionPool(nn.Module):
    """Late fusion by pooling: per-frame features averaged over time, then two FC layers.

    Averaging forgets the order of the frames: a clip and the same clip played backwards
    get exactly the same scores.
    """

    def __init__(self, num_classes: int = NUM_CLASSES, in_channels: int = 3, width: int = 16,
                 feature_dim: int = 64, hidden: int = 64) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.encoder = frame_encoder(in_channels, width, feature_dim)
        self.classifier = nn.Sequential(nn.Linear(feature_dim, hidden), nn.ReLU(inplace=True),
                                        nn.Linear(hidden, num_classes))

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        _check_clips(clips, self.in_channels)
        return self.classifier(_per_frame(self.encoder, clips).mean(dim=1))  # [B, D] -> [B, K]


class EarlyFusionCNN(nn.Module):
    """Early fusion: the frames are stacked as ``C * T`` channels of one image for a 2D CNN.

    Only the first convolution sees time (its filters span every frame, 3x3 in space).
    """

    def __init__(self, num_frames: int, num_classes: int = NUM_CLASSES, in_channels: int = 3, width: int = 16,
                 feature_dim: int = 64) -> None:
        super().__init__()
        check_positive_int(num_frames, "num_frames")
        self.num_frames, self.in_channels = num_frames, in_channels
        self.encoder = frame_encoder(in_channels * num_frames, width, feature_dim)
        self.classifier = nn.Linear(feature_dim, num_classes)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        _check_clips(clips, self.in_channels, self.num_frames)
        return self.classifier(self.encoder(clips.flatten(1, 2)))  # [B, C*T, H, W] -> [B, K]


def _conv3d_block_twin(in_channels, out_channels, pool=(1, 2, 2)):
    """Twin of :func:`conv3d_block`: torchvision's ``Conv3dNormActivation`` (conv, BN, ReLU) and a max pool."""
    from torchvision.ops import Conv3dNormActivation

    check_positive_int(in_channels, "in_channels")
    check_positive_int(out_channels, "out_channels")
    return nn.Sequential(*Conv3dNormActivation(in_channels, out_channels, kernel_size=3),
                         nn.MaxPool3d(_triple(pool, "pool")))


@reference_of("08_video/conv3d_block", twin=_conv3d_block_twin)
def conv3d_block(in_channels: int, out_channels: int, pool=(1, 2, 2)) -> nn.Sequential:
    """One block of a 3D CNN: 3x3x3 convolution, batch norm, ReLU, max pooling.

    ``Conv3d(in, out, 3, padding=1, bias=False)`` (the BN's shift replaces the bias), then
    ``BatchNorm3d(out)``, ``ReLU``, ``MaxPool3d(pool)`` (kernel = stride = ``pool``, a
    ``(t, h, w)`` triple or an int). ``[B, in, T, H, W] -> [B, out, T // pt, H // ph, W // pw]``.

    Examples:
        >>> block = conv3d_block(3, 8, pool=(1, 2, 2))
        >>> block(torch.rand(2, 3, 8, 24, 24)).shape, sum(p.numel() for p in block.parameters())
        (torch.Size([2, 8, 8, 12, 12]), 664)
    """
    check_positive_int(in_channels, "in_channels")
    check_positive_int(out_channels, "out_channels")
    return nn.Sequential(
        nn.Conv3d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm3d(out_channels),
        nn.ReLU(inplace=True),
        nn.MaxPool3d(_triple(pool, "pool")),
    )


@not_an_answer("08_video/conv2plus1d_parameters", "08_video/conv3d_block",
               why="builds the factorized block; counting its weights, or writing the 3x3x3 block, is the exercise")
def conv2plus1d_block(in_channels: int, out_channels: int, pool=(1, 2, 2), mid_channels: int | None = None
                      ) -> nn.Sequential:
    """A (2+1)D block (Tran et al., 2018): a 1x3x3 spatial conv, then a 3x1x1 temporal conv.

    Each conv is followed by batch norm and ReLU, so the factorized block has one more
    non-linearity than :func:`conv3d_block`; then ``MaxPool3d(pool)``. ``mid_channels``
    defaults to :func:`r2plus1d_mid_channels`, which makes the weight count match the
    3x3x3 convolution it replaces.

    Examples:
        >>> conv2plus1d_block(8, 16)(torch.rand(1, 8, 4, 12, 12)).shape
        torch.Size([1, 16, 4, 6, 6])
    """
    check_positive_int(in_channels, "in_channels")
    check_positive_int(out_channels, "out_channels")
    mid = r2plus1d_mid_channels(in_channels, out_channels) if mid_channels is None else mid_channels
    check_positive_int(mid, "mid_channels")
    return nn.Sequential(
        nn.Conv3d(in_channels, mid, kernel_size=(1, 3, 3), padding=(0, 1, 1), bias=False),  # space
        nn.BatchNorm3d(mid), nn.ReLU(inplace=True),
        nn.Conv3d(mid, out_channels, kernel_size=(3, 1, 1), padding=(1, 0, 0), bias=False),  # time
        nn.BatchNorm3d(out_channels), nn.ReLU(inplace=True),
        nn.MaxPool3d(_triple(pool, "pool")),
    )


class Small3DCNN(nn.Module):
    """A small C3D: blocks of 3D convolutions and pooling, a coarse average pool, one linear layer.

    Args:
        widths: output channels of each block.
        pools: the ``MaxPool3d`` of each block; the default keeps all frames in the first
            block (as C3D does) and halves time in the others.
        block: ``block(in_channels, out_channels, pool) -> nn.Module``, e.g. :func:`conv3d_block`
            (default) or :func:`conv2plus1d_block`.
        grid: the last feature map is averaged over time and to ``grid x grid`` in space.

    Examples:
        >>> Small3DCNN()(torch.rand(2, 3, 8, 24, 24)).shape
        torch.Size([2, 8])
    """

    def __init__(self, num_classes: int = NUM_CLASSES, in_channels: int = 3, widths: Sequence[int] = (8, 16, 32),
                 pools: Sequence = ((1, 2, 2), (2, 2, 2), (2, 2, 2)), block: Callable[..., nn.Module] = conv3d_block,
                 grid: int = 3) -> None:
        super().__init__()
        if len(widths) != len(pools) or not widths:
            raise ValueError(f"widths and pools must be non-empty and of equal length, got {list(widths)} and {list(pools)}")
        self.in_channels = in_channels
        channels = [in_channels, *widths]
        self.features = nn.Sequential(*(block(channels[i], channels[i + 1], pools[i]) for i in range(len(widths))))
        self.pool = nn.AdaptiveAvgPool3d((1, grid, grid))
        self.classifier = nn.Linear(widths[-1] * grid * grid, num_classes)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        _check_clips(clips, self.in_channels)
        return self.classifier(self.pool(self.features(clips)).flatten(1))


class TwoStreamNet(nn.Module):
    """Two streams (Simonyan and Zisserman, 2014): appearance from one frame, motion from stacked flow.

    The spatial stream reads the middle frame ``[B, C, H, W]``; the temporal stream reads the
    optical flow of the clip, ``T - 1`` flow fields stacked as ``2 (T - 1)`` channels (early
    fusion of the flow). Their class scores are added. The input is the pair
    ``(frames, flows)``; :meth:`inputs_from_clips` makes it from clips.
    """

    def __init__(self, num_frames: int, num_classes: int = NUM_CLASSES, in_channels: int = 3, width: int = 16,
                 feature_dim: int = 64) -> None:
        super().__init__()
        check_positive_int(num_frames, "num_frames")
        if num_frames < 2:
            raise ValueError(f"num_frames must be at least 2 (flow needs two frames), got {num_frames}")
        self.num_frames, self.in_channels = num_frames, in_channels
        self.spatial = nn.Sequential(frame_encoder(in_channels, width, feature_dim), nn.Linear(feature_dim, num_classes))
        self.temporal = nn.Sequential(frame_encoder(2 * (num_frames - 1), width, feature_dim),
                                      nn.Linear(feature_dim, num_classes))

    @staticmethod
    def inputs_from_clips(clips: torch.Tensor, radius: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
        """``(middle frames Tensor[B, C, H, W], flows Tensor[B, 2 (T - 1), H, W])`` (Lucas–Kanade flow)."""
        from course_utils.ops.flow import clip_flows

        _check_clips(clips)
        frames = clips[:, :, clips.shape[2] // 2]  # [B, C, H, W]
        flows = clip_flows(clips, radius=radius).flatten(1, 2)  # [B, T-1, 2, H, W] -> [B, 2(T-1), H, W]
        return frames, flows

    def forward(self, inputs: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        frames, flows = inputs
        check_tensor(frames, "frames", ndim=4, floating=True)
        check_tensor(flows, "flows", shape=(frames.shape[0], 2 * (self.num_frames - 1), *frames.shape[2:]), floating=True)
        return self.spatial(frames) + self.temporal(flows)


class CNNGRU(nn.Module):
    """A 2D CNN makes a feature vector of each frame; a GRU reads them in order; its last state is classified."""

    def __init__(self, num_classes: int = NUM_CLASSES, in_channels: int = 3, width: int = 16, feature_dim: int = 64,
                 hidden: int = 64) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.encoder = frame_encoder(in_channels, width, feature_dim)
        self.gru = nn.GRU(feature_dim, hidden, batch_first=True)
        self.classifier = nn.Linear(hidden, num_classes)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.classify_features(self.frame_features(clips))

    def frame_features(self, clips: torch.Tensor) -> torch.Tensor:
        """The CNN's feature vector of every frame: ``[B, C, T, H, W] -> [B, T, feature_dim]``."""
        _check_clips(clips, self.in_channels)
        return _per_frame(self.encoder, clips)

    def classify_features(self, features: torch.Tensor) -> torch.Tensor:
        """Logits from precomputed frame features ``[B, T, feature_dim]`` (to train the GRU on a frozen CNN)."""
        check_tensor(features, "features", ndim=3, floating=True)
        _, last = self.gru(features)  # last: [1, B, hidden]
        return self.classifier(last[0])


class NonLocalBlock(nn.Module):
    """Space-time self-attention on a 3D feature map (Wang et al., 2018, embedded Gaussian).

    Every position ``i`` of ``x: [B, C, T, H, W]`` attends to every position ``j`` (all
    ``N = T H W`` of them): ``y_i = sum_j softmax_j(theta(x_i) . phi(x_j)) g(x_j)``, with
    ``theta``, ``phi``, ``g`` 1x1x1 convolutions to ``inner`` channels; a last 1x1x1
    convolution maps ``y`` back to ``C`` channels and is added to ``x``. It starts at zero, so
    a new block is the identity and can be inserted into a trained network.

    Examples:
        >>> block = NonLocalBlock(8)
        >>> out, attention = block(torch.rand(2, 8, 4, 5, 5), return_attention=True)
        >>> out.shape, attention.shape
        (torch.Size([2, 8, 4, 5, 5]), torch.Size([2, 100, 100]))
    """

    def __init__(self, channels: int, inner: int | None = None) -> None:
        super().__init__()
        check_positive_int(channels, "channels")
        inner = max(1, channels // 2) if inner is None else inner
        check_positive_int(inner, "inner")
        self.theta = nn.Conv3d(channels, inner, 1)
        self.phi = nn.Conv3d(channels, inner, 1)
        self.g = nn.Conv3d(channels, inner, 1)
        self.out = nn.Conv3d(inner, channels, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, return_attention: bool = False):
        check_tensor(x, "x", ndim=5, floating=True)
        b, c, t, h, w = x.shape
        queries = self.theta(x).flatten(2).transpose(1, 2)  # [B, N, inner]
        keys = self.phi(x).flatten(2)  # [B, inner, N]
        values = self.g(x).flatten(2).transpose(1, 2)  # [B, N, inner]
        attention = torch.softmax(queries @ keys, dim=-1)  # [B, N, N]: row i = where position i looks
        y = (attention @ values).transpose(1, 2).reshape(b, -1, t, h, w)  # [B, inner, T, H, W]
        out = x + self.out(y)
        return (out, attention) if return_attention else out


def _average_over_windows_twin(model, video, clip_frames, step=1):
    """Twin of :func:`average_over_windows`: windows by ``Tensor.unfold``."""
    check_tensor(video, "video", ndim=4)
    starts = window_starts(video.shape[1], clip_frames, step)  # checks that a window fits
    windows = video.unfold(1, clip_frames, step).permute(1, 0, 4, 2, 3)  # [C, K, H, W, L] -> [K, C, L, H, W]
    return torch.softmax(model(windows[:len(starts)]), dim=-1).mean(dim=0)


@reference_of("08_video/average_over_windows", twin=_average_over_windows_twin)
def average_over_windows(model: Callable[[torch.Tensor], torch.Tensor], video: torch.Tensor, clip_frames: int,
                         step: int = 1) -> torch.Tensor:
    """Test-time averaging: the class probabilities of every window of a video, averaged.

    Windows of ``clip_frames`` consecutive frames start at ``0, step, 2 step, ...`` while the
    window fits; ``model`` maps ``Tensor[K, C, clip_frames, H, W]`` to logits ``[K, classes]``.
    Probabilities (softmax), not logits, are averaged. The model is called as it is (put it
    in ``eval()`` mode and under ``torch.no_grad()`` yourself).

    Args:
        model: a callable on a batch of clips.
        video: Tensor[C, T, H, W].
        clip_frames: frames per window (at most T).
        step: frames between window starts.

    Returns:
        Tensor[classes], the mean probability of each class (sums to 1).

    Examples:
        >>> model = lambda clips: clips.mean(dim=(1, 3, 4))[:, :2]  # "logits" from the first two frames
        >>> average_over_windows(model, torch.zeros(1, 6, 2, 2), clip_frames=4, step=2)
        tensor([0.5000, 0.5000])
    """
    check_tensor(video, "video", ndim=4)
    windows = sliding_windows(video, clip_frames, step)  # [K, C, L, H, W]
    probabilities = torch.softmax(model(windows), dim=-1)  # [K, classes]
    return probabilities.mean(dim=0)


# --------------------------------------------------------------------------- 3D convolution arithmetic


def _conv3d_output_shape_twin(input_shape, out_channels, kernel_size, stride=1, padding=0):
    """Twin of :func:`conv3d_output_shape`: ``nn.Conv3d`` on a meta tensor (after the same checks)."""
    if len(input_shape) != 4:
        raise ValueError(f"input_shape must be (C_in, T, H, W), got {tuple(input_shape)}")
    check_positive_int(out_channels, "out_channels")
    kernel, pads = _triple(kernel_size, "kernel_size"), _triple(padding, "padding")
    if any(n + 2 * p < k for n, k, p in zip(input_shape[1:], kernel, pads)):
        raise ValueError(f"kernel {kernel} is larger than the padded input {tuple(input_shape[1:])}")
    conv = nn.Conv3d(int(input_shape[0]), out_channels, kernel_size, stride=stride, padding=padding, device="meta")
    return tuple(int(n) for n in conv(torch.empty(1, *input_shape, device="meta")).shape[1:])


@reference_of("08_video/conv3d_arithmetic", twin=_conv3d_output_shape_twin)
def conv3d_output_shape(input_shape: Sequence[int], out_channels: int, kernel_size, stride=1, padding=0
                        ) -> tuple[int, int, int, int]:
    """Shape ``(C_out, T', H', W')`` of a 3D convolution's output for an input ``(C_in, T, H, W)``.

    Along each of time, height and width: ``(n + 2 padding - kernel) // stride + 1``.
    ``kernel_size``, ``stride`` and ``padding`` are ints or ``(t, h, w)`` triples.

    Examples:
        >>> conv3d_output_shape((3, 16, 112, 112), 64, 3, padding=1)
        (64, 16, 112, 112)
        >>> conv3d_output_shape((3, 16, 112, 112), 8, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3))
        (8, 16, 56, 56)
    """
    if len(input_shape) != 4:
        raise ValueError(f"input_shape must be (C_in, T, H, W), got {tuple(input_shape)}")
    check_positive_int(out_channels, "out_channels")
    kernel, strides, pads = _triple(kernel_size, "kernel_size"), _triple(stride, "stride"), _triple(padding, "padding")
    out = [out_channels]
    for n, k, s, p in zip(input_shape[1:], kernel, strides, pads):
        if n + 2 * p < k:
            raise ValueError(f"kernel {k} is larger than the padded input {n + 2 * p}")
        out.append((n + 2 * p - k) // s + 1)
    return tuple(out)


def _conv3d_parameters_twin(in_channels, out_channels, kernel_size, bias=True):
    """Twin of :func:`conv3d_parameters`: count the parameters of an ``nn.Conv3d`` built on the meta device."""
    conv = nn.Conv3d(in_channels, out_channels, kernel_size, bias=bias, device="meta")
    return sum(p.numel() for p in conv.parameters())


@reference_of("08_video/conv3d_arithmetic", twin=_conv3d_parameters_twin)
def conv3d_parameters(in_channels: int, out_channels: int, kernel_size, bias: bool = True) -> int:
    """Learnable parameters of ``nn.Conv3d(in_channels, out_channels, kernel_size, bias=bias)``.

    ``out * in * kt * kh * kw`` weights, plus ``out`` biases.

    Examples:
        >>> conv3d_parameters(3, 64, 3)
        5248
    """
    check_positive_int(in_channels, "in_channels")
    check_positive_int(out_channels, "out_channels")
    kt, kh, kw = _triple(kernel_size, "kernel_size")
    return out_channels * in_channels * kt * kh * kw + (out_channels if bias else 0)


@not_an_answer("08_video/conv2plus1d_parameters", why="the exercise's prompt gives this formula for M; the "
               "exercise is the weight count")
def r2plus1d_mid_channels(in_channels: int, out_channels: int, kernel_t: int = 3, kernel_s: int = 3) -> int:
    """Intermediate channels ``M`` of a (2+1)D block with as many weights as the full ``t x d x d`` conv.

    Tran et al. (2018): ``M = floor(t d^2 N_in N_out / (d^2 N_in + t N_out))``.

    Examples:
        >>> r2plus1d_mid_channels(64, 64)
        144
    """
    for value, name in ((in_channels, "in_channels"), (out_channels, "out_channels"), (kernel_t, "kernel_t"),
                        (kernel_s, "kernel_s")):
        check_positive_int(value, name)
    return (kernel_t * kernel_s ** 2 * in_channels * out_channels) // (kernel_s ** 2 * in_channels + kernel_t * out_channels)


def _conv2plus1d_parameters_twin(in_channels, out_channels, kernel_t=3, kernel_s=3, mid_channels=None):
    """Twin of :func:`conv2plus1d_parameters`: count the weights of the two ``nn.Conv3d`` on the meta device."""
    mid = r2plus1d_mid_channels(in_channels, out_channels, kernel_t, kernel_s) if mid_channels is None else mid_channels
    check_positive_int(mid, "mid_channels")
    spatial = nn.Conv3d(in_channels, mid, (1, kernel_s, kernel_s), bias=False, device="meta")
    temporal = nn.Conv3d(mid, out_channels, (kernel_t, 1, 1), bias=False, device="meta")
    return sum(p.numel() for p in (*spatial.parameters(), *temporal.parameters()))


@reference_of("08_video/conv2plus1d_parameters", twin=_conv2plus1d_parameters_twin)
def conv2plus1d_parameters(in_channels: int, out_channels: int, kernel_t: int = 3, kernel_s: int = 3,
                           mid_channels: int | None = None) -> int:
    """Weights (no biases) of a (2+1)D factorization of a ``kernel_t x kernel_s x kernel_s`` convolution.

    A ``1 x d x d`` conv from ``N_in`` to ``M`` channels, then a ``t x 1 x 1`` conv from ``M`` to
    ``N_out``: ``M N_in d^2 + N_out M t`` weights. ``mid_channels = None`` uses the paper's ``M``
    (:func:`r2plus1d_mid_channels`).

    Examples:
        >>> conv2plus1d_parameters(64, 64, mid_channels=64), conv3d_parameters(64, 64, 3, bias=False)
        (49152, 110592)
    """
    for value, name in ((in_channels, "in_channels"), (out_channels, "out_channels"), (kernel_t, "kernel_t"),
                        (kernel_s, "kernel_s")):
        check_positive_int(value, name)
    mid = r2plus1d_mid_channels(in_channels, out_channels, kernel_t, kernel_s) if mid_channels is None else mid_channels
    check_positive_int(mid, "mid_channels")
    return mid * in_channels * kernel_s * kernel_s + out_channels * mid * kernel_t


# --------------------------------------------------------------------------- published architectures


C3D_CHANNELS = (64, "P1", 128, "P", 256, 256, "P", 512, 512, "P", 512, 512, "P5")


def c3d(num_classes: int = 487, dropout: float = 0.5) -> nn.Sequential:
    """C3D (Tran et al., 2015) for ``[B, 3, 16, 112, 112]`` clips, as published for Sports-1M (487 classes).

    Eight 3x3x3 convolutions (stride 1, padding 1; 64, 128, 256, 256, 512, 512, 512, 512
    channels), five max pools (the first 1x2x2 so that early layers keep every frame,
    the others 2x2x2), two 4096-unit FC layers and the classifier. Caffe rounds pooled
    sizes up, so pool5 turns ``2 x 7 x 7`` into ``1 x 4 x 4``; here that is PyTorch's
    ``padding=(0, 1, 1)`` (the usual port), giving 8192 features for fc6.

    Build it on the meta device to count parameters without memory::

        with torch.device("meta"):
            model = c3d()
    """
    layers: list[nn.Module] = []
    in_channels = 3
    for item in C3D_CHANNELS:
        if item == "P1":
            layers.append(nn.MaxPool3d((1, 2, 2)))
        elif item == "P":
            layers.append(nn.MaxPool3d(2))
        elif item == "P5":
            layers.append(nn.MaxPool3d(2, padding=(0, 1, 1)))
        else:
            layers += [nn.Conv3d(in_channels, item, 3, padding=1), nn.ReLU(inplace=True)]
            in_channels = item
    layers += [nn.Flatten(), nn.Linear(512 * 1 * 4 * 4, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
               nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(4096, num_classes)]
    return nn.Sequential(*layers)


class ViViT(nn.Module):
    """ViViT (Arnab et al., 2021), "model 1" (joint space-time attention) and "model 2" (factorized encoder).

    A clip ``[B, 3, T, H, W]`` is cut into tubelets of ``tubelet = (t, p, p)`` voxels, each
    linearly embedded to ``dim`` (a 3D convolution with stride = kernel). Model 1 adds a
    position embedding and a class token and runs one transformer over all
    ``(T/t)(H/p)(W/p)`` tokens. Model 2 runs a *spatial* transformer over the tokens of each
    time step (with its own class token), then a *temporal* transformer of ``temporal_depth``
    layers over the ``T/t`` class tokens. Pre-norm transformer layers (ViT's), GELU MLPs.
    Defaults: ViT-Base sizes (768, 12 layers, 12 heads, MLP 3072), tubelets 2x16x16,
    32 frames of 224 x 224, Kinetics-400.
    """

    def __init__(self, num_classes: int = 400, frames: int = 32, image_size: int = 224, tubelet=(2, 16, 16),
                 dim: int = 768, depth: int = 12, heads: int = 12, mlp_dim: int = 3072, factorized: bool = False,
                 temporal_depth: int = 4) -> None:
        super().__init__()
        t, p, _ = _triple(tubelet, "tubelet")
        self.factorized = factorized
        self.grid = (frames // t, image_size // p, image_size // p)
        self.embed = nn.Conv3d(3, dim, (t, p, p), stride=(t, p, p))

        def encoder(layers):
            layer = nn.TransformerEncoderLayer(dim, heads, mlp_dim, dropout=0.0, activation="gelu",
                                               batch_first=True, norm_first=True)
            return nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(dim), enable_nested_tensor=False)

        nt, nh, nw = self.grid
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        if factorized:
            self.pos = nn.Parameter(torch.zeros(1, nh * nw + 1, dim))
            self.spatial = encoder(depth)
            self.time_cls = nn.Parameter(torch.zeros(1, 1, dim))
            self.time_pos = nn.Parameter(torch.zeros(1, nt + 1, dim))
            self.temporal = encoder(temporal_depth)
        else:
            self.pos = nn.Parameter(torch.zeros(1, nt * nh * nw + 1, dim))
            self.spatial = encoder(depth)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(clips)  # [B, D, nt, nh, nw]
        b, d, nt = tokens.shape[:3]
        if not self.factorized:
            seq = torch.cat([self.cls.expand(b, -1, -1), tokens.flatten(2).transpose(1, 2)], dim=1) + self.pos
            return self.head(self.spatial(seq)[:, 0])
        frames = tokens.permute(0, 2, 3, 4, 1).reshape(b * nt, -1, d)  # [B*nt, nh*nw, D]
        frames = torch.cat([self.cls.expand(b * nt, -1, -1), frames], dim=1) + self.pos
        per_time = self.spatial(frames)[:, 0].view(b, nt, d)  # one vector per time step
        seq = torch.cat([self.time_cls.expand(b, -1, -1), per_time], dim=1) + self.time_pos
        return self.head(self.temporal(seq)[:, 0])


def _conv_bn_relu3d(in_channels, out_channels, kernel, stride=1, relu=True) -> nn.Sequential:
    kernel = _triple(kernel, "kernel")
    padding = tuple(k // 2 for k in kernel)
    layers = [nn.Conv3d(in_channels, out_channels, kernel, stride=stride, padding=padding, bias=False),
              nn.BatchNorm3d(out_channels)]
    return nn.Sequential(*layers, nn.ReLU(inplace=True)) if relu else nn.Sequential(*layers)


class _Bottleneck3d(nn.Module):
    """ResNet bottleneck whose first 1x1 conv may span ``temporal`` frames (SlowFast's "non-degenerate" conv)."""

    def __init__(self, in_channels, inner, out_channels, temporal, spatial_stride):
        super().__init__()
        stride = (1, spatial_stride, spatial_stride)
        self.body = nn.Sequential(_conv_bn_relu3d(in_channels, inner, (temporal, 1, 1)),
                                  _conv_bn_relu3d(inner, inner, (1, 3, 3), stride=stride),
                                  _conv_bn_relu3d(inner, out_channels, 1, relu=False))
        self.shortcut = (nn.Identity() if in_channels == out_channels and spatial_stride == 1
                         else _conv_bn_relu3d(in_channels, out_channels, 1, stride=stride, relu=False))

    def forward(self, x):
        return F.relu(self.body(x) + self.shortcut(x))


class SlowFast(nn.Module):
    """SlowFast (Feichtenhofer et al., 2019) with ResNet-50 pathways, as in the paper's Table 1.

    The slow pathway sees ``T`` frames with ResNet-50 widths (64 ... 2048), temporal kernels
    only in res4 and res5; the fast pathway sees ``alpha T`` frames with ``beta = 1/8`` of
    the channels and temporal kernels everywhere. After pool1, res2, res3 and res4 a
    time-strided 5x1x1 convolution (stride ``alpha``, ``2 beta C`` channels) carries fast
    features into the slow pathway (concatenated). Both are pooled and concatenated for the
    classifier. Defaults: 4x16 (``T = 4``, ``alpha = 8``), Kinetics-400.
    """

    STAGES = ((64, 256, 3, 1, 1), (128, 512, 4, 2, 1), (256, 1024, 6, 2, 3), (512, 2048, 3, 2, 3))  # inner, out, blocks, stride, slow t

    def __init__(self, num_classes: int = 400, alpha: int = 8, beta_inv: int = 8, fusion_kernel: int = 5) -> None:
        super().__init__()
        self.alpha = alpha
        slow_c, fast_c = 64, 64 // beta_inv
        self.slow_stem = nn.Sequential(_conv_bn_relu3d(3, slow_c, (1, 7, 7), stride=(1, 2, 2)),
                                       nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)))
        self.fast_stem = nn.Sequential(_conv_bn_relu3d(3, fast_c, (5, 7, 7), stride=(1, 2, 2)),
                                       nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)))
        self.laterals, self.slow_stages, self.fast_stages = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for inner, out, blocks, stride, slow_t in self.STAGES:
            self.laterals.append(nn.Sequential(
                nn.Conv3d(fast_c, 2 * fast_c, (fusion_kernel, 1, 1), stride=(alpha, 1, 1),
                          padding=(fusion_kernel // 2, 0, 0), bias=False),
                nn.BatchNorm3d(2 * fast_c), nn.ReLU(inplace=True)))
            slow_in = slow_c + 2 * fast_c
            self.slow_stages.append(nn.Sequential(*(
                _Bottleneck3d(slow_in if i == 0 else out, inner, out, slow_t, stride if i == 0 else 1)
                for i in range(blocks))))
            self.fast_stages.append(nn.Sequential(*(
                _Bottleneck3d(fast_c if i == 0 else out // beta_inv, inner // beta_inv, out // beta_inv, 3,
                              stride if i == 0 else 1) for i in range(blocks))))
            slow_c, fast_c = out, out // beta_inv
        self.head = nn.Linear(slow_c + fast_c, num_classes)

    def forward(self, slow: torch.Tensor, fast: torch.Tensor) -> torch.Tensor:
        slow, fast = self.slow_stem(slow), self.fast_stem(fast)
        for lateral, slow_stage, fast_stage in zip(self.laterals, self.slow_stages, self.fast_stages):
            slow = slow_stage(torch.cat([slow, lateral(fast)], dim=1))
            fast = fast_stage(fast)
        pooled = torch.cat([slow.mean(dim=(2, 3, 4)), fast.mean(dim=(2, 3, 4))], dim=1)
        return self.head(pooled)
