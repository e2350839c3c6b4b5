# mutant: does not check that a window fits in the video
# cell: average_over_windows
# fails: test_average_over_windows
@@
-    if clip_frames > frames:
-        raise ValueError(f"a window of {clip_frames} frames does not fit in a video of {frames} frames")
     windows = torch.stack([video[:, s:s + clip_frames] for s in range(0, frames - clip_frames + 1, step)])
