# mutant: the lecture's p used as PyTorch's momentum: old statistics get weight momentum
# cell: batch_norm_forward
# fails: test_batch_norm_train
@@
-            running_mean.mul_(1 - momentum).add_(momentum * mean.detach())
-            running_var.mul_(1 - momentum).add_(momentum * var.detach() * m / (m - 1))
+            running_mean.mul_(momentum).add_((1 - momentum) * mean.detach())
+            running_var.mul_(momentum).add_((1 - momentum) * var.detach() * m / (m - 1))
