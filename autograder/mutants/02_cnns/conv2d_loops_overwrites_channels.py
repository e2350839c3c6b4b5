# mutant: loops over input channels and overwrites instead of accumulating (only the last channel counts)
# cell: conv2d_loops
# fails: test_conv2d_loops_basic
@@
-                out[:, o, i, j] = (window * weight[o]).sum(dim=(1, 2, 3))
+                for c in range(c_in):
+                    out[:, o, i, j] = (window[:, c] * weight[o, c]).sum(dim=(1, 2))
