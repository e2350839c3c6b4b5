# mutant: rounds to the nearest bin edge instead of taking the floor
# cell: ab_to_bin
# fails: test_ab_to_bin
@@
-    index = torch.floor((ab + ab_max) / grid_size).long().clamp(0, n - 1)  # [N, 2, H, W]
+    index = torch.round((ab + ab_max) / grid_size).long().clamp(0, n - 1)  # [N, 2, H, W]
