# mutant: uses M = out_channels by default instead of the paper's formula
# cell: conv2plus1d_parameters
# fails: test_conv2plus1d_parameters
@@
-        mid_channels = (kernel_t * kernel_s ** 2 * in_channels * out_channels) // (
-            kernel_s ** 2 * in_channels + kernel_t * out_channels)
+        mid_channels = out_channels
