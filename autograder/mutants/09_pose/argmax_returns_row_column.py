# mutant: returns (row, column) instead of (x, y) = (column, row)
# cell: decode_heatmaps
# fails: test_argmax_keypoints
@@
-    return torch.stack([cols, rows], dim=-1).to(heatmaps.dtype)  # [B, K, 2]
+    return torch.stack([rows, cols], dim=-1).to(heatmaps.dtype)  # [B, K, 2]
