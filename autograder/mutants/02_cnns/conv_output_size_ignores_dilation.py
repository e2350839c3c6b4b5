# mutant: uses the kernel size as the span, ignoring dilation
# cell: conv_output_size
# fails: test_conv_output_size_values
@@
-    span = dilation * (kernel_size - 1) + 1  # input pixels covered by one window
+    span = kernel_size  # input pixels covered by one window
