# mutant: plain dropout without the 1 / (1 - p) scaling of the kept entries
# cell: dropout_forward
# fails: test_dropout_train
@@
-    return x * keep / (1.0 - p)
+    return x * keep
