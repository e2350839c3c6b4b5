# mutant: never counts the biases
# cell: conv3d_arithmetic
# fails: test_conv3d_parameters
@@
-    return out_channels * in_channels * kt * kh * kw + (out_channels if bias else 0)
+    return out_channels * in_channels * kt * kh * kw
