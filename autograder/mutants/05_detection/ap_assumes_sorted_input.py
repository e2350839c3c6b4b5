# mutant: assumes the detections are already ranked by score
# cell: average_precision
# fails: test_average_precision
@@
-    ranking = torch.sort(scores, descending=True, stable=True).indices
+    ranking = torch.arange(len(scores))
