# mutant: counts a hit when k classes score higher
# cell: topk_accuracy
# fails: test_topk_values
@@
-    return float((higher < k).double().mean())
+    return float((higher <= k).double().mean())
