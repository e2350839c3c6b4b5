# mutant: stride defaults to 1 instead of the kernel size
# cell: max_pool2d_forward
# fails: test_max_pool2d_forward
@@
-        stride = kernel_size
+        stride = 1
