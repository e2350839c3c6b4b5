# mutant: flips the kernel when stamping (mixing up the transposed conv with a true convolution)
# cell: transpose_loops
# fails: test_transpose_loops
@@
     ### BEGIN SOLUTION
+    weight = weight.flip(-1, -2)
@@
-    cropped = full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]
+    out = full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]
@@
-        cropped = cropped + bias[None, :, None, None]
-    return cropped
+        out = out + bias[None, :, None, None]
+    return out
