# mutant: normalizes the batch with the unbiased variance
# cell: batch_norm_forward
# fails: test_batch_norm_train
@@
-        var = x.var(dim=dims, unbiased=False)  # [C], biased: normalizes this batch
+        var = x.var(dim=dims, unbiased=True)  # [C], biased: normalizes this batch
@@
-            running_var.mul_(1 - momentum).add_(momentum * var.detach() * m / (m - 1))
+            running_var.mul_(1 - momentum).add_(momentum * var.detach())
