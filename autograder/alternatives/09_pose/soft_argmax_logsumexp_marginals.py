# alternative: weights through logsumexp, then the row and column marginals
# cell: decode_heatmaps
@@
-    weights = torch.exp(scores - scores.max(dim=-1, keepdim=True).values)  # the largest weight is exactly 1
-    weights = (weights / weights.sum(dim=-1, keepdim=True)).reshape(batch, num_kp, height, width)
-    cols = torch.arange(width, dtype=heatmaps.dtype)
-    rows = torch.arange(height, dtype=heatmaps.dtype)
-    x = (weights * cols[None, None, None, :]).sum(dim=(-2, -1))  # [B, K]
-    y = (weights * rows[None, None, :, None]).sum(dim=(-2, -1))
+    weights = torch.exp(scores - torch.logsumexp(scores, dim=-1, keepdim=True)).reshape(batch, num_kp, height, width)
+    x = weights.sum(dim=2) @ torch.arange(width, dtype=heatmaps.dtype)  # column marginal [B, K, W] -> [B, K]
+    y = weights.sum(dim=3) @ torch.arange(height, dtype=heatmaps.dtype)
