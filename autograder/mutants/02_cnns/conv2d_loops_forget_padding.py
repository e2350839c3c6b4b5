# mutant: never pads the input (output size computed without padding)
# cell: conv2d_loops
# fails: test_conv2d_loops_stride_padding
@@
-    h_out = (h + 2 * padding - kh) // stride + 1
-    w_out = (w + 2 * padding - kw) // stride + 1
-    xp = x.new_zeros(n, c_in, h + 2 * padding, w + 2 * padding)
-    xp[:, :, padding:padding + h, padding:padding + w] = x
+    h_out = (h - kh) // stride + 1
+    w_out = (w - kw) // stride + 1
+    xp = x
