"""Videos as data: their size, training clips cut from them, and sliding test-time windows.

Layout: a video (or a clip) is ``Tensor[C, T, H, W]`` (channels, frames, height, width),
the layout of ``nn.Conv3d`` and of :class:`course_utils.data.ActionClips`; a batch adds a
leading ``N``. A *clip* takes ``clip_frames`` frames from a video, ``stride`` frames apart
(``stride = 2`` halves the frame rate), starting at frame ``start``: frames
``start, start + stride, ..., start + (clip_frames - 1) * stride``, which must all exist.

Networks are trained on short random clips (cheap, and a different clip of each video
every epoch); at test time a model is run on *windows*: clips starting at ``0, step,
2 step, ...`` for as long as the whole clip fits, and its predictions are averaged
(:func:`course_utils.models.video.average_over_windows`).
"""
from __future__ import annotations

import math

import torch

from course_utils.checks import check_nonnegative_int, check_positive_int, check_tensor
from course_utils.references import not_an_answer, reference_of

__all__ = ["video_bytes", "clip_span", "clip_indices", "window_starts", "num_windows", "sample_clips",
           "sliding_windows", "GIB", "MIB", "KIB"]

KIB, MIB, GIB = 2 ** 10, 2 ** 20, 2 ** 30  # binary units: a GiB is 1024^3 bytes (a GB is 10^9)


def _video_bytes_twin(frames, height, width, channels=3, bytes_per_value=1):
    """Twin of :func:`video_bytes`: the element count of a meta tensor of that shape, times the value size."""
    for value, name in ((frames, "frames"), (height, "height"), (width, "width"), (channels, "channels"),
                        (bytes_per_value, "bytes_per_value")):
        check_positive_int(value, name)
    return torch.empty(channels, frames, height, width, device="meta").numel() * bytes_per_value


@reference_of("08_video/video_bytes", twin=_video_bytes_twin)
def video_bytes(frames: int, height: int, width: int, channels: int = 3, bytes_per_value: int = 1) -> int:
    """Bytes of an uncompressed video ``Tensor[channels, frames, height, width]``.

    ``bytes_per_value`` is 1 for 8-bit pixels (``uint8``, as stored), 4 for ``float32`` (as
    a network reads them).

    Examples:
        >>> video_bytes(16, 112, 112)  # a C3D input clip, 8-bit
        602112
        >>> video_bytes(30 * 60, 480, 640) / GIB  # one minute of SD video at 30 fps, in GiB
        1.544952392578125
    """
    for value, name in ((frames, "frames"), (height, "height"), (width, "width"), (channels, "channels"),
                        (bytes_per_value, "bytes_per_value")):
        check_positive_int(value, name)
    return frames * height * width * channels * bytes_per_value


def clip_span(clip_frames: int, stride: int = 1) -> int:
    """Number of video frames a clip covers, first to last: ``(clip_frames - 1) * stride + 1``.

    Examples:
        >>> clip_span(8), clip_span(8, stride=2)
        (8, 15)
    """
    check_positive_int(clip_frames, "clip_frames")
    check_positive_int(stride, "stride")
    return (clip_frames - 1) * stride + 1


def _check_fits(num_frames: int, clip_frames: int, stride: int) -> int:
    span = clip_span(clip_frames, stride)
    if span > num_frames:
        raise ValueError(f"a clip of {clip_frames} frames at stride {stride} spans {span} frames, "
                         f"but the video has only {num_frames}")
    return span


def clip_indices(num_frames: int, clip_frames: int, stride: int = 1, start: int = 0) -> torch.Tensor:
    """Frame indices of one clip: ``start + stride * arange(clip_frames)``, Tensor[clip_frames] int64.

    Raises:
        ValueError: the clip does not fit in ``num_frames`` frames.

    Examples:
        >>> clip_indices(20, 4, stride=3, start=2).tolist()
        [2, 5, 8, 11]
    """
    check_positive_int(num_frames, "num_frames")
    check_nonnegative_int(start, "start")
    span = _check_fits(num_frames, clip_frames, stride)
    if start + span > num_frames:
        raise ValueError(f"a clip starting at frame {start} ends at frame {start + span - 1}, "
                         f"past the last frame {num_frames - 1}")
    return start + stride * torch.arange(clip_frames)


@not_an_answer("08_video/average_over_windows", why="lists where the windows start (the rule the exercise's prompt "
               "states); the exercise cuts the windows and averages the model's probabilities")
