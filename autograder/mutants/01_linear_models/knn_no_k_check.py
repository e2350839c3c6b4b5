# mutant: no check of k (k > N silently uses all points)
# cell: knn_predict
# fails: test_knn_predict
@@
-    n = train_x.shape[0]
-    if not 1 <= k <= n:
-        raise ValueError(f"k must be between 1 and the number of training points {n}, got {k}")
@@
-    neighbour_labels = train_y[nearest]  # [M, k]
-    num_classes = int(train_y.max()) + 1
-    votes = F.one_hot(neighbour_labels, num_classes).sum(dim=1)  # [M, C]
+    votes = F.one_hot(train_y[nearest], int(train_y.max()) + 1).sum(dim=1)
