# mutant: running maximum initialised with 0 (wrong when a whole window is negative)
# cell: max_pool2d_forward
# fails: test_max_pool2d_forward
@@
-    pooled = x.new_empty(n, c, h_out, w_out)
+    pooled = x.new_zeros(n, c, h_out, w_out)
@@
-            region = x[:, :, i * stride:i * stride + kernel_size, j * stride:j * stride + kernel_size]
-            pooled[:, :, i, j] = region.amax(dim=(2, 3))  # max over the window, per sample and channel
+            best = x.new_zeros(n, c)
+            for u in range(kernel_size):
+                for v in range(kernel_size):
+                    best = torch.maximum(best, x[:, :, i * stride + u, j * stride + v])
+            pooled[:, :, i, j] = best
