# mutant: checks that pred and target have the same number of elements instead of the same shape
# cell: confusion
# fails: test_confusion
@@
-    if pred.shape != target.shape:
+    if pred.numel() != target.numel():
