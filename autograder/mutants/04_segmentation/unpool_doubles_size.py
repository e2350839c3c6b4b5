# mutant: ignores output_size and assumes the pooled map was exactly twice as large
# cell: max_unpool
# fails: test_max_unpool
@@
-    height, width = output_size
+    height, width = 2 * x.shape[2], 2 * x.shape[3]
