# mutant: sorts by increasing score and reverses, so equal scores are taken higher index first
# cell: nms
# fails: test_nms
@@
-    ranked = torch.sort(scores, descending=True, stable=True).indices
+    ranked = torch.sort(scores, stable=True).indices.flip(0)
