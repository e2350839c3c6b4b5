# mutant: ties go to the last maximum in row-major order
# cell: decode_heatmaps
# fails: test_argmax_keypoints
@@
-    index = heatmaps.reshape(batch, num_kp, height * width).argmax(dim=-1)  # [B, K], first maximum
+    index = height * width - 1 - heatmaps.reshape(batch, num_kp, height * width).flip(-1).argmax(dim=-1)
