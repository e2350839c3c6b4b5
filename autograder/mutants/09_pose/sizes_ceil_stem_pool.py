# mutant: rounds the stem's pooling up (ceil mode) instead of down
# cell: hourglass_sizes
# fails: test_hourglass_sizes
@@
-    side = side // 2  # the stem's 2x2 max pool
+    side = (side + 1) // 2  # the stem's 2x2 max pool
