# mutant: output size without the +1 (counts the steps, not the positions)
# cell: conv3d_arithmetic
# fails: test_conv3d_output_shape
@@
-    sizes = [(n + 2 * p - k) // s + 1
+    sizes = [(n + 2 * p - k) // s
