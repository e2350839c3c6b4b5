# mutant: square-root scaling instead of linear
# cell: linear_lr_scaling
# fails: test_scaled_learning_rate
@@
-    return float(base_lr * batch_size / base_batch_size)
+    return float(base_lr * (batch_size / base_batch_size) ** 0.5)
