# mutant: a value on a bin edge goes to the bin below
# cell: ab_to_bin
# fails: test_ab_to_bin
@@
-    index = torch.floor((ab + ab_max) / grid_size).long().clamp(0, n - 1)  # [N, 2, H, W]
+    index = (torch.ceil((ab + ab_max) / grid_size).long() - 1).clamp(0, n - 1)  # [N, 2, H, W]
