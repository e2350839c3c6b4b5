# mutant: b selects the row and a the column
# cell: ab_to_bin
# fails: test_ab_to_bin
@@
-    return index[:, 0] * n + index[:, 1]
+    return index[:, 1] * n + index[:, 0]
