# mutant: the L1 (Manhattan) distance instead of the Euclidean one
# cell: nearest_neighbors
# fails: test_nearest_neighbors
@@
-    squared = (differences**2).sum(dim=2)  # [M, G]; the square root would not change the order
+    squared = differences.abs().sum(dim=2)
