# mutant: puts the channels last, (T', H', W', C_out)
# cell: conv3d_arithmetic
# fails: test_conv3d_output_shape
@@
-    return (out_channels, *sizes)
+    return (*sizes, out_channels)
