# mutant: reshapes the image straight into [B, N, C p p] (the values of a patch are not its pixels)
# cell: patchify
# fails: test_patchify
@@
-    x = images.reshape(b, c, h // p, p, w // p, p)  # [B, C, rows, i, cols, j]
-    x = x.permute(0, 2, 4, 1, 3, 5)  # [B, rows, cols, C, i, j]
-    return x.reshape(b, (h // p) * (w // p), c * p * p)
+    return images.reshape(b, (h // p) * (w // p), c * p * p)
