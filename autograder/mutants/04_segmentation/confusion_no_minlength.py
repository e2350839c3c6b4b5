# mutant: bincount without minlength (breaks when the last classes never occur)
# cell: confusion
# fails: test_confusion
@@
-        raise ValueError(f"pred and target must have the same shape, got {list(pred.shape)} and {list(target.shape)}")
+        raise ValueError("shapes differ")
@@
-    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)
+    counts = torch.bincount(flat)
+    return counts[: num_classes * num_classes].reshape(num_classes, num_classes)
