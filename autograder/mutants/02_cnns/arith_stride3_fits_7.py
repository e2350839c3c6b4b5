# mutant: carries over the lecture's 3 x 3 example: (7 - 3) % 3 instead of the question's 4 x 4 filter
# cell: answers_conv_arithmetic
# fails: test_stride_fits
@@
-stride3_fits_7 = (7 - 4) % 3 == 0
+stride3_fits_7 = (7 - 3) % 3 == 0
