# mutant: forgets the bias
# cell: conv2d_im2col
# fails: test_conv2d_im2col
@@
-    if bias is not None:
-        result = result + bias.view(1, c_out, 1)
