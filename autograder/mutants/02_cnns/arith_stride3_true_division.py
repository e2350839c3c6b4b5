# mutant: output size with / (a float 10.0)
# cell: answers_conv_arithmetic
# fails: test_stride_fits
@@
-stride3_output_size = (32 - 5) // 3 + 1
+stride3_output_size = (32 - 5) / 3 + 1
