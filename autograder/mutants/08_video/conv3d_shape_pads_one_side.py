# mutant: adds the padding once instead of on both sides
# cell: conv3d_arithmetic
# fails: test_conv3d_output_shape
@@
-    sizes = [(n + 2 * p - k) // s + 1
+    sizes = [(n + p - k) // s + 1
