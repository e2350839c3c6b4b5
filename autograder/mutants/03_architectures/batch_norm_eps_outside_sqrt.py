# mutant: eps added outside the square root, sqrt(var) + eps instead of sqrt(var + eps)
# cell: batch_norm_forward
# fails: test_batch_norm_train test_batch_norm_eval
@@
-    out = (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
+    out = (x - mean.reshape(shape)) / (torch.sqrt(var.reshape(shape)) + eps)
