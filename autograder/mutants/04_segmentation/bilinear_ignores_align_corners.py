# mutant: ignores align_corners (always the default convention)
# cell: bilinear
# fails: test_bilinear
@@
-        if align_corners:
-            src = i * (n_in - 1) / (n_out - 1) if n_out > 1 else torch.zeros_like(i)
-        else:
-            src = ((i + 0.5) / scale - 0.5).clamp(min=0)
+        src = ((i + 0.5) / scale - 0.5).clamp(min=0)
