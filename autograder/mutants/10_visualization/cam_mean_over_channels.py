# mutant: averages the weighted channels instead of summing them
# cell: class_activation_map
# fails: test_class_activation_map
@@
-    return (weights[:, :, None, None] * features).sum(dim=1)
+    return (weights[:, :, None, None] * features).mean(dim=1)
