# mutant: counts rows along the width and columns along the height
# cell: occlusion_map
# fails: test_occlusion_map
@@
-    rows = (height - patch) // stride + 1
-    cols = (width - patch) // stride + 1
+    rows = (width - patch) // stride + 1
+    cols = (height - patch) // stride + 1
