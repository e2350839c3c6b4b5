# mutant: the square's last position, flush with the border, is never visited
# cell: occlusion_map
# fails: test_occlusion_map
@@
-    rows = (height - patch) // stride + 1
-    cols = (width - patch) // stride + 1
+    rows = (height - patch) // stride
+    cols = (width - patch) // stride
