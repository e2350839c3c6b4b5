# mutant: a per-row vote stacked at the end, which fails for an empty test set
# cell: knn_predict
# fails: test_knn_predict
@@
-    votes = F.one_hot(train_labels[nearest], int(train_labels.max()) + 1).sum(dim=1)  # [M, C]
-    return votes.argmax(dim=1)  # the first maximum: the smallest label among ties
+    return torch.stack([torch.bincount(train_labels[row]).argmax() for row in nearest])
