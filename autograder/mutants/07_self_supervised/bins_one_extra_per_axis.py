# mutant: counts n + 1 bins per axis
# cell: ab_to_bin
# fails: test_ab_to_bin
@@
-    n = round(2 * ab_max / grid_size)
+    n = round(2 * ab_max / grid_size) + 1
