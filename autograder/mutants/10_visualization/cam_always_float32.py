# mutant: converts the result to float32
# cell: class_activation_map
# fails: test_class_activation_map
@@
-    return (weights[:, :, None, None] * features).sum(dim=1)
+    return (weights[:, :, None, None] * features).sum(dim=1).float()
