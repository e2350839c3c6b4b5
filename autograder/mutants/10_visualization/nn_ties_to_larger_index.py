# mutant: equal distances keep the larger gallery index first
# cell: nearest_neighbors
# fails: test_nearest_neighbors
@@
-    return torch.argsort(squared, dim=1, stable=True)[:, :k]
+    order = torch.argsort(squared.flip(1), dim=1, stable=True)
+    return (squared.shape[1] - 1 - order)[:, :k]
