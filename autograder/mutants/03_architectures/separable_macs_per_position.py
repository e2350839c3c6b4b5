# mutant: multiply-adds not multiplied by the number of output positions
# cell: separable_conv_cost
# fails: test_separable_conv_cost
@@
-    return standard_params, separable_params, standard_params * positions, separable_params * positions
+    return standard_params, separable_params, standard_params * out_h, separable_params * out_w
