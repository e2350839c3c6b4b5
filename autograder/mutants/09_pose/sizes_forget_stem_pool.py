# mutant: forgets the stem's max pool
# cell: hourglass_sizes
# fails: test_hourglass_sizes
@@
-    side = side // 2  # the stem's 2x2 max pool
+    side = side  # the stem's 2x2 max pool
