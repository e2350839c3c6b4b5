# mutant: returns float64 whatever the dtype of the patches
# cell: lucas_kanade_patch
# fails: test_lucas_kanade_patch
@@
-    return torch.stack([(c * p - b * q) / det, (a * q - b * p) / det])
+    return torch.stack([(c * p - b * q) / det, (a * q - b * p) / det]).double()