def window_starts(num_frames: int, clip_frames: int, step: int = 1, stride: int = 1) -> list[int]:
    """First frames of the test-time windows: ``0, step, 2 step, ...`` while the whole clip fits.

    Examples:
        >>> window_starts(16, 8, step=4), window_starts(16, 8, step=3), window_starts(8, 8)
        ([0, 4, 8], [0, 3, 6], [0])
    """
    check_positive_int(num_frames, "num_frames")
    check_positive_int(step, "step")
    span = _check_fits(num_frames, clip_frames, stride)
    return list(range(0, num_frames - span + 1, step))


def sample_clips(videos: torch.Tensor, clip_frames: int, stride: int = 1,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One random clip from each video, every start equally likely.

    Args:
        videos: Tensor[N, C, T, H, W].
        clip_frames, stride: the clip (see the module docstring).
        generator: for reproducible starts.

    Returns:
        ``(clips Tensor[N, C, clip_frames, H, W], starts Tensor[N] int64)``.

    Examples:
        >>> clips, starts = sample_clips(torch.rand(5, 3, 12, 8, 8), 4, stride=2,
        ...                              generator=torch.Generator().manual_seed(0))
        >>> clips.shape, bool(((0 <= starts) & (starts <= 12 - 7)).all())
        (torch.Size([5, 3, 4, 8, 8]), True)
    """
    check_tensor(videos, "videos", ndim=5)
    n, _, frames = videos.shape[:3]
    span = _check_fits(frames, clip_frames, stride)
    starts = torch.randint(frames - span + 1, (n,), generator=generator)  # [N]
    index = (starts[:, None] + stride * torch.arange(clip_frames)).to(videos.device)  # [N, L]
    clips = videos[torch.arange(n, device=videos.device)[:, None], :, index]  # [N, L, C, H, W]
    return clips.transpose(1, 2), starts  # [N, C, L, H, W]


def _sliding_windows_twin(video, clip_frames, step=1, stride=1):
    """Twin of :func:`sliding_windows`: ``Tensor.unfold`` over the frame axis, then every ``stride``-th frame."""
    check_tensor(video, "video")
    if video.ndim not in (4, 5):
        raise ValueError(f"video must be [C, T, H, W] or [N, C, T, H, W], got shape {list(video.shape)}")
    starts = window_starts(video.shape[-3], clip_frames, step, stride)
    span = clip_span(clip_frames, stride)
    windows = video.unfold(-3, span, step)[..., :len(starts), :, :, ::stride]  # [..., C, K, H, W, L]
    return windows.movedim(-1, -3).transpose(-5, -4)  # [..., C, K, L, H, W] -> [..., K, C, L, H, W]


@reference_of("08_video/average_over_windows", twin=_sliding_windows_twin)
def sliding_windows(video: torch.Tensor, clip_frames: int, step: int = 1, stride: int = 1) -> torch.Tensor:
    """Every test-time window of a video, stacked: windows start at ``0, step, 2 step, ...``.

    Args:
        video: Tensor[C, T, H, W] (or a batch Tensor[N, C, T, H, W]).
        clip_frames, stride: the clip (see the module docstring).
        step: frames between the starts of neighbouring windows.

    Returns:
        Tensor[K, C, clip_frames, H, W] (or [N, K, C, clip_frames, H, W]) with
        ``K = len(window_starts(T, clip_frames, step, stride))``.

    Examples:
        >>> video = torch.arange(10.0).view(1, 10, 1, 1)  # frame t holds the value t
        >>> sliding_windows(video, 4, step=3)[:, 0, :, 0, 0].tolist()
        [[0.0, 1.0, 2.0, 3.0], [3.0, 4.0, 5.0, 6.0], [6.0, 7.0, 8.0, 9.0]]
    """
    check_tensor(video, "video")
    if video.ndim not in (4, 5):
        raise ValueError(f"video must be [C, T, H, W] or [N, C, T, H, W], got shape {list(video.shape)}")
    frames = video.shape[-3]
    windows = [video[..., clip_indices(frames, clip_frames, stride, s).to(video.device), :, :]
               for s in window_starts(frames, clip_frames, step, stride)]  # K x [..., C, L, H, W]
    return torch.stack(windows, dim=-5)  # [..., K, C, L, H, W]


def num_windows(num_frames: int, clip_frames: int, step: int = 1, stride: int = 1) -> int:
    """How many test-time windows a video of ``num_frames`` frames has.

    Examples:
        >>> num_windows(24, 8, step=2)
        9
    """
    span = _check_fits(num_frames, clip_frames, stride)
    check_positive_int(step, "step")
    return math.floor((num_frames - span) / step) + 1

