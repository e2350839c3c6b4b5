# mutant: stride-3 output size forgets the +1
# cell: answers_conv_arithmetic
# fails: test_stride_fits
@@
-stride3_output_size = (35 - 5) // 3 + 1
+stride3_output_size = (35 - 5) // 3
