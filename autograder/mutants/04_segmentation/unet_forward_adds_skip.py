# mutant: adds the skip (a residual connection) instead of concatenating it
# cell: unet_forward
# fails: test_unet_forward
@@
-        x = torch.cat([skips[i], x], dim=1)  # [N, 2c, 2h, 2w]: skip first
+        x = torch.cat([skips[i] + x, skips[i] + x], dim=1)  # the sum, twice to fit the channels
