# alternative: ||q||^2 + ||g||^2 - 2 q.g with a matrix product, then a stable sort
# cell: nearest_neighbors
@@
-    differences = queries[:, None, :] - gallery[None, :, :]  # [M, G, D]
-    squared = (differences**2).sum(dim=2)  # [M, G]; the square root would not change the order
+    squared = (queries**2).sum(1, keepdim=True) + (gallery**2).sum(1)[None, :] - 2 * queries @ gallery.T
