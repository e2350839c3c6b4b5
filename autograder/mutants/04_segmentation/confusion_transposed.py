# mutant: rows are the prediction and columns the target
# cell: confusion
# fails: test_confusion
@@
-        raise ValueError(f"pred and target must have the same shape, got {list(pred.shape)} and {list(target.shape)}")
-    flat = target.reshape(-1).long() * num_classes + pred.reshape(-1).long()  # [P] row-major cell of each pixel
+        raise ValueError("shapes differ")
+    flat = pred.reshape(-1).long() * num_classes + target.reshape(-1).long()
