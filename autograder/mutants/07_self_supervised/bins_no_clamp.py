# mutant: values outside [-ab_max, ab_max) are not clamped
# cell: ab_to_bin
# fails: test_ab_to_bin
@@
-    index = torch.floor((ab + ab_max) / grid_size).long().clamp(0, n - 1)  # [N, 2, H, W]
+    index = torch.floor((ab + ab_max) / grid_size).long()  # [N, 2, H, W]
