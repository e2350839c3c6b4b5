# mutant: rows ordered (kernel row, kernel column, channel)
# cell: im2col
# fails: test_im2col
@@
-    cols = x.new_empty(n, c, kh, kw, h_out, w_out)
+    cols = x.new_empty(n, kh, kw, c, h_out, w_out)
@@
-            cols[:, :, u, v] = xp[:, :, u:u + stride * (h_out - 1) + 1:stride, v:v + stride * (w_out - 1) + 1:stride]
+            cols[:, u, v] = xp[:, :, u:u + stride * (h_out - 1) + 1:stride, v:v + stride * (w_out - 1) + 1:stride]
