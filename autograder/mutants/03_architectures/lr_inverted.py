# mutant: learning rate scaled by base_batch / batch
# cell: linear_lr_scaling
# fails: test_scaled_learning_rate
@@
-    return float(base_lr * batch_size / base_batch_size)
+    return float(base_lr * base_batch_size / batch_size)
