# mutant: turns on requires_grad of the caller's images instead of a copy
# cell: saliency_map
# fails: test_saliency_map
@@
-    x = images.detach().clone().requires_grad_(True)
+    x = images.requires_grad_(True)
