# mutant: rounds down like PyTorch instead of rejecting a stride that does not tile
# cell: conv_output_size
# fails: test_conv_output_size_errors
@@
-    if leftover:
+    if False:  # the remainder is silently dropped
