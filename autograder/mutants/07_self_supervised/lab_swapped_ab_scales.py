# mutant: 200 for a and 500 for b
# cell: rgb_to_lab
# fails: test_rgb_to_lab
@@
-    return torch.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], dim=1)
+    return torch.stack([116 * fy - 16, 200 * (fx - fy), 500 * (fy - fz)], dim=1)
