# mutant: separable cost without the pointwise 1x1 convolution
# cell: separable_conv_cost
# fails: test_separable_conv_cost
@@
-    separable_params = kernel_size * kernel_size * c_in + c_in * c_out  # depthwise + pointwise
+    separable_params = kernel_size * kernel_size * c_in  # depthwise + pointwise
