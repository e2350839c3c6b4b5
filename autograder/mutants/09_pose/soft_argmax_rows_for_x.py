# mutant: weights the rows for x and the columns for y
# cell: decode_heatmaps
# fails: test_soft_argmax
@@
-    x = (weights * cols[None, None, None, :]).sum(dim=(-2, -1))  # [B, K]
-    y = (weights * rows[None, None, :, None]).sum(dim=(-2, -1))
+    x = (weights * rows[None, None, :, None]).sum(dim=(-2, -1))  # [B, K]
+    y = (weights * cols[None, None, None, :]).sum(dim=(-2, -1))
