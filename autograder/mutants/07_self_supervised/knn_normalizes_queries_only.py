# mutant: normalizes the test features but not the training features
# cell: knn_predict
# fails: test_knn_predict
@@
-    similarity = F.normalize(test_features, dim=1) @ F.normalize(train_features, dim=1).T  # [M, N]
+    similarity = F.normalize(test_features, dim=1) @ train_features.T  # [M, N]
