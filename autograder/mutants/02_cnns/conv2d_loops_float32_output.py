# mutant: allocates the output with torch.zeros (always float32) instead of x.new_zeros
# cell: conv2d_loops
# fails: test_conv2d_loops_basic
@@
-    out = x.new_zeros(n, c_out, h_out, w_out)
+    out = torch.zeros(n, c_out, h_out, w_out)
