# mutant: rounds the paper's M to the nearest integer instead of down
# cell: conv2plus1d_parameters
# fails: test_conv2plus1d_parameters
@@
-        mid_channels = (kernel_t * kernel_s ** 2 * in_channels * out_channels) // (
-            kernel_s ** 2 * in_channels + kernel_t * out_channels)
+        mid_channels = round((kernel_t * kernel_s ** 2 * in_channels * out_channels) / (
+            kernel_s ** 2 * in_channels + kernel_t * out_channels))
