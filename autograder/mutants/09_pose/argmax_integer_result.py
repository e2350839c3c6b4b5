# mutant: returns the integer indices (int64) instead of the heatmaps' dtype
# cell: decode_heatmaps
# fails: test_argmax_keypoints
@@
-    return torch.stack([cols, rows], dim=-1).to(heatmaps.dtype)  # [B, K, 2]
+    return torch.stack([cols, rows], dim=-1)  # [B, K, 2]
