# mutant: places cell (r, c) at (c + 0.5, r + 0.5), the pixel-edge convention of boxes
# cell: gaussian_heatmaps
# fails: test_gaussian_heatmaps
@@
-    cols = torch.arange(width, dtype=keypoints.dtype)  # [W]
-    rows = torch.arange(height, dtype=keypoints.dtype)  # [H]
+    cols = torch.arange(width, dtype=keypoints.dtype) + 0.5  # [W]
+    rows = torch.arange(height, dtype=keypoints.dtype) + 0.5  # [H]
