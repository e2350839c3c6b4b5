# mutant: drops in evaluation mode too (the training flag is ignored)
# cell: dropout_forward
# fails: test_dropout_eval
@@
-    if not training or p == 0.0:
+    if p == 0.0:
