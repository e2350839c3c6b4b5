# alternative: one model call per window (a batch of one), probabilities summed in a loop
# cell: average_over_windows
def average_over_windows(model, video, clip_frames, step=1):
    total = video.shape[1]
    if total < clip_frames:
        raise ValueError(f"{clip_frames} > {total}")
    summed, count, start = None, 0, 0
    while start + clip_frames <= total:
        p = torch.softmax(model(video[None, :, start:start + clip_frames]), dim=1)[0]
        summed = p if summed is None else summed + p
        count += 1
        start += step
    return summed / count
