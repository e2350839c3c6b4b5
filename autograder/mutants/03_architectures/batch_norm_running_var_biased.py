# mutant: running variance updated with the biased variance
# cell: batch_norm_forward
# fails: test_batch_norm_train
@@
-            running_var.mul_(1 - momentum).add_(momentum * var.detach() * m / (m - 1))
+            running_var.mul_(1 - momentum).add_(momentum * var.detach())
