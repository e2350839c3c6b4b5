# mutant: forgets the bias
# cell: transpose_loops
# fails: test_transpose_loops
@@
-    cropped = full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]
-    if bias is not None:
-        cropped = cropped + bias[None, :, None, None]
-    return cropped
+    return full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]
