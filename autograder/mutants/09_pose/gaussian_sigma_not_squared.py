# mutant: divides by 2 sigma instead of 2 sigma squared
# cell: gaussian_heatmaps
# fails: test_gaussian_heatmaps
@@
-    along_x = torch.exp(-((cols[None, :] - keypoints[:, 0:1]) ** 2) / (2 * sigma**2))  # [K, W]
-    along_y = torch.exp(-((rows[None, :] - keypoints[:, 1:2]) ** 2) / (2 * sigma**2))  # [K, H]
+    along_x = torch.exp(-((cols[None, :] - keypoints[:, 0:1]) ** 2) / (2 * sigma))  # [K, W]
+    along_y = torch.exp(-((rows[None, :] - keypoints[:, 1:2]) ** 2) / (2 * sigma))  # [K, H]
