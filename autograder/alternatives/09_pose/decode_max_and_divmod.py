# alternative: max over the flattened map for the index, torch.div and torch.remainder for row and column
# cell: decode_heatmaps
@@
-    index = heatmaps.reshape(batch, num_kp, height * width).argmax(dim=-1)  # [B, K], first maximum
-    rows = index // width
-    cols = index % width
+    index = heatmaps.flatten(start_dim=2).max(dim=-1).indices
+    rows = torch.div(index, width, rounding_mode="floor")
+    cols = torch.remainder(index, width)
