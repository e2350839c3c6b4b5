# mutant: the spatial 1 x k x k filter counted as k weights instead of k^2
# cell: conv2plus1d_parameters
# fails: test_conv2plus1d_parameters
@@
-    return mid_channels * in_channels * kernel_s ** 2 + out_channels * mid_channels * kernel_t
+    return mid_channels * in_channels * kernel_s + out_channels * mid_channels * kernel_t
