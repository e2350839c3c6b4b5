"""Clip sampling and test-time windows (course_utils.data.video), video sizes, and long ActionClips videos."""
import pytest
import torch

from course_utils.data.clips import ActionClips
from course_utils.data.video import (GIB, KIB, _sliding_windows_twin, _video_bytes_twin, clip_indices, clip_span,
                                     num_windows, sample_clips, sliding_windows, video_bytes, window_starts)


def _numbered_video(frames=12, channels=2, size=3):
    """Frame t of channel c holds the value 100 c + t everywhere."""
    t = torch.arange(frames, dtype=torch.float32)[None, :, None, None]
    c = torch.arange(channels, dtype=torch.float32)[:, None, None, None]
    return (100 * c + t).expand(channels, frames, size, size).clone()


def test_video_bytes_lecture_numbers():
    assert video_bytes(16, 112, 112) == 16 * 112 * 112 * 3 == 588 * KIB
    minute_sd = video_bytes(30 * 60, 480, 640)
    assert 1.5 < minute_sd / GIB < 1.6
    assert 10 < video_bytes(30 * 60, 1080, 1920) / GIB < 11
    assert video_bytes(8, 24, 24, channels=3, bytes_per_value=4) == 4 * video_bytes(8, 24, 24)
    for args in [(16, 112, 112), (5, 7, 9, 1, 2), (1, 1, 1, 3, 4)]:
        assert video_bytes(*args) == _video_bytes_twin(*args)
    with pytest.raises(ValueError):
        video_bytes(0, 4, 4)
    with pytest.raises(TypeError):
        video_bytes(2.5, 4, 4)


def test_clip_indices_and_span():
    assert clip_span(8) == 8 and clip_span(8, 2) == 15 and clip_span(1, 5) == 1
    assert clip_indices(10, 4).tolist() == [0, 1, 2, 3]
    assert clip_indices(11, 4, stride=3, start=1).tolist() == [1, 4, 7, 10]
    with pytest.raises(ValueError):
        clip_indices(10, 4, stride=3, start=1)  # frame 10 does not exist
    with pytest.raises(ValueError):
        clip_indices(5, 6)


@pytest.mark.parametrize("frames,length,step,stride", [(12, 4, 1, 1), (12, 4, 3, 1), (12, 4, 5, 1), (12, 12, 1, 1),
                                                        (13, 3, 2, 3), (20, 8, 4, 2), (9, 1, 4, 1)])
def test_windows_loop_twin_and_count_agree(frames, length, step, stride):
    video = _numbered_video(frames)
    windows = sliding_windows(video, length, step, stride)
    starts = window_starts(frames, length, step, stride)
    assert windows.shape == (len(starts), 2, length, 3, 3) == (num_windows(frames, length, step, stride), 2, length, 3, 3)
    assert starts[0] == 0 and all(b - a == step for a, b in zip(starts, starts[1:]))
    assert starts[-1] + clip_span(length, stride) <= frames < starts[-1] + step + clip_span(length, stride)
    for k, s in enumerate(starts):
        assert windows[k, 0, :, 0, 0].tolist() == clip_indices(frames, length, stride, s).float().tolist()
        assert windows[k, 1, 0, 0, 0].item() == 100 + s
    assert torch.equal(_sliding_windows_twin(video, length, step, stride), windows)
    batch = torch.stack([video, video + 1000])
    assert torch.equal(sliding_windows(batch, length, step, stride)[1], windows + 1000)
    assert torch.equal(_sliding_windows_twin(batch, length, step, stride), sliding_windows(batch, length, step, stride))


def test_windows_errors():
    with pytest.raises(ValueError):
        sliding_windows(_numbered_video(5), 6)
    with pytest.raises(ValueError):
        sliding_windows(torch.zeros(3, 4, 4), 2)
    with pytest.raises(ValueError):
        window_starts(10, 4, step=0)


def test_sample_clips_starts_are_uniform_and_clips_right():
    videos = torch.stack([_numbered_video(10) + 1000 * i for i in range(400)])  # [N, C, T, H, W]
    clips, starts = sample_clips(videos, 3, stride=2, generator=torch.Generator().manual_seed(0))
    assert clips.shape == (400, 2, 3, 3, 3) and starts.dtype == torch.int64
    assert set(starts.tolist()) == set(range(10 - 5 + 1))
    expected = (1000 * torch.arange(400)[:, None] + starts[:, None] + 2 * torch.arange(3)).float()
    assert torch.equal(clips[:, 0, :, 1, 1], expected)
    again, starts2 = sample_clips(videos, 3, stride=2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again, clips) and torch.equal(starts2, starts)
    empty, empty_starts = sample_clips(videos[:0], 3)
    assert empty.shape == (0, 2, 3, 3, 3) and empty_starts.shape == (0,)
    with pytest.raises(ValueError):
        sample_clips(videos, 6, stride=2)


# --------------------------------------------------------------------------- ActionClips(action_frames=...)


def test_action_frames_equal_to_frames_is_the_plain_clip():
    plain = ActionClips(6, frames=6, image_size=16, seed=4)
    full = ActionClips(6, frames=6, image_size=16, seed=4, action_frames=6)
    for i in range(6):
        assert torch.equal(plain[i][0], full[i][0])
        assert full.action_start(i) == 0 == plain.action_start(i)
    assert "action_frames=6" in repr(full) and "action_frames" not in repr(plain)


def test_action_happens_only_in_its_window():
    from course_utils.data.clips import _schedule

    assert _schedule(6, 1, 3).tolist() == [0.0, 0.0, 0.5, 1.0, 1.0, 1.0]
    assert _schedule(4).tolist() == [0.0, 1 / 3, 2 / 3, 1.0]
    videos = ActionClips(24, frames=14, image_size=24, seed=1, action_frames=5)
    starts = [videos.action_start(i) for i in range(24)]
    assert all(0 <= s <= 14 - 5 for s in starts) and len(set(starts)) > 2
    for i in range(24):
        clip, _ = videos[i]
        s = starts[i]
        # Before and after the motion two frames differ only by their noise (std 0.03 each).
        for t in [t for t in range(13) if t + 1 <= s or t >= s + 4]:
            assert (clip[:, t + 1] - clip[:, t]).std() < 0.05, (i, t)
        # Across the motion the shape has moved: many pixels change by far more than the noise.
        moved = ((clip[:, s + 4] - clip[:, s]).abs().amax(0) > 0.3).sum()
        assert moved >= 3, (i, int(moved))


def test_action_frames_errors():
    with pytest.raises(ValueError):
        ActionClips(2, frames=6, action_frames=7)
    with pytest.raises(ValueError):
        ActionClips(2, frames=6, action_frames=1)
    with pytest.raises(TypeError):
        ActionClips(2, frames=6, action_frames=2.0)
    with pytest.raises(IndexError):
        ActionClips(2, frames=6, action_frames=3).action_start(2)
