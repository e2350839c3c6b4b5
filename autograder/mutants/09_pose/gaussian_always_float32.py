# mutant: builds the maps in float32 whatever the keypoints' dtype
# cell: gaussian_heatmaps
# fails: test_gaussian_heatmaps
@@
-    return along_y[:, :, None] * along_x[:, None, :]  # [K, H, W]
+    return (along_y[:, :, None] * along_x[:, None, :]).float()  # [K, H, W]
