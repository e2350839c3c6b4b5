# mutant: does not clamp negative source coordinates at the border (extrapolates instead)
# cell: bilinear
# fails: test_bilinear
@@
-            src = ((i + 0.5) / scale - 0.5).clamp(min=0)
-        lo = src.floor().long().clamp(max=n_in - 1)
+            src = (i + 0.5) / scale - 0.5
+        lo = src.floor().long().clamp(min=0, max=n_in - 1)
