# mutant: ignores k (top-1 accuracy)
# cell: topk_accuracy
# fails: test_topk_values
@@
-    return float((higher < k).double().mean())
+    return float((higher < 1).double().mean())
