# mutant: recall relative to the objects found, not to all ground-truth objects
# cell: average_precision
# fails: test_average_precision
@@
-    recall = hits / num_ground_truth
+    recall = hits / max(float(hits[-1]), 1.0) if len(hits) else hits
