# mutant: depthwise part counted like a full convolution (k^2 C_in C_out)
# cell: separable_conv_cost
# fails: test_separable_conv_cost
@@
-    separable_params = kernel_size * kernel_size * c_in + c_in * c_out  # depthwise + pointwise
+    separable_params = kernel_size * kernel_size * c_in * c_out + c_in * c_out  # depthwise + pointwise
