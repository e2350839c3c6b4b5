# mutant: concatenates the upsampled features first and the skip second
# cell: unet_forward
# fails: test_unet_forward
@@
-        x = torch.cat([skips[i], x], dim=1)  # [N, 2c, 2h, 2w]: skip first
+        x = torch.cat([x, skips[i]], dim=1)  # [N, 2c, 2h, 2w]
