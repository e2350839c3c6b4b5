# mutant: flattens the weights channels-last, which does not match im2col's row order
# cell: conv2d_im2col
# fails: test_conv2d_im2col
@@
-    result = weight.reshape(c_out, -1) @ columns                   # [C_out, Ckk] @ [N, Ckk, L] -> [N, C_out, L]
+    result = weight.permute(0, 2, 3, 1).reshape(c_out, -1) @ columns                   # [C_out, Ckk] @ [N, Ckk, L] -> [N, C_out, L]
