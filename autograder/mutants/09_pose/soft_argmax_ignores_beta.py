# mutant: forgets the inverse temperature
# cell: decode_heatmaps
# fails: test_soft_argmax
@@
-    scores = beta * heatmaps.reshape(batch, num_kp, height * width)  # [B, K, H*W]
+    scores = heatmaps.reshape(batch, num_kp, height * width)  # [B, K, H*W]
