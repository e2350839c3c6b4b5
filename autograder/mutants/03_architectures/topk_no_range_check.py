# mutant: no ValueError for k out of range
# cell: topk_accuracy
# fails: test_topk_errors
@@
-    if not 1 <= k <= num_classes:
-        raise ValueError(f"k must be in 1..{num_classes}, got {k}")
+    k = max(k, 0)
