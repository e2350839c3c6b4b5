# mutant: never checks that the filter fits inside the padded input
# cell: conv_output_size
# fails: test_conv_output_size_errors
@@
-    if span > padded:
+    if False:  # no check that the filter fits
