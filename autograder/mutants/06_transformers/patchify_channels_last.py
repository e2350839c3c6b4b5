# mutant: flattens each patch as (row, column, channel) instead of (channel, row, column)
# cell: patchify
# fails: test_patchify
@@
-    x = x.permute(0, 2, 4, 1, 3, 5)  # [B, rows, cols, C, i, j]
+    x = x.permute(0, 2, 4, 3, 5, 1)  # [B, rows, cols, i, j, C]
