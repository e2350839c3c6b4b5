# mutant: solves the 2 x 2 system even when it is singular (NaN or inf for flat patches and edges)
# cell: lucas_kanade_patch
# fails: test_lucas_kanade_singular
@@
-    if abs(det) <= eps:
-        return torch.zeros(2, dtype=patch0.dtype)
     return torch.stack([(c * p - b * q) / det, (a * q - b * p) / det])
