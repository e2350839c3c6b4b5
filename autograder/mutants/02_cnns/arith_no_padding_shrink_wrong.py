# mutant: loses only the radius on one side: 32 - 2 = 30
# cell: answers_conv_arithmetic
# fails: test_conv1_output_shape
@@
-conv1_output_shape = (32 - 5 + 1, 32 - 5 + 1, 6)
+conv1_output_shape = (30, 30, 6)
