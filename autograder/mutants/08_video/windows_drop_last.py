# mutant: off by one: the last window that fits is never used
# cell: average_over_windows
# fails: test_average_over_windows
@@
-    windows = torch.stack([video[:, s:s + clip_frames] for s in range(0, frames - clip_frames + 1, step)])
+    windows = torch.stack([video[:, s:s + clip_frames] for s in range(0, frames - clip_frames, step)])
