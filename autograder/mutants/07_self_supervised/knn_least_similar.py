# mutant: takes the k least similar training features
# cell: knn_predict
# fails: test_knn_predict
@@
-    nearest = similarity.topk(k, dim=1).indices  # [M, k]
+    nearest = similarity.topk(k, dim=1, largest=False).indices  # [M, k]
