# mutant: test mode still normalizes with the batch statistics
# cell: batch_norm_forward
# fails: test_batch_norm_eval
@@
-    if training:
+    if True:
@@
-        if running_mean is not None:  # statistics, not part of the graph: detached values
+        if training and running_mean is not None:
