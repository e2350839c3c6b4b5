# mutant: output size uses the stride but the window position does not (i instead of i * stride)
# cell: conv2d_loops
# fails: test_conv2d_loops_stride_padding
@@
-            top, left = i * stride, j * stride
+            top, left = i, j
