# mutant: forgets to divide the weights by their sum
# cell: decode_heatmaps
# fails: test_soft_argmax
@@
-    weights = (weights / weights.sum(dim=-1, keepdim=True)).reshape(batch, num_kp, height, width)
+    weights = weights.reshape(batch, num_kp, height, width)
