# mutant: dilation ignored
# cell: receptive_field
# fails: test_receptive_field
@@
-        rf += dilation * (kernel_size - 1) * jump
+        rf += (kernel_size - 1) * jump
