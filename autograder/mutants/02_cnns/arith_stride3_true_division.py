# mutant: output size with / (a float 11.0 where the question asks for an int)
# cell: answers_conv_arithmetic
# fails: test_stride_fits
@@
-stride3_output_size = (35 - 5) // 3 + 1
+stride3_output_size = (35 - 5) / 3 + 1
