# mutant: gives the shape as (C, H, W)
# cell: answers_conv_arithmetic
# fails: test_conv1_output_shape
@@
-conv1_output_shape = (32 - 5 + 1, 32 - 5 + 1, 6)
+conv1_output_shape = (6, 28, 28)
