# mutant: believes stride 3 fits a 7-pixel input (PyTorch gives 2)
# cell: answers_conv_arithmetic
# fails: test_stride_fits
@@
-stride3_fits_7 = (7 - 3) % 3 == 0
+stride3_fits_7 = True
