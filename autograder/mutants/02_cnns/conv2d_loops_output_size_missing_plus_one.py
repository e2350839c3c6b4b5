# mutant: output size forgets the +1
# cell: conv2d_loops
# fails: test_conv2d_loops_basic
@@
-    h_out = (h + 2 * padding - kh) // stride + 1
-    w_out = (w + 2 * padding - kw) // stride + 1
+    h_out = (h + 2 * padding - kh) // stride
+    w_out = (w + 2 * padding - kw) // stride
