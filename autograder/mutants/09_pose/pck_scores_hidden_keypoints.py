# mutant: scores every keypoint, visible or not
# cell: pck
# fails: test_pck
@@
-    visible = target[..., 2] > 0
+    visible = target[..., 2] >= 0
