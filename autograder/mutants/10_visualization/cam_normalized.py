# mutant: scales each map to [0, 1] (a display step)
# cell: class_activation_map
# fails: test_class_activation_map
@@
-    return (weights[:, :, None, None] * features).sum(dim=1)
+    maps = (weights[:, :, None, None] * features).sum(dim=1)
+    low = maps.amin(dim=(1, 2), keepdim=True)
+    high = maps.amax(dim=(1, 2), keepdim=True)
+    return (maps - low) / (high - low + 1e-12)
