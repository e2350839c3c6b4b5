# mutant: applies a ReLU (that is Grad-CAM's step, not CAM's)
# cell: class_activation_map
# fails: test_class_activation_map
@@
-    return (weights[:, :, None, None] * features).sum(dim=1)
+    return torch.relu((weights[:, :, None, None] * features).sum(dim=1))
