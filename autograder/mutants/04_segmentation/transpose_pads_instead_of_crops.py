# mutant: ignores padding (does not crop the full output)
# cell: transpose_loops
# fails: test_transpose_loops
@@
-    cropped = full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]
@@
-        cropped = cropped + bias[None, :, None, None]
-    return cropped
+        full = full + bias[None, :, None, None]
+    return full
