# mutant: output size forgets the +1 (counts strides, not windows)
# cell: conv_output_size
# fails: test_conv_output_size_values
@@
-    return steps + 1
+    return steps
