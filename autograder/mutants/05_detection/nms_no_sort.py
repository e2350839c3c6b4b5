# mutant: visits the boxes in index order instead of by decreasing score
# cell: nms
# fails: test_nms test_batched_nms
@@
-    ranked = torch.sort(scores, descending=True, stable=True).indices
+    ranked = torch.arange(len(scores))
