# mutant: the cube root also near black (no linear branch)
# cell: rgb_to_lab
# fails: test_rgb_to_lab
@@
-    f = torch.where(xyz > 0.008856, xyz.clamp(min=0) ** (1 / 3), 7.787 * xyz + 16 / 116)
+    f = xyz.clamp(min=0) ** (1 / 3)
