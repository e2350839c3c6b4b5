# mutant: rounds the division to the nearest integer instead of down
# cell: conv3d_arithmetic
# fails: test_conv3d_output_shape
@@
-    sizes = [(n + 2 * p - k) // s + 1
+    sizes = [round((n + 2 * p - k) / s) + 1
