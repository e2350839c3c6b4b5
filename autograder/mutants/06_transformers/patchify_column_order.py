# mutant: numbers the patches column by column instead of row by row
# cell: patchify
# fails: test_patchify
@@
-    x = x.permute(0, 2, 4, 1, 3, 5)  # [B, rows, cols, C, i, j]
+    x = x.permute(0, 4, 2, 1, 3, 5)  # [B, cols, rows, C, i, j]
