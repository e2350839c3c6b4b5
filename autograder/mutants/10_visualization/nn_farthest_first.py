# mutant: sorts the distances in decreasing order (farthest first)
# cell: nearest_neighbors
# fails: test_nearest_neighbors
@@
-    return torch.argsort(squared, dim=1, stable=True)[:, :k]
+    return torch.argsort(squared, dim=1, descending=True, stable=True)[:, :k]
