# mutant: lets k + 1 neighbours vote
# cell: knn_predict
# fails: test_knn_predict
@@
-    nearest = similarity.topk(k, dim=1).indices  # [M, k]
+    nearest = similarity.topk(min(k + 1, similarity.shape[1]), dim=1).indices  # [M, k + 1]
