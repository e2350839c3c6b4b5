# mutant: forgets to add the bias
# cell: conv2d_loops
# fails: test_conv2d_loops_basic
@@
-    if bias is not None:
-        out += bias.view(1, c_out, 1, 1)  # one bias per output channel, broadcast over N, H, W
+    pass  # one bias per output channel, broadcast over N, H, W
