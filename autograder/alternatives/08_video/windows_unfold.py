# alternative: Tensor.unfold over the time axis
# cell: average_over_windows
def average_over_windows(model, video, clip_frames, step=1):
    if clip_frames > video.shape[1]:
        raise ValueError("the window is longer than the video")
    windows = video.unfold(1, clip_frames, step)  # [C, K, H, W, L]
    windows = windows.permute(1, 0, 4, 2, 3)  # [K, C, L, H, W]
    return F.softmax(model(windows), dim=-1).mean(0)
