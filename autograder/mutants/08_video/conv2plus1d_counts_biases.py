# mutant: adds biases for both convolutions (the prompt asks for weights only)
# cell: conv2plus1d_parameters
# fails: test_conv2plus1d_parameters
@@
-    return mid_channels * in_channels * kernel_s ** 2 + out_channels * mid_channels * kernel_t
+    return mid_channels * in_channels * kernel_s ** 2 + out_channels * mid_channels * kernel_t + mid_channels + out_channels
